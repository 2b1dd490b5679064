"""The one road to Google: API clients, retries for safe reads, and what Google's errors mean.

Reads (`events.list`) are retried here with exponential backoff and jitter, honouring
Retry-After. Sends are never retried, and go through `OneAttemptHttp`: httplib2 re-sends a
request whose answer was lost (it takes that for a stale keep-alive connection), which for
`messages.send` would be a second email.
"""

from __future__ import annotations

import email.utils
import functools
import json
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Any

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
import tenacity
from google.auth.exceptions import RefreshError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connectors.google.credentials import (
    REFRESH_ERRORS,
    TokenFile,
    reauthorise_command,
    refresh_failure,
)
from worker.errors import AccountNeedsPractitioner, FairWarningError, Recoverable

DEFAULT_TIMEOUT = 30.0

# Where each API lives under its root; `api_endpoint` names only the root.
_SERVICE_PATHS = {"calendar": "calendar/v3/", "gmail": ""}
_VERSIONS = {"calendar": "v3", "gmail": "v1"}
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
_NEEDS_PRACTITIONER = {
    "insufficientPermissions": "the authorisation lacks a needed scope; authorise again",
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT": "the authorisation lacks a needed scope; authorise again",
    "accessNotConfigured": "enable the API in your Google Cloud project",
    "SERVICE_DISABLED": "enable the API in your Google Cloud project",
    "forbidden": "the account may not use this calendar or mailbox",
}


@dataclass(frozen=True, slots=True)
class GoogleAnswer:
    """An error answer from a Google API: status, `error.errors[0].reason`, message, retry time."""

    status: int
    reason: str
    message: str
    retry_after: timedelta | None = None

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.reason or '-'}: {self.message or '(no message)'}"

    @property
    def throttled(self) -> bool:
        """Google asked to slow down, or is briefly unavailable: it did not do the request."""
        return self.status in (429, 503) or (
            self.status == 403 and self.reason in RATE_LIMIT_REASONS
        )


def read_answer(error: HttpError) -> GoogleAnswer:
    """Read status and reason from the JSON body (`HttpError.reason` is only prose)."""
    status = int(error.resp.status)
    try:
        body = json.loads(error.content)
    except (TypeError, ValueError):
        body = None
    problem = body.get("error") if isinstance(body, dict) else None
    reason = message = ""
    if isinstance(problem, dict):
        message = str(problem.get("message") or "")
        first = problem.get("errors")
        if isinstance(first, list) and first and isinstance(first[0], dict):
            reason = str(first[0].get("reason") or "")
            message = message or str(first[0].get("message") or "")
        reason = reason or _error_info_reason(problem) or str(problem.get("status") or "")
    elif isinstance(problem, str):
        reason = problem
    if not message:
        message = error.content[:200].decode("utf-8", "replace") if error.content else ""
    return GoogleAnswer(status, reason, message, _retry_after(error.resp.get("retry-after")))


@dataclass(frozen=True)
class Backoff:
    """How reads are retried: attempts in all, the first wait and the longest (seconds)."""

    attempts: int = 4
    first_wait: float = 1.0
    max_wait: float = 20.0
    sleep: Callable[[float], None] = field(default=tenacity.nap.sleep, compare=False)


class NotSent(OSError):
    """The connection failed before any byte of the request was written."""


class OneAttemptHttp:
    """An httplib2-compatible transport that puts each request on the wire at most once.

    A failure while connecting raises `NotSent`; a failure after the request began to be
    written raises the original error, since the request may have been received.
    """

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> tuple[httplib2.Response, bytes]:
        """`httplib2.Http.request`, on a fresh connection, without any retry or redirect."""
        parts = urllib.parse.urlsplit(uri)
        host, port = parts.hostname or "", parts.port
        connection: HTTPConnection
        if parts.scheme == "https":
            connection = HTTPSConnection(
                host, port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = HTTPConnection(host, port, timeout=self.timeout)
        # No compressed answers: this transport does not decode them.
        wanted = {k: v for k, v in (headers or {}).items() if k.lower() != "accept-encoding"}
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            try:
                connection.connect()
            except OSError as error:
                raise NotSent(f"could not connect to {host}: {error}") from error
            connection.request(method, path or "/", body=body, headers=wanted)
            answer = connection.getresponse()
            return httplib2.Response(answer), answer.read()
        finally:
            connection.close()

    def close(self) -> None:
        """Nothing to close: every request had its own connection."""


def post_form(url: str, fields: dict[str, str], *, timeout: float) -> tuple[int, object]:
    """POST a form (the OAuth token endpoint) and return the status and the decoded JSON.

    The answer is None when it is not JSON; network failures raise `Recoverable`.
    """
    http = httplib2.Http(timeout=timeout)
    try:
        response, content = http.request(
            url,
            "POST",
            body=urllib.parse.urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    except (OSError, HTTPException, httplib2.HttpLib2Error) as error:
        raise Recoverable(f"Could not reach Google's token endpoint ({error}).") from error
    finally:
        http.close()
    try:
        return int(response.status), json.loads(content)
    except ValueError:
        return int(response.status), None


# Pollers run on several threads: without this, their first polls would each build a client.
_building = threading.RLock()


def api_client(api: str, endpoint: str | None) -> Any:
    """The API client, built once per process and shared by every account and thread.

    Building it costs far more than an idle poll's request, and each copy holds the parsed
    discovery document (about half a megabyte), so one per account would not scale. It is
    built on a placeholder transport: every call passes its own authorised one to
    `execute(http=...)`, so credentials and connections are never shared. That is also what
    makes it safe from several threads: httplib2's `Http` is not thread-safe, but a request
    built from the shared client holds only its own URL, headers and body, and every
    `execute` gets a transport of its own (`GoogleApi.connected`).
    """
    with _building:
        return _api_client(api, endpoint)


@functools.lru_cache(maxsize=8)
def _api_client(api: str, endpoint: str | None) -> Any:
    options = None
    if endpoint:
        options = {"api_endpoint": endpoint.rstrip("/") + "/" + _SERVICE_PATHS[api]}
    return build(
        api,
        _VERSIONS[api],
        http=httplib2.Http(),
        client_options=options,
        static_discovery=True,
        cache_discovery=False,
    )


def api_resource(api: str, endpoint: str | None, name: str) -> Any:
    """A resource of the shared client (`events`, `users`): generating one builds its methods
    and their documentation, which cost more than an idle poll's request."""
    with _building:
        return _api_resource(api, endpoint, name)


@functools.lru_cache(maxsize=8)
def _api_resource(api: str, endpoint: str | None, name: str) -> Any:
    return getattr(api_client(api, endpoint), name)()


class GoogleApi:
    """One Google API for one account: the client built on fresh credentials, calls mapped."""

    def __init__(
        self,
        *,
        api: str,
        tokens: TokenFile,
        api_endpoint: str | None,
        transport: Callable[[], Any],
        backoff: Backoff | None = None,
    ) -> None:
        self.api = api
        self.tokens = tokens
        self._endpoint = api_endpoint
        self._transport = transport
        self._backoff = backoff or Backoff()

    @property
    def account(self) -> str:
        """The account these calls are for."""
        return self.tokens.account

    def _service(self) -> Any:
        return api_client(self.api, self._endpoint)

    def resource(self, name: str) -> Any:
        """A shared resource of this API (`events` for Calendar)."""
        return api_resource(self.api, self._endpoint, name)

    @contextmanager
    def connected(self) -> Iterator[tuple[Any, Any]]:
        """The API client and an authorised transport on fresh credentials.

        Requests must be executed with `execute(http=transport)`. On the way out a token
        refreshed meanwhile is saved and the connection closed.
        """
        credentials = self.tokens.credentials()
        transport = self._transport()
        try:
            yield self._service(), google_auth_httplib2.AuthorizedHttp(credentials, http=transport)
        finally:
            self.tokens.keep(credentials)
            transport.close()

    def read(self, call: Callable[[Any], Any], *, what: str) -> object:
        """Run a read (`call(service)` returns an unexecuted request), retrying what is safe.

        Retries throttling answers (429, 503, 403 rate limits), other 5xx and network
        failures, waiting at least as long as Google's Retry-After. Errors are mapped to
        `AccountNeedsPractitioner` or `Recoverable` (with `status` and `reason` fields).
        """
        backoff = self._backoff
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(backoff.attempts),
            wait=_Wait(backoff),
            retry=tenacity.retry_if_exception(lambda e: _worth_retrying(e, backoff)),
            sleep=backoff.sleep,
            reraise=True,
        )
        with self.connected() as (service, http):
            try:
                return retrying(lambda: call(service).execute(http=http))
            except HttpError as error:
                raise self.refused(read_answer(error), what) from error
            except REFRESH_ERRORS as error:
                raise _failure(error, self.account, what) from error

    def refused(self, answer: GoogleAnswer, what: str) -> FairWarningError:
        """The worker error for an error answer to a read."""
        fields = {"account": self.account, "status": answer.status, "reason": answer.reason}
        if answer.status == 404:
            return AccountNeedsPractitioner(
                f"Google found nothing for {what} of account {self.account} ({answer}): check "
                "`calendar_id` in the account's calendar section.",
                **fields,
            )
        if answer.status == 401 or answer.reason in _NEEDS_PRACTITIONER:
            fix = _NEEDS_PRACTITIONER.get(answer.reason, "authorise again")
            return AccountNeedsPractitioner(
                f"Google refused {what} for account {self.account} ({answer}): {fix}. "
                f"To authorise again: {reauthorise_command(self.account)}",
                **fields,
            )
        return Recoverable(
            f"Google refused {what} for account {self.account} ({answer}); trying again next "
            "cycle.",
            **fields,
        )


def _failure(error: Exception, account: str, what: str) -> FairWarningError:
    if isinstance(error, RefreshError):
        return refresh_failure(error, account)
    return Recoverable(
        f"Could not reach Google for {what} of account {account} "
        f"({type(error).__name__}: {error}); trying again next cycle.",
        account=account,
    )


def _worth_retrying(error: BaseException, backoff: Backoff) -> bool:
    if isinstance(error, HttpError):
        answer = read_answer(error)
        too_long = answer.retry_after is not None and (
            answer.retry_after.total_seconds() > backoff.max_wait
        )
        return (answer.throttled or answer.status >= 500) and not too_long
    return isinstance(error, (OSError, HTTPException, httplib2.HttpLib2Error))


class _Wait(tenacity.wait.wait_base):
    """Exponential backoff with jitter, never shorter than Google's Retry-After, capped."""

    def __init__(self, backoff: Backoff) -> None:
        self._backoff = backoff
        self._exponential = tenacity.wait_exponential(
            multiplier=backoff.first_wait, max=backoff.max_wait
        ) + tenacity.wait_random(0, backoff.first_wait)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = self._exponential(retry_state)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, HttpError):
            asked = read_answer(error).retry_after
            if asked is not None:
                wait = max(wait, asked.total_seconds())
        return min(wait, self._backoff.max_wait)


def _retry_after(value: object) -> timedelta | None:
    """Retry-After as a delay: seconds, or an HTTP date."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment - datetime.now(UTC), timedelta(0))


def _error_info_reason(problem: dict[str, Any]) -> str:
    details = problem.get("details")
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("ErrorInfo"):
            return str(detail.get("reason") or "")
    return ""
