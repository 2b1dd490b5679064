"""The practitioner's other answers to a case: send the gentler step, or "it went out".

`approve` sends what the ladder decided and `waive` lets it go (pipeline/casework.py); here,
`approve_gentler` sends a reminder where the ladder reached a forfeit, and `confirm_sent`
records that a send whose outcome was unknown did reach the client's mailbox. Like casework,
everything runs inside the caller's transaction and is audited.
"""

from __future__ import annotations

import json
from dataclasses import replace

from worker.errors import FairWarningError
from worker.model import Decision, Verdict
from worker.pipeline import packages
from worker.pipeline.casework import (
    Desk,
    _client_of,
    _climb,
    _decision_row,
    _notice_facts,
    _stored_fact,
    queue_notice,
)
from worker.store import cases, outbox
from worker.store.audit import audit
from worker.store.connection import Row
from worker.store.outbox import NoticeRow

AS_REMINDER = "approved as a reminder by you"
CONFIRMED = "confirmed sent by you"


def approve_gentler(desk: Desk, decision_id: int) -> str:
    """Send a reminder instead of the forfeit this case holds (in review) or would earn (an
    open case). The forfeit is withdrawn as a waiver would withdraw it: it stops counting
    and any prepaid session it spent is given back. The reminder counts as a warning, so the
    client's next late cancellation climbs from there. Returns what happens, in words."""
    row = _decision_row(desk, decision_id)
    if row["status"] == "waived":
        raise FairWarningError(f"case {decision_id} is waived: nothing is sent for it")
    notice = outbox.by_decision(desk.db, decision_id)
    if notice is not None:
        return _instead_of_notice(desk, row, notice)
    if row["status"] != "open":
        raise FairWarningError(
            f"case {decision_id} is {row['status']}, not waiting for review; "
            "see `fairwarning review` for open cases"
        )
    return _instead_of_ladder(desk, row)


def approve_gentler_notice(desk: Desk, ref: str) -> str:
    """`approve_gentler` by notice reference (FW-…)."""
    notice = _notice_for(desk, ref)
    if notice.decision_id is None:
        raise FairWarningError(
            f"{notice.ref} is a {notice.kind}, not a forfeit: there is no gentler step; "
            f"use `fairwarning approve {notice.ref}` to send it"
        )
    return approve_gentler(desk, notice.decision_id)


def _instead_of_notice(desk: Desk, row: Row, notice: NoticeRow) -> str:
    """A forfeit held for review becomes the case's reminder (the same outbox row: one
    notice per case), and the prepaid session it spent comes back."""
    case = int(row["id"])
    if notice.kind != "forfeit":
        raise FairWarningError(
            f"case {case}'s notice {notice.ref} is a {notice.kind}, not a forfeit: there is no "
            f"gentler step; use `fairwarning approve {case}` to send it"
        )
    if notice.state != "review" or row["status"] != "open":
        raise FairWarningError(
            f"the forfeit {notice.ref} is {notice.state}, not waiting for your review: only a "
            f"forfeit you have not approved yet can go as a reminder (`fairwarning waive {case}`"
            " stops one that has not gone out)"
        )
    if outbox.ref_as(desk.db, notice.id, "reminder") is None:
        raise FairWarningError(
            f"a reminder for this session was decided before case {case}; approve or waive "
            "the forfeit instead"
        )
    fact = _stored_fact(desk, row["fact_id"])
    client = _client_of(desk, row)
    warned_at = notice.facts.get("warned_at")
    forfeit = Decision(
        verdict=Verdict.FORFEIT,
        fact=fact,
        client=client,
        reasons=tuple(json.loads(row["reasons"])),
        notice=fact.session.start - fact.cancelled_at.latest,
        offence=int(row["offence"]),
        counts=True,
        details={"warned_at": warned_at} if warned_at else {},
    )
    reminder = _as_reminder(forfeit)
    why = f"sent as a reminder instead of the forfeit {notice.ref}"
    given_back = not notice.simulated and packages.forfeit_paid(
        desk.db, case, client, simulated=False
    )
    if given_back:
        packages.give_back_forfeit(desk.db, notice.client_email, case, why, desk.now)
    cases.count_as_warning(desk.db, case)
    facts = {
        **_notice_facts(desk, reminder, packages.balance(desk.db, client, desk.now)),
        "other_sessions": notice.facts.get("other_sessions", []),
    }
    ref = outbox.reissue(
        desk.db, notice.id, kind="reminder", facts=facts, state="queued", now=desk.now, detail=why
    )
    cases.update_decision(desk.db, case, reminder, status="approved")
    cases.set_decision_status(desk.db, case, "approved", AS_REMINDER)
    audit(desk.db, desk.now, desk.account, "approved as reminder", f"{ref} {why}")
    said = f"the forfeit {notice.ref} is withdrawn"
    if given_back:
        said += " and its prepaid session given back"
    return f"{said}; a reminder ({ref}) to {notice.client_email} will be sent on the next cycle"


def _instead_of_ladder(desk: Desk, row: Row) -> str:
    """An open case the ladder would make a forfeit is approved as a reminder."""
    case = int(row["id"])
    fact = _stored_fact(desk, row["fact_id"])
    client = _client_of(desk, row)
    decided = _climb(desk, fact, client)
    if decided.verdict is not Verdict.FORFEIT:
        raise FairWarningError(
            f"case {case} would be sent as a {decided.verdict}, not a forfeit: there is no "
            f"gentler step; use `fairwarning approve {case}` to send it"
        )
    reminder = _as_reminder(replace(decided, reasons=tuple(json.loads(row["reasons"]))))
    cases.set_decision_status(desk.db, case, "approved", AS_REMINDER)
    ref = queue_notice(desk, case, reminder, state="queued", not_before=desk.now)
    audit(desk.db, desk.now, desk.account, "approved as reminder", f"{ref} case {case}")
    return f"a reminder ({ref}) to {client.email} will be sent on the next cycle"


def _as_reminder(forfeit: Decision) -> Decision:
    """The forfeit's case as the step below: a reminder that counts as a warning."""
    return replace(
        forfeit,
        verdict=Verdict.REMINDER,
        offence=max(1, forfeit.offence - 1),
        reasons=(*forfeit.reasons, AS_REMINDER),
    )


def confirm_sent(desk: Desk, decision_id_or_ref: int | str) -> str:
    """The practitioner found a notice whose send ended `unknown` in their Sent folder: it is
    recorded as sent (so it warned the client) and never sent again."""
    notice = _notice_for(desk, decision_id_or_ref)
    if notice.state != "unknown":
        raise FairWarningError(
            f"the {notice.kind} {notice.ref} is {notice.state}: {_why_not(notice.state)}"
        )
    outbox.confirm_sent(desk.db, notice.id, CONFIRMED)
    audit(
        desk.db, desk.now, desk.account, "confirmed sent", f"{notice.ref} to {notice.client_email}"
    )
    return (
        f"the {notice.kind} {notice.ref} to {notice.client_email} is recorded as sent; "
        "it will not be sent again"
    )


def _notice_for(desk: Desk, decision_id_or_ref: int | str) -> NoticeRow:
    if isinstance(decision_id_or_ref, str) and decision_id_or_ref.strip().upper().startswith("FW-"):
        found = outbox.by_ref(desk.db, decision_id_or_ref)
        if found is None:
            raise FairWarningError(
                f"there is no notice {decision_id_or_ref}; `fairwarning review` lists the ones "
                "waiting for you"
            )
        return found
    case = int(decision_id_or_ref)
    row = _decision_row(desk, case)
    notice = outbox.by_decision(desk.db, case)
    if notice is None and row["joined_to"] is not None:
        notice = outbox.by_decision(desk.db, row["joined_to"])  # the notice it joined
    if notice is None:
        raise FairWarningError(f"case {case} has no notice; nothing was sent for it")
    return notice


def _why_not(state: str) -> str:
    return {
        "sent": "it is already recorded as sent",
        "rejected": "the mailbox refused it; `fairwarning approve` sends it again",
        "review": "it waits for your approval and has not been sent",
        "queued": "it has not been sent yet",
        "sending": "it is being sent now",
    }.get(state, "only a send whose outcome is unknown can be confirmed")


def choices_for(desk: Desk, decision_id: int) -> tuple[str, ...]:
    """What the practitioner can do with a case waiting for them, in `review`'s words:
    `approve`, `gentler` (a forfeit can go as a reminder), `went-out` (a send whose outcome
    is unknown), `waive`. Reads only."""
    row = _decision_row(desk, decision_id)
    if row["status"] == "waived":
        return ()
    notice = outbox.by_decision(desk.db, decision_id)
    if notice is not None and notice.state == "unknown":
        return ("approve", "went-out", "waive")
    if notice is not None and notice.state == "rejected":
        return ("approve", "waive")
    if row["status"] != "open":
        return ()
    if notice is not None:
        gentler = notice.kind == "forfeit" and notice.state == "review"
    else:
        client = _client_of(desk, row)
        gentler = _climb(desk, _stored_fact(desk, row["fact_id"]), client).verdict == "forfeit"
    return ("approve", "gentler", "waive") if gentler else ("approve", "waive")
