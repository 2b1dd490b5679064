"""Sync one account: poll its calendar, diff against the snapshot, and file what changed.

Only the first poll of a calendar is a silent baseline. A re-sync (the provider lost its
change marker and the source listed everything again) is diffed like any poll: what changed
meanwhile is judged on the provider's own times when they fall after the last good poll, and
as "first seen" after a gap in watching otherwise.

Every poll also records the clients it sees (a new one may get a welcome) and plans the
notes before sessions (pipeline/welcome.py, pipeline/prevention.py).

The new snapshot, the cursor and every decision and queued notice are written in one
transaction: after a crash either all of a poll's effects exist or none do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from worker.model import CalendarChanges, Decision, Fact
from worker.pipeline import packages
from worker.pipeline.calendar import CalendarSource
from worker.pipeline.casework import Desk, file_fact
from worker.pipeline.facts import observe
from worker.pipeline.prevention import plan_session_notes
from worker.pipeline.welcome import greet_new_clients
from worker.store import sync_state
from worker.store.audit import audit
from worker.store.db import transaction


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one poll found."""

    baseline: bool
    sessions: int
    decisions: tuple[Decision, ...]
    problems: tuple[str, ...]
    resync: str = ""  # why the source listed everything again ("" for an ordinary poll)


def sync_account(desk: Desk, source: CalendarSource) -> SyncReport:
    """Poll `source` once and file every fact it reveals (the first poll is a silent baseline)."""
    with transaction(desk.db):
        state = sync_state.account_state(desk.db, desk.account)
    return file_changes(desk, source.poll(state.cursor))


def file_changes(desk: Desk, changes: CalendarChanges) -> SyncReport:
    """File what one poll returned: the snapshot, the cursor, every fact and its decision.

    Runs on the thread that owns the state database; the poll itself may have run elsewhere.
    """
    db = desk.db
    with transaction(db):
        state = sync_state.account_state(db, desk.account)
        baseline = not state.baselined
        wanted = None
        if not changes.complete:
            wanted = [s.key for s in changes.sessions] + list(changes.removed)
        seen = observe(
            sync_state.snapshot(db, desk.account, wanted),
            changes,
            now=desk.now,
            previous_poll=state.last_success_at,
            markers=desk.practice.policy.markers,
        )
        decisions: list[Decision] = []
        packages.open_packages(db, desk.practice.directory, desk.now)
        if baseline:
            audit(db, desk.now, desk.account, "baseline", f"{len(changes.sessions)} sessions")
        else:
            if changes.resync:
                audit(db, desk.now, desk.account, "resync", _resync_words(changes, seen.facts))
            for fact in sorted(seen.facts, key=lambda f: f.cancelled_at.latest):
                decisions += file_fact(desk, fact)
        sync_state.save_sessions(db, desk.account, seen.upserts)
        _spend_sessions_held(desk, state.last_success_at, tuple(s.key for s in seen.upserts))
        greet_new_clients(desk, seen.upserts, baseline=baseline)
        plan_session_notes(desk, seen.facts, seen.upserts, baseline=baseline)
        sync_state.forget_sessions_before(db, desk.account, desk.now - sync_state.SNAPSHOT_KEEP)
        sync_state.record_poll(db, desk.account, cursor=changes.cursor, at=desk.now)
        fresh = sync_state.new_problems(db, desk.account, changes.problems, desk.now)
        sync_state.retain_problems(db, desk.account, changes.problems)
        for problem in fresh:
            audit(db, desk.now, desk.account, "calendar problem", problem)
    return SyncReport(
        baseline,
        len(changes.sessions),
        tuple(decisions),
        tuple(fresh),
        resync="" if baseline else changes.resync,
    )


def _spend_sessions_held(desk: Desk, since: datetime | None, first_seen: tuple[str, ...]) -> None:
    """Sessions that ended and took place spend a prepaid session (before the snapshot
    forgets them, so one that ended during an outage is spent when first seen)."""
    for entry in packages.spend_sessions_held(
        desk.db,
        desk.account,
        desk.practice.directory,
        practitioner=desk.practice.practitioner_email,
        markers=desk.practice.policy.markers,
        now=desk.now,
        since=since,
        first_seen=first_seen,
    ):
        audit(desk.db, desk.now, desk.account, "package", f"{entry.client_email}: {entry.note}")


def _resync_words(changes: CalendarChanges, facts: tuple[Fact, ...]) -> str:
    return (
        f"{changes.resync}; listed {_count(len(changes.sessions), 'session')} again and "
        f"compared them with the last known calendar: {_count(len(facts), 'change')} found"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
