"""Acting on the rules' decisions: record them, count them, queue notices, approve and waive.

Everything here runs inside the caller's transaction, so a notice is queued in the same
commit as the sync state that produced it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime

from worker.clients import ClientDirectory
from worker.config import Config
from worker.errors import FairWarningError
from worker.model import CancelTime, CancelTimeSource, Client, Decision, Fact, FactKind, Verdict
from worker.pipeline.rules import Practice, clients_of, climb_ladder, judge
from worker.store import cases, outbox
from worker.store.audit import audit
from worker.store.codec import session_from_json
from worker.store.db import from_utc_text, utc_text
from worker.store.sync_state import record_fact


@dataclass(frozen=True, slots=True)
class Desk:
    """Where casework happens: one account, its practice and mode, at one moment."""

    db: sqlite3.Connection
    account: str
    practice: Practice
    practitioner_language: str
    practitioner_zone: str
    mode: str
    now: datetime

    @property
    def simulated(self) -> bool:
        return self.mode == "dry-run"


def open_desk(
    config: Config, db: sqlite3.Connection, account: str, directory: ClientDirectory, now: datetime
) -> Desk:
    """The desk for one account of this configuration, at `now`."""
    practitioner = config.practitioner
    return Desk(
        db=db,
        account=account,
        practice=Practice(practitioner.email, config.policy, directory),
        practitioner_language=practitioner.language,
        practitioner_zone=practitioner.time_zone,
        mode=config.policy.mode,
        now=now,
    )


def file_fact(desk: Desk, fact: Fact) -> list[Decision]:
    """Record a fact, judge it, and act on each decision. Returns the decisions."""
    fact_id = record_fact(desk.db, desk.account, fact, desk.now)
    if fact.kind in (FactKind.RESTORED, FactKind.MOVED):
        _drop_waiting(desk, fact)
        if fact.kind is FactKind.RESTORED:
            return []
    clients = clients_of(fact, desk.practice)
    history = {
        c.email: cases.counted_cancellations(desk.db, c.email, simulated=desk.simulated)
        for c in clients
    }
    return [_file_decision(desk, fact_id, d) for d in judge(fact, desk.practice, history)]


def _file_decision(desk: Desk, fact_id: int, decision: Decision) -> Decision:
    if decision.verdict.sends_notice and decision.client is not None:
        session = decision.fact.session
        earlier = outbox.live_notice(desk.db, desk.account, session.key, decision.client.email)
        if earlier is not None:
            ref, kind = earlier
            why = f"a {kind} ({ref}) was already decided for this session"
            decision = replace(
                decision, verdict=Verdict.IGNORE, counts=False, reasons=(*decision.reasons, why)
            )
    if not decision.verdict.sends_notice or decision.client is None:
        status = "open" if decision.verdict is Verdict.REVIEW else "final"
        cases.record_decision(desk.db, desk.account, fact_id, decision, status=status, at=desk.now)
        audit(desk.db, desk.now, desk.account, f"decided {decision.verdict}", _summary(decision))
        return decision
    status = "open" if desk.mode == "review" else "final"
    decision_id = cases.record_decision(
        desk.db, desk.account, fact_id, decision, status=status, at=desk.now
    )
    hold = desk.practice.policy.hold
    state = "review" if desk.mode == "review" else "queued"
    queue_notice(desk, decision_id, decision, state=state, not_before=desk.now + hold)
    return decision


def queue_notice(
    desk: Desk, decision_id: int, decision: Decision, *, state: str, not_before: datetime
) -> str:
    """Count the case in the ledger, spend a prepaid session if forfeited, queue the notice."""
    client = decision.client
    assert client is not None
    cases.add_to_ledger(desk.db, decision_id, decision, simulated=desk.simulated)
    left = cases.balance(desk.db, client)
    if decision.verdict is Verdict.FORFEIT and left is not None and not desk.simulated:
        cases.adjust_balance(desk.db, client.email, -1)
        left = max(0, left - 1)
    session = decision.fact.session
    ref = outbox.enqueue(
        desk.db,
        account=desk.account,
        session_key=session.key,
        occurrence=session.start,
        client=client.email,
        kind=str(decision.verdict),
        decision_id=decision_id,
        state=state,
        not_before=not_before,
        facts=_notice_facts(desk, decision, left),
        simulated=desk.simulated,
        now=desk.now,
    )
    audit(
        desk.db, desk.now, desk.account, f"queued {decision.verdict}", f"{ref} {_summary(decision)}"
    )
    return ref


def _notice_facts(desk: Desk, decision: Decision, balance: int | None) -> dict[str, object]:
    """Everything the notice template needs, frozen at decision time (see notices.wording)."""
    client = decision.client
    assert client is not None
    assert decision.notice is not None
    session = decision.fact.session
    steps = desk.practice.policy.steps
    return {
        "kind": str(decision.verdict),
        "client_name": client.name,
        "client_email": client.email,
        "language": client.language or desk.practitioner_language,
        "time_zone": client.time_zone or desk.practitioner_zone,
        "session_title": session.title,
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "all_day": session.all_day,
        "cancelled_at": decision.fact.cancelled_at.latest.isoformat(),
        "notice_seconds": int(decision.notice.total_seconds()),
        "offence": decision.offence,
        "next_step": steps[min(decision.offence + 1, len(steps)) - 1],
        "prepaid_balance": balance,
        "warned_at": _warned_at(desk, client.email, decision.fact.cancelled_at.latest),
    }


def _warned_at(desk: Desk, client_email: str, cancelled_at: datetime) -> str | None:
    """When the last notice that reached this client before this cancellation was sent.

    A forfeit may say "as I mentioned" only when an earlier notice really went out; a
    dry-run counts its own (simulated) notices, like the ledger does.
    """
    row = desk.db.execute(
        "SELECT MAX(updated_at) AS at FROM outbox WHERE client_email = ? AND state = 'sent'"
        " AND simulated <= ? AND updated_at <= ?",
        (client_email, int(desk.simulated), utc_text(cancelled_at)),
    ).fetchone()
    return from_utc_text(row["at"]).isoformat() if row["at"] else None


def _drop_waiting(desk: Desk, fact: Fact) -> None:
    """A restored or rescheduled session withdraws notices still waiting for it."""
    who = fact.attendee.address if fact.attendee else None
    for notice in outbox.waiting_for_session(desk.db, desk.account, fact.session.key, who):
        why = "the session was restored" if fact.kind is FactKind.RESTORED else "it was rescheduled"
        _withdraw(desk, notice.decision_id, status="dropped", reason=why)
    rows = desk.db.execute(
        "SELECT d.id FROM decisions d JOIN facts f ON f.id = d.fact_id WHERE d.account = ?"
        " AND f.session_key = ? AND d.status = 'open' AND d.verdict = 'review'"
        " AND (? IS NULL OR d.client_email = ?)",
        (desk.account, fact.session.key, who, who),
    )
    for row in rows.fetchall():
        cases.set_decision_status(desk.db, row["id"], "dropped", "the session was restored")


def _withdraw(desk: Desk, decision_id: int, *, status: str, reason: str) -> None:
    kind = cases.ledger_kind(desk.db, decision_id)
    if cases.waive_in_ledger(desk.db, decision_id, desk.now, reason) and kind == "forfeit":
        notice = outbox.by_decision(desk.db, decision_id)
        if notice is not None and not notice.simulated:
            cases.adjust_balance(desk.db, notice.client_email, +1)
    notice = outbox.by_decision(desk.db, decision_id)
    if notice is not None and notice.state in outbox.WAITING:
        outbox.set_state(desk.db, notice.id, "dropped", desk.now, detail=reason)
    cases.set_decision_status(desk.db, decision_id, status, reason)
    audit(desk.db, desk.now, desk.account, status, f"decision {decision_id}: {reason}")


_APPROVABLE = ("review", "unknown", "rejected")


def approve(desk: Desk, decision_id: int) -> str:
    """The practitioner says: send it. Returns what happens next, in words."""
    row = _decision_row(desk, decision_id)
    notice = outbox.by_decision(desk.db, decision_id)
    if notice is not None and notice.state in _APPROVABLE and row["status"] != "waived":
        # For `unknown` the practitioner has checked their Sent folder: it did not go out.
        outbox.set_state(desk.db, notice.id, "queued", desk.now, not_before=utc_text(desk.now))
        cases.set_decision_status(desk.db, decision_id, "approved", f"approved ({notice.state})")
        audit(desk.db, desk.now, desk.account, "approved", f"{notice.ref} was {notice.state}")
        return f"the {notice.kind} to {notice.client_email} will be sent on the next cycle"
    if row["status"] != "open":
        raise FairWarningError(
            f"case {decision_id} is {row['status']}, not waiting for review; "
            "see `fairwarning review` for open cases"
        )
    fact = _stored_fact(desk, row["fact_id"])
    known = desk.practice.directory.by_email(row["client_email"] or "")
    client = known or Client(email=row["client_email"], name=row["client_name"])
    history = cases.counted_cancellations(desk.db, client.email, simulated=desk.simulated)
    notice_time = fact.session.start - fact.cancelled_at.latest
    decided = climb_ladder(fact, client, desk.practice.policy, history, notice_time)
    decided = replace(decided, reasons=(*json.loads(row["reasons"]), "approved by you"))
    cases.set_decision_status(desk.db, decision_id, "approved", f"approved: {decided.verdict}")
    ref = queue_notice(desk, decision_id, decided, state="queued", not_before=desk.now)
    return f"a {decided.verdict} ({ref}) to {client.email} will be sent on the next cycle"


def waive(desk: Desk, decision_id: int, reason: str) -> str:
    """The practitioner lets it go: the case no longer counts and any waiting notice is dropped."""
    row = _decision_row(desk, decision_id)
    if row["status"] == "waived":
        raise FairWarningError(f"case {decision_id} is already waived")
    notice = outbox.by_decision(desk.db, decision_id)
    already = notice is not None and notice.state in ("sent", "sending", "unknown")
    _withdraw(desk, decision_id, status="waived", reason=reason or "waived by you")
    if already:
        return f"case {decision_id} no longer counts; its notice had already been sent"
    return f"case {decision_id} waived; nothing will be sent and it does not count"


def _decision_row(desk: Desk, decision_id: int) -> sqlite3.Row:
    row = desk.db.execute(
        "SELECT * FROM decisions WHERE id = ? AND account = ?", (decision_id, desk.account)
    ).fetchone()
    if row is None:
        row = desk.db.execute("SELECT * FROM decisions WHERE id = ?", (decision_id,)).fetchone()
    if row is None:
        raise FairWarningError(
            f"there is no case {decision_id}; `fairwarning history` lists case numbers"
        )
    found: sqlite3.Row = row
    return found


def _stored_fact(desk: Desk, fact_id: int) -> Fact:
    row = desk.db.execute("SELECT * FROM facts WHERE id = ?", (fact_id,)).fetchone()
    earliest = row["cancelled_after"]
    when = CancelTime(
        from_utc_text(row["cancelled_at"]),
        CancelTimeSource(row["cancel_source"]),
        earliest=from_utc_text(earliest) if earliest else None,
    )
    return Fact(FactKind(row["kind"]), session_from_json(row["session"]), when)


def _summary(decision: Decision) -> str:
    who = decision.client.email if decision.client else "-"
    return f"{who} · {decision.fact.session.title!r} · " + "; ".join(decision.reasons)
