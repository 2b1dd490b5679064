"""One offence, one notice: late cancellations made before the client's reminder went out.

A client who cancels twice before the first reminder reaches them (two declines in one poll,
or a second one while the reminder waits in its hold, quiet hours or review) has not ignored
a warning: they never had one. The later case joins the waiting reminder, which then names
every session concerned, and the ladder does not climb for it. The joined case records which
case's notice names it (`decisions.joined_to`); withdrawing it takes its session out again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from worker.model import Decision, Fact, Verdict
from worker.store import cases, outbox
from worker.store.audit import audit
from worker.store.outbox import NoticeRow

if TYPE_CHECKING:
    from worker.pipeline.casework import Desk


def waiting_reminder(desk: Desk, decision: Decision) -> NoticeRow | None:
    """The client's reminder still waiting to go out, which this reminder joins.

    A forfeit never joins: the client was warned before, so it is judged on its own, and a
    reminder does not join a waiting forfeit either.
    """
    if decision.verdict is not Verdict.REMINDER or decision.client is None:
        return None
    return outbox.waiting_warning(
        desk.db, desk.account, decision.client.email, simulated=desk.simulated
    )


def as_joined(decision: Decision, host: NoticeRow) -> Decision:
    """The decision as part of `host`'s offence: it sends nothing of its own, and no step."""
    why = f"joins the {host.kind} {host.ref} still waiting to go out"
    return replace(decision, counts=False, offence=0, reasons=(*decision.reasons, why))


def record_join(desk: Desk, fact_id: int, decision: Decision, host: NoticeRow) -> Decision:
    """Record a new case as joined to `host`'s notice, and name its session there."""
    joined = as_joined(decision, host)
    decision_id = cases.record_decision(
        desk.db, desk.account, fact_id, joined, status="final", at=desk.now
    )
    name_in_notice(desk, host, decision_id, joined.fact)
    who = joined.client.email if joined.client else "-"
    audit(desk.db, desk.now, desk.account, "joined", f"{host.ref} {who} case {decision_id}")
    return joined


def name_in_notice(desk: Desk, host: NoticeRow, decision_id: int, fact: Fact) -> None:
    """Add the case's session to the waiting notice, which waits a full hold from now: the
    new session's undo window is honoured too."""
    assert host.decision_id is not None
    cases.join_case(desk.db, decision_id, host.decision_id)
    named = {
        "decision_id": decision_id,
        "start": fact.session.start.isoformat(),
        "end": fact.session.end.isoformat(),
        "all_day": fact.session.all_day,
    }
    others = sorted([*host.facts.get("other_sessions", []), named], key=lambda o: o["start"])
    not_before = max(host.not_before, desk.now + desk.practice.policy.hold)
    outbox.set_facts(desk.db, host.id, {**host.facts, "other_sessions": others}, not_before)


def leave_notice(desk: Desk, decision_id: int, host_id: int | None) -> None:
    """A joined case withdrawn (waived, or its session restored) leaves the waiting notice."""
    host = outbox.by_decision(desk.db, host_id) if host_id is not None else None
    if host is None or host.state not in outbox.WAITING:
        return
    others = [o for o in host.facts.get("other_sessions", []) if o["decision_id"] != decision_id]
    outbox.set_facts(desk.db, host.id, {**host.facts, "other_sessions": others}, host.not_before)
