"""Microsoft 365 and Outlook.com: device-code sign-in, Graph calendar delta sync, sending.

Set-up and error meanings for practitioners: the README, "Connecting Microsoft".
"""

from connectors.microsoft.calendar import OutlookCalendar
from connectors.microsoft.http import AccessTokens
from connectors.microsoft.sender import OutlookSender
from connectors.microsoft.signin import describe_credentials, sign_in
from connectors.microsoft.tokens import MicrosoftTokens

__all__ = [
    "AccessTokens",
    "MicrosoftTokens",
    "OutlookCalendar",
    "OutlookSender",
    "describe_credentials",
    "sign_in",
]
