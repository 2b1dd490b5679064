"""The snapshot keeps sessions exactly: a rounded time would read as a change next poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.model import Attendee, Response, Session
from worker.store.codec import session_from_json, session_to_json


def test_a_session_survives_the_snapshot_to_the_microsecond() -> None:
    start = datetime(2026, 11, 24, 15, 0, 0, 123456, tzinfo=UTC)
    session = Session(
        key="abc_20261124T150000Z",
        title="Coaching · Sam",
        start=start,
        end=start + timedelta(minutes=50),
        organizer_email="dana@example.com",
        attendees=(Attendee("sam@example.org", "Sam", Response.DECLINED, "sorry!", start, False),),
        updated=start - timedelta(hours=3, microseconds=7),
        series_id="abc",
    )
    assert session_from_json(session_to_json(session)) == session
