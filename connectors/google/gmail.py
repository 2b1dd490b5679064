"""Sending notices through the practitioner's Gmail, once, and saying exactly what happened.

Gmail has no idempotency key, so a send is never repeated here: not by the client library
(`num_retries` would re-POST), not by httplib2 (see `OneAttemptHttp`). Only an answer that
says Gmail did not take the message (throttling, a refused connection) becomes `DEFERRED`;
anything that leaves the message's fate open is `UNKNOWN`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from http.client import HTTPException
from pathlib import Path
from zoneinfo import ZoneInfo

import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

from connectors.google.credentials import TokenFile, reauthorise_command, refresh_failure
from connectors.google.http import (
    RATE_LIMIT_REASONS,
    GoogleAnswer,
    GoogleApi,
    NotSent,
    OneAttemptHttp,
    read_answer,
)
from worker.errors import AccountNeedsPractitioner, Recoverable
from worker.pipeline.sender import Delivery, Outcome

DEFAULT_SEND_TIMEOUT = 30.0
# Google's daily quotas end at midnight Pacific time.
_QUOTA_DAY = ZoneInfo("America/Los_Angeles")
_RETRY_AFTER_IN_MESSAGE = re.compile(r"Retry after (\S+?)(?:\s|$|\))", re.IGNORECASE)
_AUTH_REASONS = {
    "insufficientPermissions",
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
    "accessNotConfigured",
    "SERVICE_DISABLED",
    "authError",
}


class GmailSender:
    """Sends each message with `users.messages.send` as the authorised account; a `Sender`.

    `token_path` is the account's token file (from `fairwarning auth google`); `api_endpoint`
    another Gmail API root (testing, private endpoints). `clock` gives the time that retry
    times are computed from; `timeout` (seconds) limits the one send request.
    """

    def __init__(
        self,
        *,
        account: str,
        token_path: Path,
        api_endpoint: str | None = None,
        clock: Callable[[], datetime],
        timeout: float = DEFAULT_SEND_TIMEOUT,
    ) -> None:
        self._account = account
        self._clock = clock
        self._api = GoogleApi(
            api="gmail",
            tokens=TokenFile(account=account, path=token_path, timeout=timeout),
            api_endpoint=api_endpoint,
            transport=lambda: OneAttemptHttp(timeout=timeout),
        )

    def send(self, message: EmailMessage) -> Delivery:
        """Deliver `message` (recipients are in its headers) and report the outcome.

        Raises `AccountNeedsPractitioner`, naming the command that fixes it, when the
        authorisation no longer works: found before sending, or told by Gmail refusing the
        request. The message was not sent then, so the notice can wait in the queue.
        """
        return self._hand_over(message, drafts=False)

    def draft(self, message: EmailMessage) -> Delivery:
        """Create a draft of `message` with `users.drafts.create` (needs gmail.compose); a
        `Drafter`. Outcomes as for `send`, with DRAFTED in place of SENT."""
        return self._hand_over(message, drafts=True)

    def _hand_over(self, message: EmailMessage, *, drafts: bool) -> Delivery:
        try:
            self._api.tokens.credentials()  # refreshed now, so a failure here sends nothing
        except Recoverable as error:
            return Delivery(Outcome.DEFERRED, detail=f"not sent: {error.message}")
        raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
        with self._api.connected() as (service, http):
            if drafts:
                body = {"message": {"raw": raw}}
                request = service.users().drafts().create(userId="me", body=body)
            else:
                request = service.users().messages().send(userId="me", body={"raw": raw})
            folder = "Drafts" if drafts else "Sent"
            try:
                # Never num_retries: a retried POST can send (or draft) twice.
                answer = request.execute(http=http)
            except HttpError as error:
                return self._refused(read_answer(error), drafts=drafts)
            except RefreshError as error:
                # Only a 401 makes the client refresh mid-request: Gmail did not take it.
                failure = refresh_failure(error, self._account)
                if isinstance(failure, AccountNeedsPractitioner):
                    raise failure from error
                return Delivery(Outcome.DEFERRED, detail=f"not sent: {failure.message}")
            except NotSent as error:
                return Delivery(Outcome.DEFERRED, detail=f"not sent: {error}")
            except TimeoutError as error:
                return _unknown(f"Gmail did not answer in time ({error or 'timed out'})", folder)
            except (OSError, HTTPException, TransportError, httplib2.HttpLib2Error) as error:
                why = f"the connection failed after the message was sent: {error!r}"
                return _unknown(why, folder)
        return _drafted(answer) if drafts else _sent(answer)

    def _refused(self, answer: GoogleAnswer, *, drafts: bool = False) -> Delivery:
        now = self._clock()
        if _is_daily_limit(answer):
            until = _time_in_message(answer.message) or _after(now, answer.retry_after)
            until = until if until and until > now else _next_quota_day(now)
            return Delivery(
                Outcome.DEFERRED,
                detail=f"Gmail's daily sending limit is reached ({answer}); sending paused "
                f"until {until.isoformat(timespec='minutes')}",
                retry_at=until,
                pause_sending=True,
            )
        if answer.status == 429 or (answer.status == 403 and answer.reason in RATE_LIMIT_REASONS):
            return Delivery(
                Outcome.DEFERRED,
                detail=f"Gmail asked to slow down ({answer}); not sent",
                retry_at=_after(now, answer.retry_after),
            )
        if answer.status == 503 and answer.retry_after is not None:
            return Delivery(
                Outcome.DEFERRED,
                detail=f"Gmail is unavailable ({answer}); not sent",
                retry_at=_after(now, answer.retry_after),
            )
        if answer.status >= 500:
            folder = "Drafts" if drafts else "Sent"
            return _unknown(f"Gmail failed while handling the message ({answer})", folder)
        if answer.status == 401 or answer.reason in _AUTH_REASONS:
            # Refused before sending, and every other notice would be refused the same way.
            what = "create drafts (drafts mode needs gmail.compose)" if drafts else "send"
            raise AccountNeedsPractitioner(
                f"Gmail refused to {what} for account {self._account} ({answer}). Check that "
                "the Gmail API is enabled in your Google Cloud project and authorise again with: "
                f"{reauthorise_command(self._account)}",
                account=self._account,
                status=answer.status,
                reason=answer.reason,
            )
        return Delivery(Outcome.REJECTED, detail=f"Gmail refused the message: {answer}")


def _sent(answer: object) -> Delivery:
    if isinstance(answer, dict) and isinstance(answer.get("id"), str) and answer["id"]:
        thread = answer.get("threadId") if isinstance(answer.get("threadId"), str) else ""
        return Delivery(
            Outcome.SENT,
            detail=f"Gmail message {answer['id']} in thread {thread or '(none given)'}",
            provider_id=answer["id"],
        )
    # Gmail answered 200: it took the message, even if its answer was cut short.
    return Delivery(
        Outcome.SENT, detail="Gmail accepted the message but its answer could not be read"
    )


def _drafted(answer: object) -> Delivery:
    if isinstance(answer, dict) and isinstance(answer.get("id"), str) and answer["id"]:
        return Delivery(
            Outcome.DRAFTED,
            detail=f"Gmail draft {answer['id']} in your Drafts folder",
            provider_id=answer["id"],
        )
    return Delivery(
        Outcome.DRAFTED, detail="Gmail created the draft but its answer could not be read"
    )


def _unknown(why: str, folder: str = "Sent") -> Delivery:
    done = "drafted" if folder == "Drafts" else "sent"
    return Delivery(
        Outcome.UNKNOWN,
        detail=f"{why}; it may have been {done}. Look in the {folder} folder before trying again.",
    )


def _is_daily_limit(answer: GoogleAnswer) -> bool:
    return answer.reason == "dailyLimitExceeded" or (
        answer.status in (403, 429) and "mail sending" in answer.message.lower()
    )


def _time_in_message(message: str) -> datetime | None:
    """Gmail names the retry time in its message: "Retry after 2026-11-24T17:41:37.154Z"."""
    found = _RETRY_AFTER_IN_MESSAGE.search(message)
    if found is None:
        return None
    try:
        moment = datetime.fromisoformat(found.group(1).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _after(now: datetime, delay: timedelta | None) -> datetime | None:
    return now + delay if delay is not None else None


def _next_quota_day(now: datetime) -> datetime:
    tomorrow = now.astimezone(_QUOTA_DAY).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), _QUOTA_DAY).astimezone(now.tzinfo)
