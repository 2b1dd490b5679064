"""The in-memory calendar passes the calendar source contract."""

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from tests.connectors.contract.calendar_contract import NOW, CalendarContract, CalendarDriver
from worker.model import Attendee, Session
from worker.pipeline.calendar import CalendarSource, MemoryCalendar


class MemoryDriver:
    """Changes a `MemoryCalendar` directly."""

    supports_comments = True

    def __init__(self) -> None:
        self.calendar = MemoryCalendar(clock=lambda: NOW)
        self._count = 0

    def add_session(
        self, *, title: str, start: datetime, end: datetime, attendees: Sequence[Attendee]
    ) -> str:
        self._count += 1
        key = f"session-{self._count}"
        self.calendar.add(
            Session(key=key, title=title, start=start, end=end, attendees=tuple(attendees))
        )
        return key

    def delete(self, key: str) -> None:
        self.calendar.delete(key)

    def decline(self, key: str, email: str, comment: str) -> None:
        self.calendar.decline(key, email, comment)

    def cancel(self, key: str) -> None:
        self.calendar.cancel(key)

    def move(self, key: str, by: timedelta) -> None:
        self.calendar.move(key, by)

    def source(self) -> CalendarSource:
        return self.calendar


class TestMemoryCalendar(CalendarContract):
    @pytest.fixture
    def driver(self) -> CalendarDriver:
        return MemoryDriver()
