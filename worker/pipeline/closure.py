"""A formal close: ending a working relationship, deliberately, with a courteous notice.

Never automatic. `fairwarning close-client EMAIL --reason … --effective DATE` previews the
`closure` notice (reason, effective date, what is outstanding, how to reach the practitioner)
and with `--send` queues it once (through the outbox, so the account's sender, the hold,
quiet hours and the history apply) and records the closure. From then on the client's
cancellations are recorded, not judged (`after_closure`, applied by casework to every
decision). A client with `policy.suggest_closure_after` forfeits inside the lookback is
suggested for closure in `review` and the daily digest, with the forfeits behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from worker.addresses import client_address
from worker.config import Config, Policy
from worker.errors import FairWarningError
from worker.model import Client, Decision, Verdict
from worker.notices.courtesy import CourtesyFacts
from worker.notices.templates import TemplateLibrary
from worker.pipeline import courtesy as notes
from worker.pipeline.ladder import describe_span
from worker.store import clients_seen, courtesy
from worker.store.audit import audit
from worker.store.connection import Connection, Row, json_field
from worker.store.db import from_utc_text, utc_text

if TYPE_CHECKING:  # casework imports this module for `after_closure`
    from worker.pipeline.casework import Desk


def after_closure(
    db: Connection, decisions: Iterable[Decision], *, simulated: bool
) -> list[Decision]:
    """Decisions about clients the practitioner has closed: recorded, never judged.

    Only cancellations made after the closure was recorded; a dry run's closure counts only
    in a dry run.
    """
    found = []
    for decision in decisions:
        note = clients_seen.note(db, decision.client.email) if decision.client else None
        if (
            note is None
            or note.closed_at is None
            or not note.closed_for(simulated=simulated)
            or decision.fact.cancelled_at.latest < note.closed_at
        ):
            found.append(decision)
            continue
        why = (
            f"you ended the working relationship on {note.closed_effective} "
            f"({note.closure_ref}): recorded, not judged"
        )
        found.append(
            replace(
                decision, verdict=Verdict.IGNORE, counts=False, reasons=(*decision.reasons, why)
            )
        )
    return found


@dataclass(frozen=True)
class ClosurePlan:
    """A closure the practitioner asked for: to whom, what it says, its reference."""

    client: Client
    facts: CourtesyFacts
    ref: str


def plan_closure(
    desk: Desk, email: str, *, reason: str, effective: date, outstanding: str = ""
) -> ClosurePlan:
    """The closure `close-client` would send, or FairWarningError naming what to fix."""
    address = client_address(email)
    if not reason.strip():
        raise FairWarningError("--reason is empty; say in a sentence why the relationship ends")
    today = desk.now.astimezone(ZoneInfo(desk.practitioner_zone)).date()
    if effective < today:
        raise FairWarningError(
            f"--effective {effective} is in the past (today is {today}); give today's date or "
            "a later one, written YYYY-MM-DD"
        )
    note = clients_seen.note(desk.db, address)
    if note is not None and note.closed_for(simulated=desk.simulated):
        raise FairWarningError(
            f"you already ended the working relationship with {address} on "
            f"{note.closed_effective} ({note.closure_ref}); a client gets one closure notice"
        )
    existing = courtesy.once_per_client(desk.db, address, "closure", simulated=desk.simulated)
    if existing is not None and existing["state"] not in ("dropped", "waived", "rejected"):
        day = from_utc_text(existing["updated_at"]).date()
        raise FairWarningError(
            f"a closure notice to {address} is already {existing['state']} "
            f"({existing['ref']}, {day}); a client gets one closure notice"
        )
    client = desk.practice.directory.by_email(address) or Client(email=address)
    facts = notes.facts_for(
        desk, client, "closure", effective=effective, reason=reason, outstanding=outstanding
    )
    return ClosurePlan(client, facts, notes.once_ref(address, "closure", simulated=desk.simulated))


def preview_closure(
    desk: Desk, config: Config, templates: TemplateLibrary, plan: ClosurePlan
) -> EmailMessage:
    """The closure notice as the client would get it; nothing is queued or recorded."""
    return notes.render(
        templates, config.practitioner, config.policy, plan.facts, ref=plan.ref, now=desk.now
    )


def close_client(desk: Desk, plan: ClosurePlan) -> str:
    """Queue the closure notice (approved by asking) and record the closure. Says what next."""
    address = plan.client.email
    clients_seen.record_seen(desk.db, address, desk.account, desk.now, clients_seen.BY_HAND)
    not_before = desk.now + desk.practice.policy.hold
    facts = plan.facts
    if not notes.queue(desk, facts, ref=plan.ref, state="queued", not_before=not_before):
        courtesy.requeue(
            desk.db,
            plan.ref,
            account=desk.account,
            state="queued",
            not_before=not_before,
            facts=facts.to_json(),
            now=desk.now,
        )
    effective = facts.effective or desk.now.date()
    clients_seen.record_closure(
        desk.db,
        address,
        ref=plan.ref,
        effective=effective,
        reason=facts.reason,
        at=desk.now,
        simulated=desk.simulated,
    )
    audit(desk.db, desk.now, desk.account, "closed", f"{address} from {effective}: {facts.reason}")
    hold = desk.practice.policy.hold
    after = f"after the {describe_span(hold)} hold, " if hold else ""
    return (
        f"the closure notice to {address} ({plan.ref}) will be sent {after}on the worker's next "
        f"cycle; from now on their cancellations are recorded, not judged. "
        f"`fairwarning waive {plan.ref}` withdraws it before it goes"
    )


def reopen_client(desk: Desk, email: str) -> str:
    """The relationship goes on after all: judge the client's cancellations again."""
    address = email.strip().lower()
    note = clients_seen.note(desk.db, address)
    if note is None or not note.closed_for(simulated=desk.simulated):
        raise FairWarningError(
            f"{address} is not a closed client; `fairwarning close-client` ends a relationship"
        )
    row = courtesy.once_per_client(desk.db, address, "closure", simulated=note.closure_simulated)
    said = f"{address}: the working relationship goes on; their cancellations are judged again"
    if row is not None and row["state"] in ("review", "queued"):
        desk.db.execute(
            "UPDATE outbox SET state = 'waived', detail = ?, updated_at = ? WHERE id = ?",
            ("the client was reopened", utc_text(desk.now), row["id"]),
        )
        said += f"; the closure notice {row['ref']} will not be sent"
    clients_seen.clear_closure(desk.db, address)
    audit(desk.db, desk.now, desk.account, "reopened", address)
    return said


@dataclass(frozen=True)
class Suggestion:
    """A client whose forfeits suggest ending the working relationship, with the evidence."""

    client_email: str
    client_name: str
    account: str
    forfeits: tuple[str, ...]  # "2026-11-02 · Coaching with Sam (case 12)", oldest first
    latest_decided: datetime

    def reasons(self, policy: Policy) -> list[str]:
        count = len(self.forfeits)
        return [
            f"consider ending the working relationship: {count} forfeits in the last "
            f"{describe_span(policy.lookback)}",
            *self.forfeits,
        ]


def closure_suggestions(db: Connection, policy: Policy, now: datetime) -> list[Suggestion]:
    """Clients with `policy.suggest_closure_after` unwaived forfeits inside the lookback."""
    if policy.suggest_closure_after <= 0:
        return []
    rows = db.execute(
        "SELECT l.client_email, d.id, d.account, d.client_name, d.decided_at, l.cancelled_at,"  # noqa: S608
        f" {json_field(db, 'f.session', 'title')} AS title,"
        f" {json_field(db, 'f.session', 'start')} AS start"
        " FROM ledger l JOIN decisions d ON d.id = l.decision_id"
        " JOIN facts f ON f.id = d.fact_id WHERE l.kind = 'forfeit' AND l.waived_at IS NULL"
        " AND l.simulated = 0 AND l.cancelled_at >= ? ORDER BY l.cancelled_at",
        (utc_text(now - policy.lookback),),
    ).fetchall()
    by_client: dict[str, list[Row]] = {}
    for row in rows:
        by_client.setdefault(row["client_email"], []).append(row)
    found = []
    for email, forfeits in sorted(by_client.items()):
        note = clients_seen.note(db, email)
        if len(forfeits) < policy.suggest_closure_after or (
            note is not None and note.closed_for(simulated=False)
        ):
            continue
        found.append(
            Suggestion(
                client_email=email,
                client_name=forfeits[-1]["client_name"],
                account=forfeits[-1]["account"],
                forfeits=tuple(_evidence(row) for row in forfeits),
                latest_decided=max(from_utc_text(r["decided_at"]) for r in forfeits),
            )
        )
    return found


def _evidence(row: Row) -> str:
    start = from_utc_text(row["start"])
    return (
        f"forfeit: {row['title']!r} on {start:%Y-%m-%d %H:%M} UTC, cancelled "
        f"{from_utc_text(row['cancelled_at']):%Y-%m-%d %H:%M} UTC (case {row['id']})"
    )


def booked_after_closure(db: Connection, now: datetime) -> list[str]:
    """Closed clients invited to a session after their closure took effect: the address is
    in use again (they came back, or someone else has it), and nothing is judged for it."""
    problems = []
    for note in clients_seen.closed_clients(db):
        if note.closure_simulated or note.closed_effective is None:
            continue
        after = datetime.combine(note.closed_effective + timedelta(days=1), time(), UTC)
        session = courtesy.next_session_of(db, note.email, max(now, after))
        if session is None:
            continue
        problems.append(
            f"{note.email}: you ended the working relationship on {note.closed_effective} "
            f"({note.closure_ref}), but they are invited to {session.title!r} on "
            f"{session.start:%Y-%m-%d %H:%M} UTC, and their cancellations are not judged. "
            f"If you work with them again, run `fairwarning reopen-client {note.email}`; if "
            "the address now belongs to someone else, give that person another one"
        )
    return problems
