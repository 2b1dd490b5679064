"""Google Calendar and Gmail: the calendar source, the sender, and the one-time authorisation.

Imported only when an account uses them, so the Google client libraries load only then.
"""

from connectors.google.calendar import GoogleCalendar
from connectors.google.credentials import describe_credentials
from connectors.google.gmail import GmailSender
from connectors.google.oauth import authorize

__all__ = ["GmailSender", "GoogleCalendar", "authorize", "describe_credentials"]
