"""CalDAV calendars (iCloud, Fastmail, Nextcloud, any RFC 4791 server) with a stored login."""

from connectors.caldav.calendar import CalDavCalendar
from connectors.caldav.credentials import auth_command, describe_login
from connectors.caldav.discovery import DiscoveryError, FoundCalendar, authorize
from connectors.caldav.http import check_address

__all__ = [
    "CalDavCalendar",
    "DiscoveryError",
    "FoundCalendar",
    "auth_command",
    "authorize",
    "check_address",
    "describe_login",
]
