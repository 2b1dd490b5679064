"""Acting on the rules' decisions: record them, count them, queue notices, approve and waive.

Everything here runs inside the caller's transaction, so a notice is queued in the same
commit as the sync state that produced it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from worker.clients import ClientDirectory
from worker.config import Config
from worker.errors import FairWarningError
from worker.model import CancelTime, CancelTimeSource, Client, Decision, Fact, FactKind, Verdict
from worker.pipeline import courtesy, joins, packages
from worker.pipeline.closure import after_closure
from worker.pipeline.ladder import Offence, climb_ladder
from worker.pipeline.rules import Practice, clients_of, judge
from worker.store import cases, outbox
from worker.store.audit import audit
from worker.store.clients_seen import policy_sent_at
from worker.store.codec import session_from_json
from worker.store.connection import Connection, Row
from worker.store.db import from_utc_text, utc_text
from worker.store.sync_state import record_fact


@dataclass(frozen=True, slots=True)
class Desk:
    """Where casework happens: one account, its practice and mode, at one moment."""

    db: Connection
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
    config: Config, db: Connection, account: str, directory: ClientDirectory, now: datetime
) -> Desk:
    """The desk for one account of this configuration, at `now`."""
    practitioner = config.practitioner
    return Desk(
        db=db,
        account=account,
        practice=Practice(
            practitioner.email, config.policy, directory, practitioner.other_addresses
        ),
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
    history = {c.email: offences(desk, c.email) for c in clients}
    judged = judge(fact, desk.practice, history)
    decisions = after_closure(desk.db, judged, simulated=desk.simulated)
    return [_file_decision(desk, fact_id, d) for d in decisions]


def offences(desk: Desk, client_email: str) -> list[Offence]:
    """What the ladder climbs for this client: counted late cancellations, and when each
    one's notice reached them (dry-run cases count only in a dry run)."""
    return [
        Offence(
            cancelled_at=case.cancelled_at,
            warned_at=case.sent_at,
            notice=f"the {case.notice_kind} {case.notice_ref}" if case.notice_ref else "",
            joined=case.joined,
        )
        for case in cases.counted_cases(desk.db, client_email, simulated=desk.simulated)
    ]


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
    host = joins.waiting_reminder(desk, decision)
    if host is not None:
        return joins.record_join(desk, fact_id, decision, host)
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
    if decision.verdict is Verdict.FORFEIT and not desk.simulated:
        left = packages.spend_on_forfeit(desk.db, decision_id, decision, desk.now)
    else:
        left = packages.balance(desk.db, client, desk.now)
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
        facts={**_notice_facts(desk, decision, left), **_fee_facts(desk, decision_id, decision)},
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
        # The warning the ladder's step rests on: a forfeit says "as I mentioned" only then.
        "warned_at": decision.details.get("warned_at"),
        "other_sessions": [],
        "policy_sent_at": _iso(policy_sent_at(desk.db, client.email, simulated=desk.simulated)),
    }


def _fee_facts(desk: Desk, decision_id: int, decision: Decision) -> dict[str, object]:
    """A forfeit that spent no prepaid session (none kept, or none left) states the fee."""
    assert decision.client is not None
    policy_fee = desk.practice.policy.fee
    fee = packages.fee_for(decision.client, policy_fee.money() if policy_fee else None)
    if decision.verdict is not Verdict.FORFEIT or fee is None:
        return {}
    if packages.forfeit_paid(desk.db, decision_id, decision.client, simulated=desk.simulated):
        return {}
    return {"fee": {"amount": str(fee.amount), "currency": fee.currency}}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _drop_waiting(desk: Desk, fact: Fact) -> None:
    """A restored or rescheduled session withdraws notices still waiting for it."""
    who = fact.attendee.address if fact.attendee else None
    why = "the session was restored" if fact.kind is FactKind.RESTORED else "it was rescheduled"
    for notice in outbox.waiting_for_session(desk.db, desk.account, fact.session.key, who):
        if notice.decision_id is not None:  # a courtesy notice has no case to withdraw
            _withdraw(desk, notice.decision_id, status="dropped", reason=why)
    for joined in cases.joined_waiting_for_session(desk.db, desk.account, fact.session.key, who):
        _withdraw(desk, joined, status="dropped", reason=why)
    rows = desk.db.execute(
        "SELECT d.id FROM decisions d JOIN facts f ON f.id = d.fact_id WHERE d.account = ?"
        " AND f.session_key = ? AND d.status = 'open' AND d.verdict = 'review'"
        " AND (? IS NULL OR d.client_email = ?)",
        (desk.account, fact.session.key, who, who),
    )
    for row in rows.fetchall():
        cases.set_decision_status(desk.db, row["id"], "dropped", "the session was restored")


def _withdraw(desk: Desk, decision_id: int, *, status: str, reason: str) -> list[int]:
    """Stop a case counting and drop its waiting notice; a joined case leaves the notice it
    joined. Returns the cases that had joined the dropped notice and now carry on without it."""
    kind = cases.ledger_kind(desk.db, decision_id)
    if cases.waive_in_ledger(desk.db, decision_id, desk.now, reason) and kind == "forfeit":
        notice = outbox.by_decision(desk.db, decision_id)
        if notice is not None and not notice.simulated:
            packages.give_back_forfeit(desk.db, notice.client_email, decision_id, reason, desk.now)
    notice = outbox.by_decision(desk.db, decision_id)
    dropped = notice is not None and notice.state in outbox.WAITING
    if notice is not None and dropped:
        outbox.set_state(desk.db, notice.id, "dropped", desk.now, detail=reason)
    joins.leave_notice(desk, decision_id, _decision_row(desk, decision_id)["joined_to"])
    cases.set_decision_status(desk.db, decision_id, status, reason)
    audit(desk.db, desk.now, desk.account, status, f"decision {decision_id}: {reason}")
    if notice is None or not dropped:
        return []
    return _carry_on(desk, decision_id, f"{notice.ref} was withdrawn: {reason}")


def _carry_on(desk: Desk, host_id: int, why: str) -> list[int]:
    """The notice these cases had joined was withdrawn: each is decided again, so the first
    carries a notice of its own and the others join it (they are still one offence)."""
    moved = []
    hold = desk.practice.policy.hold
    for row in cases.joined_cases(desk.db, host_id):
        cases.join_case(desk.db, row["id"], None)
        fact = _stored_fact(desk, row["fact_id"])
        decided = _climb(desk, fact, _client_of(desk, row))
        decided = replace(decided, reasons=(*json.loads(row["reasons"]), why))
        host = joins.waiting_reminder(desk, decided)
        if host is not None:
            cases.update_decision(
                desk.db, row["id"], joins.as_joined(decided, host), status=row["status"]
            )
            joins.name_in_notice(desk, host, row["id"], fact)
        else:
            # It waits for review like any new case, unless you had approved it already.
            review = desk.mode == "review" and row["status"] != "approved"
            status = "open" if review else row["status"]
            cases.update_decision(desk.db, row["id"], decided, status=status)
            state = "review" if review else "queued"
            queue_notice(desk, row["id"], decided, state=state, not_before=desk.now + hold)
        moved.append(int(row["id"]))
    return moved


def _climb(desk: Desk, fact: Fact, client: Client) -> Decision:
    """The ladder's step for a recorded late cancellation, on the client's history today."""
    notice = fact.session.start - fact.cancelled_at.latest
    return climb_ladder(fact, client, desk.practice.policy, offences(desk, client.email), notice)


def _client_of(desk: Desk, row: Row) -> Client:
    known = desk.practice.directory.by_email(row["client_email"] or "")
    return known or Client(email=row["client_email"], name=row["client_name"])


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
    client = _client_of(desk, row)
    decided = _climb(desk, fact, client)
    decided = replace(decided, reasons=(*json.loads(row["reasons"]), "approved by you"))
    host = joins.waiting_reminder(desk, decided)
    if host is not None:
        # Made before the client's reminder went out: one offence, named in that reminder.
        cases.set_decision_status(desk.db, decision_id, "approved", f"approved: joins {host.ref}")
        joins.name_in_notice(desk, host, decision_id, fact)
        return f"case {decision_id} joins the {host.kind} ({host.ref}) to {client.email}"
    cases.set_decision_status(desk.db, decision_id, "approved", f"approved: {decided.verdict}")
    ref = queue_notice(desk, decision_id, decided, state="queued", not_before=desk.now)
    return f"a {decided.verdict} ({ref}) to {client.email} will be sent on the next cycle"


def waive(desk: Desk, decision_id: int, reason: str) -> str:
    """The practitioner lets it go: the case no longer counts and any waiting notice is dropped."""
    row = _decision_row(desk, decision_id)
    if row["status"] == "waived":
        raise FairWarningError(f"case {decision_id} is already waived")
    notice = outbox.by_decision(desk.db, decision_id)
    if notice is None and row["joined_to"] is not None:
        notice = outbox.by_decision(desk.db, row["joined_to"])  # the notice it joined
    already = notice is not None and notice.state in ("sent", "sending", "unknown")
    moved = _withdraw(desk, decision_id, status="waived", reason=reason or "waived by you")
    if notice is not None and notice.state == "drafted":
        return (
            f"case {decision_id} no longer counts; its notice {notice.ref} is a draft in your "
            "mailbox: delete that draft, or it can still be sent"
        )
    if already:
        return f"case {decision_id} no longer counts; its notice had already been sent"
    if row["joined_to"] is not None and notice is not None:
        return f"case {decision_id} waived; the {notice.kind} {notice.ref} no longer names it"
    said = f"case {decision_id} waived; nothing will be sent and it does not count"
    if moved:
        said += f" (case {', '.join(map(str, moved))}, which had joined its notice, now has one)"
    return said


def approve_notice(desk: Desk, ref: str) -> str:
    """Approve by notice reference (FW-…): a case's notice, or a courtesy notice."""
    row = _notice_row(desk, ref)
    if row.decision_id is not None:
        return approve(desk, row.decision_id)
    return courtesy.approve(desk, row)


def waive_notice(desk: Desk, ref: str, reason: str) -> str:
    """Waive by notice reference (FW-…): a case's notice, or a courtesy notice."""
    row = _notice_row(desk, ref)
    if row.decision_id is not None:
        return waive(desk, row.decision_id, reason)
    return courtesy.waive(desk, row, reason)


def _notice_row(desk: Desk, ref: str) -> outbox.NoticeRow:
    row = outbox.by_ref(desk.db, ref)
    if row is None:
        raise FairWarningError(
            f"there is no notice {ref}; `fairwarning review` lists the ones waiting for you"
        )
    return row


def _decision_row(desk: Desk, decision_id: int) -> Row:
    row = desk.db.execute(
        "SELECT * FROM decisions WHERE id = ? AND account = ?", (decision_id, desk.account)
    ).fetchone()
    if row is None:
        row = desk.db.execute("SELECT * FROM decisions WHERE id = ?", (decision_id,)).fetchone()
    if row is None:
        raise FairWarningError(
            f"there is no case {decision_id}; `fairwarning history` lists case numbers"
        )
    found: Row = row
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
