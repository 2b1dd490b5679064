"""Re-syncs lose nothing: when a calendar's change marker is lost, the fresh listing is judged.

A provider sometimes forgets where the worker was (Google 410, Graph syncStateNotFound) and
the calendar is listed again from scratch. Whatever a client did in that gap is compared with
the worker's own snapshot like any poll: judged on the provider's own time when it has one
after the last good poll, and put in review when its lateness depends on a gap in watching.
Only the very first look at a calendar is silent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.practice import SAM, Clock, Practice
from worker.model import CalendarChanges, CancelTimeSource, FactKind, Response, Verdict
from worker.pipeline.calendar import MemoryCalendar
from worker.store import sync_state

HOUR = timedelta(hours=1)
HOLD = timedelta(minutes=11)
LOST = "Google Calendar dropped the sync token (HTTP 410 fullSyncRequired)"


class ForgetfulCalendar(MemoryCalendar):
    """A memory calendar whose provider can lose the worker's change marker.

    After `lose_marker`, the next poll is a complete listing of `window` that says why.
    """

    def __init__(self, *, clock: Clock) -> None:
        super().__init__(clock=clock)
        self.lost = False
        self.ahead: timedelta | None = None

    def lose_marker(self, *, ahead: timedelta | None = None) -> None:
        self.lost = True
        self.ahead = ahead

    def decline_without_a_trace(self, key: str, email: str) -> None:
        """A decline the provider carries no time for (no response time, no last change)."""
        old = self._sessions[key]
        attendees = tuple(
            replace(a, response=Response.DECLINED) if a.address == email else a
            for a in old.attendees
        )
        self._sessions[key] = replace(old, attendees=attendees)

    def poll(self, cursor: str | None) -> CalendarChanges:
        listing = super().poll(cursor)
        if not self.lost:
            return listing
        self.lost = False
        now = self._clock()
        end = now + self.ahead if self.ahead else datetime.max.replace(tzinfo=UTC)
        window = (now - timedelta(days=7), end)
        return CalendarChanges(
            sessions=tuple(s for s in listing.sessions if window[0] <= s.start < window[1]),
            complete=True,
            window=window,
            resync=LOST,
        )


def _forgetful(practice: Practice) -> ForgetfulCalendar:
    calendar = ForgetfulCalendar(clock=practice.clock)
    practice.calendar = calendar
    practice.worker = practice.build_worker()
    return calendar


def _audit(practice: Practice, event: str) -> list[str]:
    return [r["detail"] for r in practice.query("SELECT detail FROM audit WHERE event = ?", event)]


def test_a_decline_made_while_the_marker_was_lost_still_gets_its_reminder(
    practice: Practice,
) -> None:
    calendar = _forgetful(practice)
    practice.book("s1", SAM, 5 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    calendar.decline("s1", SAM)
    calendar.lose_marker()

    report = practice.cycle()

    assert report.sync is not None
    assert not report.sync.baseline
    assert report.sync.resync == LOST
    [decision] = report.sync.decisions
    assert decision.verdict is Verdict.REMINDER
    assert decision.fact.cancelled_at.source is CancelTimeSource.RESPONSE_TIME
    assert decision.notice == 4 * HOUR
    practice.clock.advance(HOLD)
    practice.cycle()
    assert len(practice.sent_to(SAM)) == 1
    [line] = _audit(practice, "resync")
    assert line.startswith(f"{LOST}; listed 1 session again")
    assert line.endswith("1 change found")


def test_a_session_deleted_in_the_gap_waits_for_review_when_its_lateness_depends_on_it(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"own_deletion": "client"})
    calendar = _forgetful(practice)
    practice.book("s1", SAM, 26 * HOUR)
    practice.baseline()
    practice.clock.advance(3 * HOUR)  # 23 h before the session: late now, not 3 h ago
    calendar.delete("s1")
    calendar.lose_marker()

    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.fact.kind is FactKind.DELETED
    assert decision.fact.cancelled_at.source is CancelTimeSource.FIRST_SEEN
    assert decision.verdict is Verdict.REVIEW
    assert "gap in watching" in decision.reasons[0]
    assert practice.notices() == []


def test_a_session_deleted_in_the_gap_that_was_late_either_way_is_judged_as_late(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"own_deletion": "client"})
    calendar = _forgetful(practice)
    practice.book("s1", SAM, 5 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    calendar.delete("s1")
    calendar.lose_marker()

    [decision] = practice.cycle().sync.decisions  # type: ignore[union-attr]

    assert decision.verdict is Verdict.REMINDER


def test_a_decline_with_no_time_of_its_own_follows_the_outage_rule(practice: Practice) -> None:
    calendar = _forgetful(practice)
    practice.book("s1", SAM, 26 * HOUR)
    practice.baseline()
    practice.clock.advance(3 * HOUR)
    calendar.decline_without_a_trace("s1", SAM)
    calendar.lose_marker()

    [decision] = practice.cycle().sync.decisions  # type: ignore[union-attr]

    assert decision.fact.kind is FactKind.DECLINED
    assert decision.fact.cancelled_at.earliest == practice.clock.now - 3 * HOUR
    assert decision.verdict is Verdict.REVIEW


def test_a_resync_that_finds_nothing_new_sends_nothing_and_stays_in_the_history(
    practice: Practice,
) -> None:
    calendar = _forgetful(practice)
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 30 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    calendar.lose_marker()

    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    assert report.sync.decisions == ()
    assert practice.notices() == []
    [line] = _audit(practice, "resync")
    assert line.endswith("0 changes found")


def test_a_session_outside_the_relisted_window_is_not_taken_as_deleted(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"own_deletion": "client"})
    calendar = _forgetful(practice)
    practice.book("soon", SAM, 5 * HOUR)
    practice.book("spring", SAM, 90 * 24 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    calendar.lose_marker(ahead=timedelta(days=60))

    report = practice.cycle()

    assert report.sync is not None
    assert report.sync.decisions == ()
    assert not sync_state.snapshot(practice.db, "main")["spring"].cancelled


def test_the_first_look_at_a_calendar_stays_silent_even_when_it_comes_from_a_resync(
    practice: Practice,
) -> None:
    calendar = _forgetful(practice)
    practice.book("s1", SAM, 5 * HOUR)
    calendar.decline("s1", SAM)
    calendar.lose_marker()

    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    assert report.sync.baseline
    assert report.sync.resync == ""
    assert report.sync.decisions == ()
    assert practice.notices() == []
    assert _audit(practice, "resync") == []
    assert len(_audit(practice, "baseline")) == 1
