"""`fairwarning auth caldav`: check a login, find its calendars (RFC 6764 / 4791), store it.

From the address the practitioner gives: the current-user-principal there (or, failing
that, at `/.well-known/caldav`), the principal's calendar-home-set, and the calendars in it
that hold events. Redirects are followed only on the same host; a calendar home the server
names on another https host (iCloud answers with pNN-caldav.icloud.com) is used as named.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from connectors.caldav.credentials import auth_command, save_login
from connectors.caldav.http import (
    CALDAV,
    DAV,
    DEFAULT_TIMEOUT,
    CalDavError,
    DavClient,
    Login,
    LoginRefused,
    check_address,
    href_of,
)
from worker.errors import AccountNeedsPractitioner, FairWarningError

_PRINCIPAL = '<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>'
_HOME = (
    '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:prop><C:calendar-home-set/></D:prop></D:propfind>"
)
_CALENDARS = (
    '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>'
    "<D:resourcetype/><D:displayname/><C:supported-calendar-component-set/>"
    "</D:prop></D:propfind>"
)


class DiscoveryError(FairWarningError):
    """The address, login or server does not lead to any calendar; the message says why."""


@dataclass(frozen=True)
class FoundCalendar:
    """A calendar that holds events: its display name and the address to put in `url`."""

    name: str
    url: str


def authorize(
    *,
    account: str,
    url: str,
    username: str,
    password: str,
    login_path: Path,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
) -> list[FoundCalendar]:
    """Log in at `url`, find the calendars, then store the login; returns the calendars.

    Nothing is stored unless the server accepted the login and showed a calendar home.
    Raises `DiscoveryError` saying what to change.
    """
    try:
        address = check_address(url)
    except ValueError as exc:
        raise DiscoveryError(f"--url {exc}") from None
    login = Login(address, username, password)
    client = DavClient(
        account=account,
        login=login,
        fix=auth_command(account, login),
        timeout=timeout,
        sleep=sleep,
        session=session,
    )
    try:
        calendars = discover(client, address)
    except LoginRefused:
        raise DiscoveryError(
            f"{urlsplit(address).netloc} refused the username {username!r} with that password "
            "(HTTP 401). iCloud needs an app-specific password (appleid.apple.com → Sign-In and "
            "Security → App-Specific Passwords) and your Apple ID email as username; Fastmail "
            "an app password with CalDAV access; Nextcloud an app password (Settings → "
            "Security) if two-factor login is on."
        ) from None
    except (CalDavError, AccountNeedsPractitioner) as exc:
        raise DiscoveryError(f"could not find calendars at {address}: {exc.message}") from None
    try:
        save_login(login_path, login)
    except OSError as exc:
        raise DiscoveryError(f"cannot write {login_path}: {exc.strerror or exc}") from None
    return calendars


def discover(client: DavClient, url: str) -> list[FoundCalendar]:
    """The calendars holding events that the login can see, starting from `url`."""
    principal = _principal(client, url)
    homes = client.propfind(principal, _HOME, depth=0, follow=True)
    home = homes.resources[0].href(f"{CALDAV}calendar-home-set") if homes.resources else ""
    if not home:
        raise DiscoveryError(
            f"{principal} names no calendar home (calendar-home-set): the server at {url} "
            "does not seem to offer CalDAV calendars for this login"
        )
    home_url = urljoin(principal, home)
    try:
        home_url = check_address(home_url)
    except ValueError as exc:
        raise DiscoveryError(f"the calendar home {exc}") from None
    listed = client.propfind(home_url, _CALENDARS, depth=1, follow=True)
    found = []
    for item in listed.resources:
        kind = item.props.get(f"{DAV}resourcetype")
        if kind is None or kind.find(f"{CALDAV}calendar") is None:
            continue
        components = item.props.get(f"{CALDAV}supported-calendar-component-set")
        names = {c.get("name", "").upper() for c in components} if components is not None else set()
        if names and "VEVENT" not in names:
            continue  # a task list or journal
        address = urljoin(home_url, href_of(item.path))
        found.append(FoundCalendar(item.text(f"{DAV}displayname") or item.path, address))
    return found


def _principal(client: DavClient, url: str) -> str:
    tried = []
    for start in (url, urljoin(url, "/.well-known/caldav")):
        if start in tried:
            continue
        tried.append(start)
        try:
            answer = client.propfind(start, _PRINCIPAL, depth=0, follow=True)
        except AccountNeedsPractitioner as exc:
            if isinstance(exc, LoginRefused):
                raise
            continue  # 403/404: not a DAV resource here; try the well-known address
        except CalDavError as exc:
            if exc.transient:
                raise
            continue
        href = answer.resources[0].href(f"{DAV}current-user-principal") if answer.resources else ""
        if href:
            return urljoin(start, href)
    raise DiscoveryError(
        f"no CalDAV service answered at {' or '.join(tried)}: check the address (iCloud: "
        "https://caldav.icloud.com, Fastmail: https://caldav.fastmail.com, Nextcloud: "
        "https://YOUR-SERVER/remote.php/dav)"
    )
