"""The one path to a CalDAV server: Basic login, retries, status codes to our errors, XML.

Every request of the CalDAV connector goes through `DavClient`, and this is the only module
that reads a CalDAV server's status codes:

- PROPFIND and REPORT only read, so timeouts, refused connections, 429 and 5xx are retried
  with back-off (exponential with jitter, or Retry-After when the server says, each wait
  capped); what still fails is `CalDavError` (Recoverable): the worker tries again later.
- 401 is `LoginRefused` and 403/404 on the calendar `AccountNeedsPractitioner`: the account
  pauses with the exact `fairwarning auth caldav …` command (or setting) that fixes it.
- A sync-collection token the server no longer accepts (403 `valid-sync-token`, 412, 410)
  is `SyncTokenInvalid`, so the caller can list everything again.
- Answers are parsed with defusedxml: a hostile server cannot expand entities at us.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element

import requests
from defusedxml import ElementTree
from tenacity import RetryCallState, Retrying, retry_if_exception

from worker.errors import AccountNeedsPractitioner, Recoverable

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
CALSERVER = "{http://calendarserver.org/ns/}"
CONNECT_TIMEOUT = 10.0
DEFAULT_TIMEOUT = 30.0
ATTEMPTS = 4
LONGEST_WAIT = 30.0
MAX_REDIRECTS = 5
_TRANSIENT = frozenset({429, 500, 502, 503, 504})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def check_address(url: str) -> str:
    """`url` if it is an https address (or http on this machine); else ValueError saying why."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            f"{url!r} is not a web address; give the server's https:// address, "
            "e.g. https://caldav.icloud.com"
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError(
            f"{url!r} would send your password unencrypted; use https:// "
            "(plain http is accepted only for a server on this machine)"
        )
    return url.strip()


class CalDavError(Recoverable):
    """The server could not be read now; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status in _TRANSIENT


class SyncTokenInvalid(CalDavError):
    """The server no longer accepts the sync-collection token (403 valid-sync-token, 412)."""


class LoginRefused(AccountNeedsPractitioner):
    """The server refused the username and password (HTTP 401)."""


@dataclass(frozen=True)
class Resource:
    """One `response` of a multistatus: its path, status and the properties found (200)."""

    path: str
    status: int
    props: dict[str, Element] = field(default_factory=dict)

    def text(self, name: str) -> str:
        found = self.props.get(name)
        return (found.text or "").strip() if found is not None else ""

    def href(self, name: str) -> str:
        """The first href inside property `name` (current-user-principal and the like)."""
        found = self.props.get(name)
        inner = found.find(f"{DAV}href") if found is not None else None
        return (inner.text or "").strip() if inner is not None else ""


@dataclass(frozen=True)
class Multistatus:
    resources: list[Resource]
    sync_token: str = ""


@dataclass(frozen=True)
class Login:
    """Where and as whom to log in; the password is never shown."""

    url: str
    username: str
    password: str = field(repr=False)


class DavClient:
    """One account's CalDAV server. `fix` is the command that stores a new password.

    `timeout` (seconds) bounds each answer; `sleep` waits between retries (tests pass a
    no-op); `session` may be given to observe or count the requests.
    """

    def __init__(
        self,
        *,
        account: str,
        login: Login,
        fix: str,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.account = account
        self.login = login
        self._fix = fix
        self._timeout = (CONNECT_TIMEOUT, timeout)
        self._sleep = sleep
        self._session = session or requests.Session()

    def propfind(self, url: str, body: str, *, depth: int, follow: bool = False) -> Multistatus:
        """PROPFIND `url`; `follow` follows redirects on the same host (discovery only)."""
        return self._multistatus("PROPFIND", url, body, depth=depth, follow=follow)

    def report(self, url: str, body: str, *, depth: int = 1, sync: bool = False) -> Multistatus:
        """REPORT on `url`; `sync` marks a sync-collection, whose token may be refused."""
        return self._multistatus("REPORT", url, body, depth=depth, sync=sync)

    def _multistatus(self, method: str, url: str, body: str, **options: Any) -> Multistatus:
        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, CalDavError) and e.transient),
            stop=lambda state: state.attempt_number >= ATTEMPTS,
            wait=_wait,
            sleep=self._sleep,
            reraise=True,
        )
        response, final_url = retrying(self._once, method, url, body, **options)
        try:
            return parse_multistatus(response.content, final_url)
        except ValueError as exc:
            raise CalDavError(
                f"the CalDAV server sent an unreadable answer to {method} {_short(url)} ({exc})",
                status=response.status_code,
            ) from None

    def _once(
        self,
        method: str,
        url: str,
        body: str,
        *,
        depth: int,
        follow: bool = False,
        sync: bool = False,
    ) -> tuple[requests.Response, str]:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, url, body, depth)
            location = response.headers.get("Location", "")
            if not (follow and response.status_code in (301, 302, 307, 308) and location):
                break
            url = self._redirect(url, location)
        status = response.status_code
        if status in (200, 207):
            return response, url
        raise self._error(method, url, response, sync)

    def _send(self, method: str, url: str, body: str, depth: int) -> requests.Response:
        try:
            return self._session.request(
                method,
                url,
                data=body.encode("utf-8"),
                headers={"Depth": str(depth), "Content-Type": 'application/xml; charset="utf-8"'},
                auth=(self.login.username, self.login.password),
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            why = "timed out" if isinstance(exc, requests.Timeout) else type(exc).__name__
            raise CalDavError(
                f"the CalDAV server {_host(url)} could not be reached ({why})", status=0
            ) from exc

    def _redirect(self, url: str, location: str) -> str:
        target = urljoin(url, location)
        old, new = urlsplit(url), urlsplit(target)
        if new.hostname != old.hostname or (old.scheme, new.scheme) == ("https", "http"):
            raise CalDavError(
                f"{_short(url)} redirects to {_short(target)}; to send your password there, "
                f"give that address with --url",
                status=0,
            )
        return target

    def _error(self, method: str, url: str, response: requests.Response, sync: bool) -> Exception:
        status = response.status_code
        said = f"HTTP {status} to {method} {_short(url)}"
        if sync and (
            status in (410, 412) or (status == 403 and b"valid-sync-token" in response.content)
        ):
            return SyncTokenInvalid(
                f"the CalDAV server no longer accepts the calendar's sync token ({said})",
                status=status,
            )
        if status == 401:
            return LoginRefused(
                f"the CalDAV server {_host(url)} refused the login {self.login.username!r} for "
                f"account {self.account!r} ({said}): the password was changed or revoked "
                f"(an app-specific password ends when it is revoked or the Apple ID password "
                f"changes); store the current one: run `{self._fix}`",
                account=self.account,
                status=status,
            )
        if status in (403, 404):
            what = "may not read" if status == 403 else "found nothing at"
            return AccountNeedsPractitioner(
                f"the CalDAV server {what} {_short(url)} for {self.login.username!r} "
                f"(account {self.account!r}, {said}): set `url` in its [accounts.calendar] to "
                f"one of the calendars `{self._fix} --list-calendars` shows",
                account=self.account,
                status=status,
            )
        if 300 <= status < 400:
            return AccountNeedsPractitioner(
                f"the calendar moved ({said}) to {response.headers.get('Location', '?')}; "
                f"set `url` in account {self.account!r}'s [accounts.calendar] to the new "
                f"address (`{self._fix} --list-calendars` shows them)",
                account=self.account,
                status=status,
            )
        return CalDavError(
            f"the CalDAV server answered {said}", status=status, retry_after=_retry_after(response)
        )


def parse_multistatus(content: bytes, base: str) -> Multistatus:
    """The responses of a 207 body; hrefs become unquoted paths resolved against `base`."""
    try:
        root = ElementTree.fromstring(content)
    except Exception as exc:  # defusedxml raises parse errors and its own refusals
        raise ValueError(f"not XML: {type(exc).__name__}") from None
    if root.tag != f"{DAV}multistatus":
        raise ValueError(f"a {root.tag} instead of a multistatus")
    resources = []
    for response in root.findall(f"{DAV}response"):
        href = (response.findtext(f"{DAV}href") or "").strip()
        if not href:
            raise ValueError("a response without an href")
        props: dict[str, Element] = {}
        statuses = []
        for propstat in response.findall(f"{DAV}propstat"):
            code = _status_code(propstat.findtext(f"{DAV}status"))
            statuses.append(code)
            found = propstat.find(f"{DAV}prop")
            if code == 200 and found is not None:
                props.update({prop.tag: prop for prop in found})
        own = response.findtext(f"{DAV}status")
        status = _status_code(own) if own else (200 if 200 in statuses else min(statuses or [0]))
        resources.append(Resource(path_of(href, base), status, props))
    return Multistatus(resources, (root.findtext(f"{DAV}sync-token") or "").strip())


def path_of(href: str, base: str) -> str:
    """The unquoted path of `href` (absolute, or relative to `base`)."""
    return unquote(urlsplit(urljoin(base, href)).path)


def href_of(path: str) -> str:
    """`path` quoted for a URL, keeping the characters a path may hold as they are ("@")."""
    return quote(path, safe="/:@!$&'()*+,;=~")


def _status_code(line: str | None) -> int:
    # "HTTP/1.1 404 Not Found"
    parts = (line or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _retry_after(response: requests.Response) -> float | None:
    value = (response.headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, CalDavError) and error.retry_after is not None:
        return min(error.retry_after, LONGEST_WAIT)
    backoff: float = 2 ** (state.attempt_number - 1) + random.uniform(0, 1)
    return min(LONGEST_WAIT, backoff)


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
