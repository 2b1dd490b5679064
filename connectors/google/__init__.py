"""Google Calendar and Gmail: the calendar source, the sender, and the one-time authorisation.

Imported only when an account uses them, so the Google client libraries load only then.
"""

from typing import Any

from connectors.google.calendar import GoogleCalendar
from connectors.google.credentials import describe_credentials
from connectors.google.gmail import GmailSender

__all__ = ["GmailSender", "GoogleCalendar", "authorize", "describe_credentials"]


def authorize(**arguments: Any) -> list[str]:
    """See connectors.google.oauth.authorize. Imported on use: the OAuth flow's libraries
    (oauthlib, requests) cost the running service 8 MB it never needs."""
    from connectors.google.oauth import authorize as run_flow

    return run_flow(**arguments)
