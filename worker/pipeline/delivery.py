"""Delivery: turn due outbox rows into sent mail, exactly once or visibly `unknown`.

Order per notice: quiet hours → render → commit `sending` → send → record the outcome.
A notice whose template fails stays queued (and is reported) so fixing the template sends it.
In drafts mode the same claim precedes `draft` instead of `send`, and the outcome is
`drafted`: the notice waits in the practitioner's Drafts folder and reached no client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, runtime_checkable

from worker.config import Policy, Practitioner
from worker.errors import AccountNeedsPractitioner, TemplateError
from worker.notices.quiet import quiet_until
from worker.notices.templates import TemplateLibrary
from worker.pipeline.compose import compose, stored_facts
from worker.pipeline.sender import Delivery, Drafter, Outcome, Sender
from worker.store import outbox, sync_state
from worker.store.audit import audit
from worker.store.connection import Connection
from worker.store.db import transaction, utc_text
from worker.store.outbox import NoticeRow

DEFERRAL = timedelta(minutes=5)
SENDING_PAUSE = timedelta(hours=1)
PAUSED = "paused"


@runtime_checkable
class WritesFiles(Protocol):
    """A sender that writes each notice into a folder instead of mailing it: the file sender,
    and every account's sender in dry-run mode. What it "sends" reaches no client."""

    folder: Path


@dataclass(frozen=True, slots=True)
class Sent:
    """What happened to one notice in this cycle.

    `outcome` is the outbox state (`sent` for a file written, too); `written_to` is the file
    when the sender writes files rather than mail, and `simulated` marks a dry-run notice:
    together they say whether anything reached a client.
    """

    ref: str
    kind: str
    client_email: str
    session_key: str
    outcome: str
    detail: str = ""
    written_to: str = ""
    prepaid_balance: int | None = None
    simulated: bool = False
    warning: str = ""


@dataclass(frozen=True, slots=True)
class Post:
    """Everything needed to deliver one account's notices."""

    db: Connection
    account: str
    sender: Sender
    templates: TemplateLibrary
    practitioner: Practitioner
    policy: Policy


def deliver_due(post: Post, now: datetime) -> list[Sent]:
    """Send every queued notice whose time has come, unless sending is paused."""
    with transaction(post.db):
        if sync_state.account_state(post.db, post.account).sending_paused(now):
            return []
        due = outbox.due(post.db, post.account, now)
    results = []
    for row in due:
        result = _deliver(post, row, now)
        if result is None:
            continue
        results.append(result)
        if result.outcome == PAUSED:
            break
    return results


@dataclass(frozen=True, slots=True)
class Departure:
    """When a waiting notice will really go out, and what keeps it until then."""

    account: str
    ref: str
    kind: str
    client_email: str
    at: datetime
    waits_for: str = ""  # empty when it is due now
    simulated: bool = False


def departure(db: Connection, decision_id: int, policy: Policy, now: datetime) -> Departure | None:
    """When the notice for case `decision_id` leaves, as `deliver_due` will decide it.

    None unless the notice waits in the outbox (`queued`). Its earliest moment is its
    `not_before`, then the end of a sending pause, then the end of quiet hours in the client's
    zone at that moment. A cycle still has to run then: the service's next poll, or the
    practitioner's next `run --once`.
    """
    notice = outbox.by_decision(db, decision_id)
    if notice is None or notice.state != "queued":
        return None
    at, waits_for = max(now, notice.not_before), ""
    if notice.not_before > now:
        waits_for = "its hold"
    with transaction(db):
        account = sync_state.account_state(db, notice.account)
    if account.sending_paused_until is not None and account.sending_paused(at):
        at = account.sending_paused_until
        waits_for = f"sending paused: {account.sending_pause_reason}"
    quiet = policy.quiet_hours
    zone = stored_facts(notice).time_zone
    until = quiet_until(at, quiet.start, quiet.end, zone) if quiet is not None else None
    if until is not None:
        at, waits_for = until, f"quiet hours in {zone}"
    return Departure(
        notice.account,
        notice.ref,
        notice.kind,
        notice.client_email,
        at,
        waits_for,
        notice.simulated,
    )


def _deliver(post: Post, row: NoticeRow, now: datetime) -> Sent | None:
    facts = stored_facts(row)
    quiet = post.policy.quiet_hours
    if quiet is not None:
        until = quiet_until(now, quiet.start, quiet.end, facts.time_zone)
        if until is not None:
            with transaction(post.db):
                outbox.postpone(post.db, row.id, until, f"quiet hours in {facts.time_zone}")
            return None
    try:
        message = compose(post.db, row, post.templates, post.practitioner, post.policy, now)
    except TemplateError as exc:
        with transaction(post.db):
            outbox.set_state(post.db, row.id, "queued", now, detail=f"not rendered: {exc}")
            audit(post.db, now, post.account, "template problem", f"{row.ref}: {exc}")
        return _stayed(row, "queued", f"{exc}")
    except ValueError as exc:
        # A bad address will not get better by retrying: it waits for the practitioner.
        return _record(post, row, Delivery(Outcome.REJECTED, detail=f"not sendable: {exc}"), now)
    if not outbox.claim(post.db, row.id, now):
        return None
    try:
        delivery = _hand_over(post, message)
    except AccountNeedsPractitioner as exc:
        # Senders raise this only when the message was not taken: no token could be had, or
        # the provider refused the credentials (401, missing scope). Safe to requeue.
        until = now + SENDING_PAUSE
        with transaction(post.db):
            outbox.set_state(post.db, row.id, "queued", now, detail=exc.message)
            sync_state.pause_sending(post.db, post.account, until, exc.message)
            audit(post.db, now, post.account, "sending paused", exc.message)
        return _stayed(row, PAUSED, exc.message)
    except Exception as exc:  # a crash mid-send must still be recorded as unknown
        delivery = Delivery(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}")
    return _record(post, row, delivery, now)


def _hand_over(post: Post, message: EmailMessage) -> Delivery:
    """Send, or in drafts mode put the notice in the practitioner's Drafts folder."""
    if post.policy.mode != "drafts":
        return post.sender.send(message)
    if not isinstance(post.sender, Drafter):  # the configuration refuses this; kept safe
        raise AccountNeedsPractitioner(
            f'account {post.account}\'s sender cannot make drafts: use provider = "gmail", '
            '"outlook" or "smtp", or set policy.mode = "review"'
        )
    return post.sender.draft(message)


def _record(post: Post, row: NoticeRow, delivery: Delivery, now: datetime) -> Sent:
    state = str(delivery.outcome)
    changes = {"detail": delivery.detail, "provider_id": delivery.provider_id}
    retry_at = delivery.retry_at or now + DEFERRAL
    if delivery.outcome is Outcome.DEFERRED:
        state = "queued"
        changes["not_before"] = utc_text(retry_at)
    written_to = ""
    if delivery.outcome is Outcome.SENT and isinstance(post.sender, WritesFiles):
        written_to = changes["written_to"] = delivery.provider_id
    if delivery.warning:
        changes["warning"] = delivery.warning
    with transaction(post.db):
        outbox.set_state(post.db, row.id, state, now, **changes)
        where = f", written to {written_to}" if written_to else ""
        what = f"{row.ref} to {row.client_email}{where}" + (" (dry-run)" if row.simulated else "")
        audit(post.db, now, post.account, f"notice {state}", what)
        if delivery.warning:
            audit(post.db, now, post.account, "notice warning", f"{row.ref}: {delivery.warning}")
        if delivery.pause_sending:
            reason = f"sending paused by the provider until {utc_text(retry_at)}: {delivery.detail}"
            sync_state.pause_sending(post.db, post.account, retry_at, reason)
            audit(post.db, now, post.account, "sending paused", reason)
            state = PAUSED
    return Sent(
        row.ref,
        row.kind,
        row.client_email,
        row.session_key,
        state,
        delivery.detail,
        written_to,
        row.facts.get("prepaid_balance"),
        row.simulated,
        delivery.warning,
    )


def _stayed(row: NoticeRow, outcome: str, detail: str) -> Sent:
    """A notice that did not leave in this cycle and stays queued."""
    return Sent(
        row.ref,
        row.kind,
        row.client_email,
        row.session_key,
        outcome,
        detail,
        simulated=row.simulated,
    )
