"""The Google calendar passes the calendar source contract, driven through the fake Google.

The driver changes the fake's calendar the way Google Calendar shows people's acts: a
deleted session comes back as just its id, a cancelled one keeps its details (as on the
organizer's calendar), a decline carries the attendee's comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors.google import GoogleCalendar
from connectors.google.http import Backoff
from tests.connectors.contract.calendar_contract import NOW, CalendarContract, CalendarDriver
from tests.connectors.google.fake_google import PRACTITIONER, FakeGoogle
from worker.model import Attendee
from worker.pipeline.calendar import CalendarSource

_STATUS = {"accepted": "accepted", "declined": "declined", "tentative": "tentative"}


class GoogleDriver:
    """Changes the fake Google's calendar and hands out a `GoogleCalendar` reading it."""

    supports_comments = True

    def __init__(self, fake: FakeGoogle, token_path: Path) -> None:
        self.fake = fake
        self.token_path = token_path

    def add_session(
        self, *, title: str, start: datetime, end: datetime, attendees: Sequence[Attendee]
    ) -> str:
        return self.fake.add_event(
            summary=title,
            start=start,
            end=end,
            attendees=[
                {
                    "email": a.email,
                    "displayName": a.name,
                    "responseStatus": _STATUS.get(a.response.value, "needsAction"),
                }
                for a in attendees
            ],
        )

    def delete(self, key: str) -> None:
        self.fake.delete(key)

    def decline(self, key: str, email: str, comment: str) -> None:
        self.fake.decline(key, email, comment)

    def cancel(self, key: str) -> None:
        self.fake.delete(key, keep_details=True)

    def move(self, key: str, by: timedelta) -> None:
        self.fake.move(key, by)

    def source(self) -> CalendarSource:
        return GoogleCalendar(
            account="main",
            token_path=self.token_path,
            practitioner_email=PRACTITIONER,
            time_zone="Europe/London",
            api_endpoint=self.fake.url,
            clock=lambda: NOW,
            backoff=Backoff(attempts=1),
        )


class TestGoogleCalendar(CalendarContract):
    @pytest.fixture
    def driver(self, fake: FakeGoogle, token_path: Path) -> CalendarDriver:
        return GoogleDriver(fake, token_path)
