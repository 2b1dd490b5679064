"""Prevention: a short note before each session, saying until when it can be moved for free."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.practice import PRACTITIONER, SAM, Practice, config_for
from worker.clients import load_directory
from worker.model import Attendee, Response, Session
from worker.pipeline.casework import approve_notice, open_desk
from worker.store.db import transaction

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HOLD = timedelta(minutes=11)
NOOR = "noor@example.org"


def noting(tmp_path: Path, **policy: Any) -> Practice:
    return Practice(tmp_path, policy={"session_reminder": "48h", **policy})


def reconfigure(practice: Practice, **policy: Any) -> None:
    """The practitioner edits her policy and the worker starts again on the same state."""
    practice.config = config_for(practice.tmp_path, **policy)
    practice.worker = practice.build_worker()


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def notes(practice: Practice) -> list[EmailMessage]:
    return [m for m in practice.notices() if str(m["Subject"]).startswith("Our session on")]


def test_the_note_goes_48_hours_before_the_session_and_says_until_when_it_is_free(
    tmp_path: Path,
) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    practice.book("s1", SAM, 5 * DAY)  # Saturday 28 November, 09:00 in London
    practice.cycle()
    practice.clock.advance(3 * DAY - 2 * HOUR)
    practice.cycle()
    assert notes(practice) == [], "not yet: 50 hours before"
    practice.clock.advance(2 * HOUR)
    practice.cycle()

    [note] = notes(practice)
    assert [a.addr_spec for a in note["To"].addresses] == [SAM]
    assert str(note["Subject"]) == "Our session on Saturday 28 November"
    body = text(note)
    assert "our next session is on Saturday 28 November at 09:00" in body
    assert "free of charge until Friday 27 November at 09:00" in body
    practice.clock.advance(HOUR)
    practice.cycle()
    assert len(notes(practice)) == 1, "once per session"


def test_a_session_booked_after_its_note_time_gets_the_note_after_the_hold(
    practice: Practice,
) -> None:
    practice = noting(practice.tmp_path)
    practice.baseline()
    practice.book("s1", SAM, 30 * HOUR)
    practice.cycle()
    assert notes(practice) == []
    practice.clock.advance(HOLD)
    practice.cycle()
    [note] = notes(practice)
    assert "free of charge until Monday 23 November at 15:00" in text(note)


def test_a_session_first_seen_inside_the_late_window_gets_no_note(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    practice.book("s1", SAM, 20 * HOUR)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []
    assert practice.query("SELECT * FROM outbox") == []


def test_a_moved_session_gets_one_note_for_its_new_time(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    practice.book("s1", SAM, 5 * DAY)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.calendar.move("s1", DAY)  # to Sunday 29 November
    practice.cycle()
    states = practice.query("SELECT occurrence_start, state, detail FROM outbox ORDER BY id")
    assert [(r["occurrence_start"], r["state"]) for r in states] == [
        ("2026-11-28T09:00:00+00:00", "dropped"),
        ("2026-11-29T09:00:00+00:00", "queued"),
    ]
    assert states[0]["detail"] == "the session was moved; its new time gets its own note"

    for _ in range(6):
        practice.clock.advance(DAY)
        practice.cycle()
    [note] = notes(practice)
    assert "Sunday 29 November at 09:00" in text(note)


def test_a_cancelled_session_gets_no_note(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    practice.book("s1", SAM, 5 * DAY)
    practice.book("s2", SAM, 6 * DAY)
    practice.cycle()
    practice.calendar.decline("s1", SAM)  # declined well ahead: not late, nothing to judge
    practice.calendar.delete("s2")
    practice.clock.advance(HOUR)
    practice.cycle()
    for _ in range(6):
        practice.clock.advance(DAY)
        practice.cycle()
    assert practice.notices() == []
    rows = practice.query("SELECT session_key, state, detail FROM outbox ORDER BY session_key")
    assert [(r["session_key"], r["state"], r["detail"]) for r in rows] == [
        ("s1", "dropped", "the client declined the session"),
        ("s2", "dropped", "the session was cancelled"),
    ]


def test_an_exempt_client_gets_no_note(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    practice.book("v1", "vip@example.org", 3 * DAY)
    practice.cycle()
    practice.clock.advance(2 * DAY)
    practice.cycle()
    assert practice.notices() == []


def test_each_client_in_a_group_session_gets_their_own_note(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    start = practice.clock.now + 3 * DAY
    practice.calendar.add(
        Session(
            key="group",
            title="Group coaching",
            start=start,
            end=start + HOUR,
            organizer_email=PRACTITIONER,
            attendees=(
                Attendee(PRACTITIONER, "Dana Rivera", Response.ACCEPTED),
                Attendee(SAM, "Sam Taylor", Response.ACCEPTED),
                Attendee(NOOR, "Noor Haddad", Response.NEEDS_ACTION),
                Attendee("room-2@resource.example", "Room 2", is_resource=True),
            ),
        )
    )
    practice.cycle()
    practice.clock.advance(DAY + HOUR)
    practice.cycle()
    assert sorted(m["To"].addresses[0].addr_spec for m in notes(practice)) == [NOOR, SAM]


def test_quiet_hours_hold_the_note_until_morning(tmp_path: Path) -> None:
    practice = noting(tmp_path, quiet_hours={"start": "21:00", "end": "08:00"})
    practice.baseline()
    practice.clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    practice.book("s1", SAM, timedelta(days=3, hours=10))  # Thursday 26 November, 22:00
    practice.cycle()
    practice.clock.now = datetime(2026, 11, 24, 22, 5, tzinfo=UTC)  # the note's time, at night
    practice.cycle()
    assert notes(practice) == []
    practice.clock.now = datetime(2026, 11, 25, 8, 1, tzinfo=UTC)
    practice.cycle()
    [note] = notes(practice)
    assert "free of charge until Wednesday 25 November at 22:00" in text(note)


def test_the_first_look_sends_no_note_whose_time_has_already_passed(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.book("soon", SAM, 30 * HOUR)
    practice.book("later", SAM, 4 * DAY)
    practice.baseline()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []
    [row] = practice.query("SELECT session_key, not_before FROM outbox")
    assert (row["session_key"], row["not_before"]) == ("later", "2026-11-25T09:00:00+00:00")


def test_switching_the_notes_on_later_still_notes_sessions_booked_before(tmp_path: Path) -> None:
    practice = Practice(tmp_path)
    practice.book("s1", SAM, 6 * DAY)
    practice.baseline()
    practice.clock.advance(DAY)
    practice.cycle()
    assert practice.query("SELECT * FROM outbox") == []

    reconfigure(practice, session_reminder="48h")  # she switches the notes on
    for _ in range(4):
        practice.clock.advance(DAY)
        practice.cycle()
    [note] = notes(practice)
    assert "Sunday 29 November at 09:00" in text(note)


def test_switching_the_notes_off_drops_the_ones_waiting(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    practice.book("s1", SAM, 5 * DAY)
    practice.cycle()
    reconfigure(practice)
    practice.clock.advance(HOUR)
    practice.cycle()
    [row] = practice.query("SELECT state, detail FROM outbox")
    assert row["state"] == "dropped"
    assert "switched off" in row["detail"]


def test_in_review_mode_an_approved_note_still_goes_at_its_time(tmp_path: Path) -> None:
    practice = noting(tmp_path, mode="review")
    practice.baseline()
    practice.book("s1", SAM, 5 * DAY)
    practice.cycle()
    [row] = practice.query("SELECT ref, state FROM outbox")
    assert row["state"] == "review"
    config = practice.config
    desk = open_desk(config, practice.db, "main", load_directory(config), practice.clock())
    with transaction(practice.db):
        said = approve_notice(desk, row["ref"])
    assert said.endswith("will be sent at 2026-11-26T09:00:00+00:00")
    practice.clock.advance(DAY)
    practice.cycle()
    assert notes(practice) == []
    practice.clock.advance(2 * DAY)
    practice.cycle()
    assert len(notes(practice)) == 1


def test_a_note_left_in_review_until_the_late_window_is_dropped(tmp_path: Path) -> None:
    practice = noting(tmp_path, mode="review")
    practice.baseline()
    practice.book("s1", SAM, 5 * DAY)
    practice.cycle()
    practice.clock.advance(4 * DAY + HOUR)
    practice.cycle()
    [row] = practice.query("SELECT state, detail FROM outbox")
    assert (row["state"], row["detail"]) == ("dropped", "the session is now less than 24 h away")
    assert practice.notices() == []


def test_a_late_decline_after_the_note_went_out_still_gets_its_reminder(tmp_path: Path) -> None:
    practice = noting(tmp_path)
    practice.baseline()
    practice.book("s1", SAM, 3 * DAY)
    practice.cycle()
    practice.clock.advance(DAY + HOUR)
    practice.cycle()
    assert len(notes(practice)) == 1
    practice.clock.advance(DAY + 18 * HOUR)
    practice.calendar.decline("s1", SAM)  # 5 hours before
    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    assert [str(d.verdict) for d in report.sync.decisions] == ["reminder"]
    assert len(practice.notices()) == 2, "the note, then the reminder"
    [waiting] = practice.query("SELECT state FROM outbox WHERE kind = 'reminder'")
    assert waiting["state"] == "sent"
