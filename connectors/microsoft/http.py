"""The one path to Microsoft Graph for a mailbox: token, concurrency limit, retries, errors.

Every Graph request of the connector goes through `Graph`, and this is the only module that
reads Graph's status codes and error codes:

- GETs are safe to repeat, so throttling (429, 503), other 5xx and network failures are
  retried with tenacity, waiting as long as Retry-After says (seconds or an HTTP date) or
  else exponentially with jitter, each wait capped; a longer wait ends the attempt as
  `GraphError` (Recoverable), which the worker retries on a later cycle.
- `/me/sendMail` (and `/me/messages`, a draft) has no idempotency key, so it is never
  retried here: its answer becomes a `Delivery`, and only answers proving the message was
  not taken are `DEFERRED`.
- Outlook allows four concurrent requests per mailbox; a semaphore per account keeps the
  calendar and the sender of one account within that, whatever threads run them.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception
from urllib3.exceptions import NewConnectionError

from worker.errors import AccountNeedsPractitioner, Recoverable
from worker.pipeline.sender import Delivery, Outcome

GRAPH_URL = "https://graph.microsoft.com/v1.0"
# (connect, read) seconds; the read part is the account's `timeout` setting.
CONNECT_TIMEOUT = 10.0
DEFAULT_TIMEOUT = 30.0
MAILBOX_CONCURRENCY = 4
ATTEMPTS = 4
LONGEST_WAIT = timedelta(seconds=30)
_TRANSIENT = frozenset({429, 500, 502, 503, 504})
_SYNC_LOST = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
_ACCESS_DENIED = frozenset({"erroraccessdenied", "accessdenied", "authorization_requestdenied"})


class AccessTokens(Protocol):
    """Hands out Graph access tokens for one account (see `MicrosoftTokens`)."""

    def access_token(self, *, force_refresh: bool = False) -> str: ...

    def sign_in_command(self) -> str:
        """The command that signs the account in again (no network)."""
        ...


class GraphError(Recoverable):
    """Graph answered with an error that a later cycle may not see (outage, throttling).

    `status` is the HTTP status (0 when no answer came), `code` Graph's error code and
    `retry_at` when Graph asked us to come back, if it said so.
    """

    def __init__(
        self, message: str, *, status: int, code: str = "", retry_at: datetime | None = None
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.status = status
        self.code = code
        self.retry_at = retry_at

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status in _TRANSIENT


class SyncStateLost(GraphError):
    """The delta token is no longer valid (410, syncStateNotFound, resyncRequired)."""


class Graph:
    """Microsoft Graph as seen by one account's mailbox.

    `tokens` supplies access tokens, `graph_url` is the service root (national clouds differ),
    `clock` turns Retry-After into a time and `sleep` waits between retries of a GET;
    `timeout` (seconds) is the longest wait for an answer, a send's included.
    """

    def __init__(
        self,
        *,
        account: str,
        tokens: AccessTokens,
        graph_url: str = GRAPH_URL,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.account = account
        self._timeout = (CONNECT_TIMEOUT, timeout)
        self.root = graph_url.rstrip("/")
        self._tokens = tokens
        self._clock = clock
        self._sleep = sleep
        self._session = session or requests.Session()
        self._slots = _mailbox_slots(account)
        parts = urlsplit(self.root)
        self._origin = (parts.scheme, parts.netloc.lower())

    def get_json(self, url: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        """The JSON object at `url` (a path under the root, or a Graph nextLink/deltaLink).

        Returns None when `missing_ok` and Graph says the item is not there (404, 410, or
        400 ErrorItemNotFound and the like). Raises `SyncStateLost`, `GraphError`
        (Recoverable) or `AccountNeedsPractitioner` (token refused, permission missing).
        """
        target = self._checked(url)
        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, GraphError) and e.transient),
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self._get_once, target, missing_ok)

    def send_mail(self, body: bytes, *, content_type: str, path: str = "/me/sendMail") -> Delivery:
        """POST /me/sendMail (or `path`: /me/messages makes a draft) once, never retried.

        A token that cannot be had raises `AccountNeedsPractitioner` before anything is
        sent; a token endpoint outage is `DEFERRED` for the same reason."""
        url = f"{self.root}{path}"
        try:
            token = self._tokens.access_token()
            response = self._send("POST", url, token, body=body, content_type=content_type)
            if response.status_code == 401:
                # Graph refuses an unauthenticated request before reading it: safe to repeat.
                token = self._tokens.access_token(force_refresh=True)
                response = self._send("POST", url, token, body=body, content_type=content_type)
        except requests.RequestException as exc:
            return _unanswered_send(exc)
        except AccountNeedsPractitioner:
            raise
        except Recoverable as exc:
            return Delivery(Outcome.DEFERRED, detail=f"no access token: {exc.message}")
        return self._delivery(response, drafts=path != "/me/sendMail")

    def _get_once(self, url: str, missing_ok: bool) -> dict[str, Any] | None:
        try:
            response = self._send("GET", url, self._tokens.access_token())
            if response.status_code == 401:
                response = self._send("GET", url, self._tokens.access_token(force_refresh=True))
        except requests.RequestException as exc:
            raise GraphError(
                f"Microsoft Graph could not be reached ({type(exc).__name__}: {exc})", status=0
            ) from exc
        if missing_ok and _missing(response):
            return None
        if response.status_code >= 300:
            raise self._error(response)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise GraphError(
                f"Microsoft Graph sent an unreadable answer to GET {_short(url)}",
                status=response.status_code,
            )
        return payload

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        *,
        body: bytes | None = None,
        content_type: str = "",
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            # All times in UTC; all-day events are read by date in the practitioner's zone.
            "Prefer": 'outlook.timezone="UTC", odata.maxpagesize=50',
        }
        if content_type:
            headers["Content-Type"] = content_type
        with self._slots:
            return self._session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=self._timeout,
                allow_redirects=False,
            )

    def _checked(self, url: str) -> str:
        """Absolute URL under the Graph root; links elsewhere would receive our token."""
        target = url if "://" in url else f"{self.root}/{url.lstrip('/')}"
        parts = urlsplit(target)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            raise GraphError(
                f"refusing to follow a link outside {self.root}: {_short(target)}", status=0
            )
        return target

    def _error(self, response: requests.Response) -> Exception:
        fault = _Fault.of(response, self._clock())
        status = response.status_code
        if status == 410 or fault.code.lower() in _SYNC_LOST:
            return SyncStateLost(
                f"Graph dropped the calendar's change token ({fault})", status=status
            )
        if status == 401 or (status == 403 and fault.code.lower() in _ACCESS_DENIED):
            return AccountNeedsPractitioner(
                f"Microsoft Graph refused account {self.account!r} ({fault}): sign in again "
                f"and grant Calendars.Read and Mail.Send: run `{self._tokens.sign_in_command()}`",
                account=self.account,
                status=status,
                code=fault.code,
            )
        if status == 404:
            return AccountNeedsPractitioner(
                f"Microsoft Graph found no mailbox or calendar for account {self.account!r} "
                f"({fault}); sign in with the account that holds the calendar: run "
                f"`{self._tokens.sign_in_command()}`",
                account=self.account,
                status=status,
                code=fault.code,
            )
        return GraphError(
            f"Microsoft Graph answered {fault}",
            status=status,
            code=fault.code,
            retry_at=fault.retry_at,
        )

    def _delivery(self, response: requests.Response, *, drafts: bool = False) -> Delivery:
        status = response.status_code
        request_id = response.headers.get("request-id", "")
        if 200 <= status < 300:
            sent = Delivery(Outcome.SENT, detail="accepted", provider_id=request_id)
            return _drafted(response, request_id) if drafts else sent
        fault = _Fault.of(response, self._clock())
        if status == 401 or (status == 403 and fault.code.lower() in _ACCESS_DENIED):
            what, scope = ("create drafts", "Mail.ReadWrite") if drafts else ("send", "Mail.Send")
            raise AccountNeedsPractitioner(
                f"Outlook refused to {what} for account {self.account!r} ({fault}): sign in "
                f"again and grant {scope}: run `{self._tokens.sign_in_command()}`",
                account=self.account,
            )
        if status == 429 or (status == 503 and fault.retry_at is not None):
            return Delivery(Outcome.DEFERRED, detail=str(fault), retry_at=fault.retry_at)
        if 400 <= status < 500:
            return Delivery(Outcome.REJECTED, detail=str(fault))
        where = "been drafted: check Drafts" if drafts else "been sent: check Sent Items"
        return Delivery(Outcome.UNKNOWN, detail=f"{fault}; the message may or may not have {where}")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, GraphError) and error.retry_at is not None:
            return max(0.0, (error.retry_at - self._clock()).total_seconds())
        backoff: float = min(
            LONGEST_WAIT.total_seconds(), 2 ** (state.attempt_number - 1) + _jitter()
        )
        return backoff

    def _stop(self, state: RetryCallState) -> bool:
        """After ATTEMPTS tries, or at once when Graph asks for a longer wait than we allow."""
        if state.attempt_number >= ATTEMPTS:
            return True
        error = state.outcome.exception() if state.outcome else None
        if not isinstance(error, GraphError) or error.retry_at is None:
            return False
        return error.retry_at - self._clock() > LONGEST_WAIT


class _Fault:
    """Graph's error answer: status, `error.code`, `error.message` and Retry-After."""

    def __init__(self, status: int, code: str, message: str, retry_at: datetime | None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.retry_at = retry_at

    @classmethod
    def of(cls, response: requests.Response, now: datetime) -> _Fault:
        code, message = _error_body(response)
        return cls(response.status_code, code, message, retry_at(response.headers, now))

    def __str__(self) -> str:
        text = f"HTTP {self.status}"
        if self.code:
            text += f" {self.code}"
        if self.message:
            text += f": {self.message}"
        return text


def retry_at(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """The time a Retry-After header names: a number of seconds or an HTTP date."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment.astimezone(UTC), now)


def _error_body(response: requests.Response) -> tuple[str, str]:
    """Graph's `error.code` and `error.message`, empty when the body has none."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def _missing(response: requests.Response) -> bool:
    """Whether Graph says the item asked for is not there (gone, deleted, or never was)."""
    if response.status_code in (404, 410):
        return True
    code = _error_body(response)[0].lower()
    return response.status_code == 400 and any(
        word in code for word in ("notfound", "deleted", "invalidid")
    )


def _unanswered_send(exc: requests.RequestException) -> Delivery:
    """A send with no answer: deferred only if the request provably never left."""
    if _never_left(exc):
        return Delivery(
            Outcome.DEFERRED, detail=f"could not connect to Microsoft Graph ({_reason(exc)})"
        )
    return Delivery(
        Outcome.UNKNOWN,
        detail=f"no answer from Microsoft Graph ({_reason(exc)}); the message may or may not "
        "have been sent: check Sent Items",
    )


def _never_left(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout):
        cause = exc.args[0] if exc.args else None
        return isinstance(getattr(cause, "reason", cause), NewConnectionError)
    return False


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return type(exc).__name__


_slots_lock = threading.Lock()
# Process-wide on purpose: the limit is Outlook's, per mailbox, across the account's
# calendar and sender objects.
_slots_by_account: dict[str, threading.BoundedSemaphore] = {}


def _mailbox_slots(account: str) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots_by_account.setdefault(
            account, threading.BoundedSemaphore(MAILBOX_CONCURRENCY)
        )


def _jitter() -> float:
    return random.uniform(0, 1)


def _short(url: str) -> str:
    """A URL without its query, which holds skip and delta tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _drafted(response: requests.Response, request_id: str) -> Delivery:
    made: object = None
    with contextlib.suppress(ValueError):  # an unreadable answer still means 201 Created
        made = response.json()
    draft_id = made.get("id") if isinstance(made, dict) else None
    found = draft_id if isinstance(draft_id, str) and draft_id else request_id
    return Delivery(Outcome.DRAFTED, detail="in your Drafts folder", provider_id=found)
