"""What every calendar source must do, whatever the backend.

A backend's test module subclasses `CalendarContract` as `Test<Backend>` and provides a
`driver` fixture: an object that changes the backend the way the practitioner's calendar
app or a client would, and hands out the `CalendarSource` under test. The tests then poll
the source as the worker does, following its cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from worker.model import Attendee, CalendarChanges, Response, Session
from worker.pipeline.calendar import CalendarSource

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
MONDAY_TEN = datetime(2026, 11, 23, 10, tzinfo=UTC)
MAYA = Attendee(email="maya.patel@example.com", name="Maya Patel", response=Response.ACCEPTED)
TOM = Attendee(email="tom.okafor@example.org", name="Tom Okafor", response=Response.ACCEPTED)


class CalendarDriver(Protocol):
    """Changes one backend's calendar; every method acts as a person would in their app.

    `add_session` returns the key the source will list the session under.
    `supports_comments` says whether the backend keeps a note with a decline.
    """

    supports_comments: bool

    def add_session(
        self, *, title: str, start: datetime, end: datetime, attendees: Sequence[Attendee]
    ) -> str: ...

    def delete(self, key: str) -> None: ...

    def decline(self, key: str, email: str, comment: str) -> None: ...

    def cancel(self, key: str) -> None: ...

    def move(self, key: str, by: timedelta) -> None: ...

    def source(self) -> CalendarSource: ...


class Watcher:
    """Polls a source as the worker does: following the cursor, applying each listing."""

    def __init__(self, source: CalendarSource) -> None:
        self.source = source
        self.cursor: str | None = None
        self.known: dict[str, Session] = {}

    def poll(self) -> CalendarChanges:
        changes = self.source.poll(self.cursor)
        if changes.complete:
            self.known = {s.key: s for s in changes.sessions}
        else:
            for key in changes.removed:
                self.known.pop(key, None)
            self.known.update({s.key: s for s in changes.sessions})
        self.cursor = changes.cursor
        return changes


def listed_keys(changes: CalendarChanges) -> set[str]:
    return {session.key for session in changes.sessions}


def remembered(key: str) -> Session:
    """The worker's snapshot of a session under `key`, starting inside every source's window."""
    return Session(key=key, title="", start=MONDAY_TEN, end=MONDAY_TEN + timedelta(minutes=50))


class CalendarContract:
    """The tests every calendar source passes. Subclasses provide the `driver` fixture."""

    @pytest.fixture
    def driver(self) -> CalendarDriver:
        raise NotImplementedError("a calendar contract subclass must provide `driver`")

    @pytest.fixture
    def maya_on_monday(self, driver: CalendarDriver) -> str:
        return driver.add_session(
            title="Coaching – Maya Patel",
            start=MONDAY_TEN,
            end=MONDAY_TEN + timedelta(minutes=50),
            attendees=[MAYA],
        )

    def test_a_new_session_appears_with_its_attendees(self, driver: CalendarDriver) -> None:
        key = driver.add_session(
            title="Couples session – Maya & Tom",
            start=MONDAY_TEN,
            end=MONDAY_TEN + timedelta(minutes=90),
            attendees=[MAYA, TOM],
        )
        watcher = Watcher(driver.source())

        watcher.poll()

        session = watcher.known[key]
        assert session.title == "Couples session – Maya & Tom"
        assert (session.start, session.end) == (MONDAY_TEN, MONDAY_TEN + timedelta(minutes=90))
        assert not session.cancelled
        invited = {(a.address, a.name, a.response) for a in session.attendees}
        assert {(MAYA.email, MAYA.name, MAYA.response), (TOM.email, TOM.name, TOM.response)} <= (
            invited
        )

    def test_a_deleted_session_is_gone_from_the_next_listing(
        self, driver: CalendarDriver, maya_on_monday: str
    ) -> None:
        watcher = Watcher(driver.source())
        watcher.poll()

        driver.delete(maya_on_monday)
        changes = watcher.poll()

        if changes.complete:
            assert maya_on_monday not in listed_keys(changes)
            assert changes.covers(remembered(maya_on_monday))
        else:
            assert maya_on_monday in changes.removed
        assert maya_on_monday not in watcher.known

    def test_a_decline_shows_with_the_clients_note(
        self, driver: CalendarDriver, maya_on_monday: str
    ) -> None:
        watcher = Watcher(driver.source())
        watcher.poll()

        driver.decline(maya_on_monday, MAYA.email, "So sorry, I have a fever")
        watcher.poll()

        maya = watcher.known[maya_on_monday].attendee(MAYA.email)
        assert maya is not None
        assert maya.response is Response.DECLINED
        if driver.supports_comments:
            assert maya.comment == "So sorry, I have a fever"

    def test_a_cancelled_session_is_marked_cancelled_or_gone(
        self, driver: CalendarDriver, maya_on_monday: str
    ) -> None:
        watcher = Watcher(driver.source())
        watcher.poll()

        driver.cancel(maya_on_monday)
        changes = watcher.poll()

        if maya_on_monday in watcher.known:
            assert watcher.known[maya_on_monday].cancelled
        else:
            assert changes.complete or maya_on_monday in changes.removed

    def test_a_moved_session_keeps_its_key_with_new_times(
        self, driver: CalendarDriver, maya_on_monday: str
    ) -> None:
        watcher = Watcher(driver.source())
        watcher.poll()

        driver.move(maya_on_monday, timedelta(days=1, hours=2))
        watcher.poll()

        moved = watcher.known[maya_on_monday]
        tuesday_noon = MONDAY_TEN + timedelta(days=1, hours=2)
        assert (moved.start, moved.end) == (tuesday_noon, tuesday_noon + timedelta(minutes=50))
        assert not moved.cancelled

    def test_every_time_is_aware_and_in_utc(
        self, driver: CalendarDriver, maya_on_monday: str
    ) -> None:
        driver.decline(maya_on_monday, MAYA.email, "")
        watcher = Watcher(driver.source())

        watcher.poll()

        times = [
            moment
            for session in watcher.known.values()
            for moment in (
                session.start,
                session.end,
                session.updated,
                *(a.responded_at for a in session.attendees),
            )
            if moment is not None
        ]
        assert times
        assert all(moment.utcoffset() == timedelta(0) for moment in times)
        assert all(moment.tzname() == "UTC" for moment in times)

    def test_polling_twice_without_a_change_lists_the_same_sessions(
        self, driver: CalendarDriver, maya_on_monday: str
    ) -> None:
        watcher = Watcher(driver.source())
        watcher.poll()
        first = dict(watcher.known)

        changes = watcher.poll()

        assert watcher.known == first
        assert not changes.removed
        assert not changes.resync
