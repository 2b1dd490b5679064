"""The seam between the worker and a calendar: one small protocol and an in-memory calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from worker.model import CalendarChanges, Response, Session


class CalendarSource(Protocol):
    """Anything that can list a practitioner's sessions.

    `poll` receives the cursor it returned last time (None on the first poll, or after the
    worker dropped it) and returns the sessions it knows of. It raises `Recoverable` for
    outages and `AccountNeedsPractitioner` when its credentials no longer work.
    """

    def poll(self, cursor: str | None) -> CalendarChanges: ...


class MemoryCalendar:
    """A calendar held in memory, for tests and the demo. Always returns a complete listing."""

    def __init__(self, *, clock: Callable[[], datetime]) -> None:
        self._sessions: dict[str, Session] = {}
        self._clock = clock

    def add(self, session: Session) -> None:
        self._sessions[session.key] = replace(session, updated=session.updated or self._clock())

    def delete(self, key: str) -> None:
        del self._sessions[key]

    def cancel(self, key: str) -> None:
        self._sessions[key] = replace(self._sessions[key], cancelled=True, updated=self._clock())

    def move(self, key: str, by: timedelta) -> None:
        old = self._sessions[key]
        self._sessions[key] = replace(
            old, start=old.start + by, end=old.end + by, updated=self._clock()
        )

    def decline(self, key: str, email: str, comment: str = "") -> None:
        old = self._sessions[key]
        now = self._clock()
        attendees = tuple(
            replace(a, response=Response.DECLINED, comment=comment, responded_at=now)
            if a.address == email.lower()
            else a
            for a in old.attendees
        )
        self._sessions[key] = replace(old, attendees=attendees, updated=now)

    def poll(self, cursor: str | None) -> CalendarChanges:
        return CalendarChanges(sessions=tuple(self._sessions.values()), complete=True)
