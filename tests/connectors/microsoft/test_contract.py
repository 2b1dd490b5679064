"""The Outlook calendar passes the calendar source contract, against an in-memory Graph."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
import responses

from connectors.microsoft import OutlookCalendar
from tests.connectors.contract.calendar_contract import NOW, CalendarContract, CalendarDriver
from tests.connectors.microsoft.fake_graph import FakeGraph
from tests.connectors.microsoft.helpers import StaticTokens
from worker.model import Attendee
from worker.pipeline.calendar import CalendarSource

PRACTITIONER = "sam@riverscoaching.co.uk"


class GraphDriver:
    """Acts in Outlook as the practitioner and clients would; Graph reports it by delta."""

    supports_comments = False  # Graph keeps no decline note on the organizer's copy

    def __init__(self, graph: FakeGraph) -> None:
        self.graph = graph

    def add_session(
        self, *, title: str, start: datetime, end: datetime, attendees: Sequence[Attendee]
    ) -> str:
        return self.graph.add_event(
            subject=title,
            start=start,
            end=end,
            attendees=[(a.email, a.name, _graph_response(a)) for a in attendees],
        )

    def delete(self, key: str) -> None:
        self.graph.delete(key)

    def decline(self, key: str, email: str, comment: str) -> None:
        self.graph.decline(key, email)

    def cancel(self, key: str) -> None:
        # Cancelling a meeting one organised removes it from one's own Outlook calendar.
        self.graph.delete(key)

    def move(self, key: str, by: timedelta) -> None:
        self.graph.move(key, by)

    def source(self) -> CalendarSource:
        return OutlookCalendar(
            account="main",
            tokens_dir=NotImplemented,
            practitioner_email=PRACTITIONER,
            time_zone="Europe/London",
            clock=lambda: NOW,
            tokens=StaticTokens(),
        )


def _graph_response(attendee: Attendee) -> str:
    return {"accepted": "accepted", "declined": "declined", "tentative": "tentativelyAccepted"}.get(
        attendee.response.value, "none"
    )


class TestOutlookCalendar(CalendarContract):
    @pytest.fixture
    def driver(self, mocked: responses.RequestsMock) -> CalendarDriver:
        return GraphDriver(FakeGraph(mocked, practitioner=PRACTITIONER, clock=lambda: NOW))
