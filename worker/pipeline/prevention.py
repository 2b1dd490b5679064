"""Prevention: a short note before each client session (opt-in: `policy.session_reminder`).

The note goes `session_reminder` before the start (say 48 h) and says when the session is, in
the client's zone, and until when it can be moved or cancelled free of charge (the start less
the late window). It is queued when the session is seen, with `not_before` at that moment (or
after the hold, for a session booked later than that), and waits there like any notice: the
mode, quiet hours and the outbox's unique key (one per session occurrence and client) apply.

- A cancelled session, or a client's decline, drops the client's waiting note; a moved
  session drops the old time's note and gets one for its new time.
- None for exempt clients, clients whose relationship has ended, sessions the policy leaves
  out by title, or sessions already inside the late window when seen. A note still waiting
  when its session comes inside the late window is dropped: it could no longer say anything
  useful (after an outage, or while waiting in review).
- The first look at a calendar, and switching the notes on, send nothing straight away: those
  sessions get a note only if its time is still ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from worker.model import Fact, FactKind, Session
from worker.pipeline import courtesy as notes
from worker.pipeline.casework import Desk
from worker.pipeline.ladder import describe_span
from worker.store import clients_seen, courtesy
from worker.store.audit import audit

_CANCELLING = {
    FactKind.DECLINED,
    FactKind.CANCELLED_BY_CLIENT_ORGANIZER,
    FactKind.DELETED,
    FactKind.INSTANCE_CANCELLED,
    FactKind.MARKED,
}
# Sessions this far beyond the note's reach are looked at on every poll as well, so sessions
# booked before the notes were switched on get theirs in time.
_LOOK_AHEAD = timedelta(days=1)


def plan_session_notes(
    desk: Desk, facts: Iterable[Fact], sessions: Iterable[Session], *, baseline: bool
) -> list[str]:
    """Drop the notes this poll's facts withdraw and queue the ones now due to be planned.

    `sessions` are those this poll saw new or changed. Returns the references queued.
    """
    policy = desk.practice.policy
    ahead = policy.session_reminder
    if ahead is None:
        _drop(desk, reason="notes before sessions are switched off (policy.session_reminder)")
        return []
    for fact in facts:
        _withdraw(desk, fact)
    inside = desk.now + policy.late_window
    window = describe_span(policy.late_window)
    _drop(desk, reason=f"the session is now less than {window} away", starting_before=inside)
    seen = {s.key: s for s in sessions if not s.cancelled}
    queued = [ref for s in seen.values() for ref in _plan(desk, s, ahead, prompt=not baseline)]
    for session in courtesy.sessions_starting_between(
        desk.db, desk.account, inside, desk.now + ahead + _LOOK_AHEAD
    ):
        if session.key not in seen:
            queued += _plan(desk, session, ahead, prompt=False)
    return queued


def _plan(desk: Desk, session: Session, ahead: timedelta, *, prompt: bool) -> list[str]:
    """Queue the session's note for each client; `prompt` sends one whose time has passed."""
    policy = desk.practice.policy
    due = session.start - ahead
    if session.start <= desk.now + policy.late_window or (due <= desk.now and not prompt):
        return []
    queued = []
    for client in notes.clients_in(session, desk.practice):
        ended = clients_seen.note(desk.db, client.email)
        if client.exempt or (ended is not None and ended.closed_for(simulated=desk.simulated)):
            continue
        ref = notes.session_ref(desk, session, client.email)
        facts = notes.facts_for(desk, client, "session_reminder", session)
        state = notes.state_for(desk, by_hand=False)
        not_before = max(due, desk.now + policy.hold)
        if notes.queue(desk, facts, ref=ref, state=state, not_before=not_before, session=session):
            queued.append(ref)
    return queued


def _withdraw(desk: Desk, fact: Fact) -> None:
    session = fact.session
    if fact.kind is FactKind.MOVED:
        reason = "the session was moved; its new time gets its own note"
    elif fact.kind is FactKind.DECLINED and fact.attendee is not None:
        _drop(
            desk,
            reason="the client declined the session",
            session_key=session.key,
            occurrence=session.start,
            client=fact.attendee.address,
        )
        return
    elif fact.kind in _CANCELLING:
        reason = "the session was cancelled"
    else:
        return
    _drop(desk, reason=reason, session_key=session.key, occurrence=session.start)


def _drop(
    desk: Desk,
    *,
    reason: str,
    session_key: str | None = None,
    occurrence: datetime | None = None,
    client: str | None = None,
    starting_before: datetime | None = None,
) -> None:
    for ref in courtesy.drop_session_notes(
        desk.db,
        desk.account,
        reason=reason,
        now=desk.now,
        session_key=session_key,
        occurrence=occurrence,
        client=client,
        starting_before=starting_before,
    ):
        audit(desk.db, desk.now, desk.account, "dropped", f"{ref}: {reason}")
