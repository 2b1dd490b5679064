"""Fair escalation and who is a client, on Google Calendar and Gmail: what Dana would see.

The real worker against the fake Google (see test_google_scenarios.py): a forfeit only ever
follows a reminder Gmail really sent; declines made before it went out join it; colleagues,
prospects and words like "Illinois" never become anyone's late cancellation.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.google.fake_google import FakeGoogle
from tests.connectors.google.test_google_scenarios import HOLD, HOUR, GooglePractice
from tests.practice import SAM, Clock
from worker.clients import load_directory
from worker.pipeline.casework import Desk, approve, open_desk, waive
from worker.store.db import transaction

LUCIA = "lucia@example.org"  # a Spanish-speaking client in Madrid
COLLEAGUE = "noor@clinic.example"
PROSPECT = "tom@prospect.example"
MINUTE = timedelta(minutes=1)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def practice_with(tmp_path: Path, fake: FakeGoogle, clock: Clock, **policy: Any) -> GooglePractice:
    return GooglePractice(tmp_path, fake, clock, policy=policy)


@pytest.fixture
def practice(tmp_path: Path, fake: FakeGoogle, clock: Clock) -> GooglePractice:
    return practice_with(tmp_path, fake, clock)


def desk(practice: GooglePractice, clock: Clock) -> Desk:
    config = practice.config
    return open_desk(config, practice.db, "main", load_directory(config), clock())


def kinds(practice: GooglePractice) -> list[tuple[str, str]]:
    rows = practice.db.execute("SELECT kind, state FROM outbox ORDER BY id")
    return [(r["kind"], r["state"]) for r in rows]


def last_reasons(practice: GooglePractice) -> list[str]:
    row = practice.db.execute("SELECT reasons FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
    return list(json.loads(row["reasons"]))


def reminder_ref(practice: GooglePractice) -> str:
    row = practice.db.execute("SELECT ref FROM outbox WHERE kind = 'reminder'").fetchone()
    return str(row["ref"])


# --- Declines made before the reminder went out join it -----------------------------------


def test_two_late_declines_in_one_poll_get_one_gmail_reminder_naming_both(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    first = practice.book(starts_in=5 * HOUR)
    second = practice.book(starts_in=23 * HOUR)
    practice.baseline()
    clock.advance(HOUR)
    fake.decline(first, SAM)
    fake.decline(second, SAM)

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    assert [str(d.verdict) for d in report.sync.decisions] == ["reminder", "reminder"]
    assert last_reasons(practice)[-1] == (
        f"joins the reminder {reminder_ref(practice)} still waiting to go out"
    )
    [reminder] = practice.notices()
    assert "and our session on Tuesday 24 November at 08:00." in _body(reminder)
    assert kinds(practice) == [("reminder", "sent")]


def test_a_decline_during_the_undo_window_joins_the_reminder(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    first = practice.book(starts_in=5 * HOUR)
    second = practice.book(starts_in=23 * HOUR)
    practice.baseline()
    clock.advance(MINUTE)
    fake.decline(first, SAM)
    practice.cycle()
    clock.advance(5 * MINUTE)
    fake.decline(second, SAM)
    practice.cycle()

    clock.advance(HOLD)
    practice.cycle()

    [reminder] = practice.notices()
    assert "and our session on Tuesday 24 November at 08:00." in _body(reminder)
    assert kinds(practice) == [("reminder", "sent")]


def test_a_decline_during_quiet_hours_joins_the_reminder_waiting_for_the_morning(
    tmp_path: Path, fake: FakeGoogle, clock: Clock
) -> None:
    practice = practice_with(tmp_path, fake, clock, quiet_hours={"start": "21:00", "end": "08:00"})
    clock.now = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
    first = practice.book(starts_in=11 * HOUR)
    second = practice.book(starts_in=12 * HOUR + 30 * MINUTE)
    practice.baseline()
    clock.advance(MINUTE)
    fake.decline(first, SAM)
    practice.cycle()
    clock.advance(HOLD)
    practice.cycle()
    clock.advance(HOUR)
    fake.decline(second, SAM)
    practice.cycle()

    assert practice.notices() == []
    clock.now = datetime(2026, 11, 24, 8, 1, tzinfo=UTC)
    practice.cycle()

    [reminder] = practice.notices()
    assert "and our session on Tuesday 24 November at 10:00." in _body(reminder)


def test_a_decline_while_the_reminder_waits_for_review_joins_it(
    tmp_path: Path, fake: FakeGoogle, clock: Clock
) -> None:
    practice = practice_with(tmp_path, fake, clock, mode="review")
    first = practice.book(starts_in=5 * HOUR)
    second = practice.book(starts_in=29 * HOUR)
    practice.baseline()
    clock.advance(HOUR)
    fake.decline(first, SAM)
    practice.cycle()
    clock.advance(6 * HOUR)
    fake.decline(second, SAM)
    practice.cycle()

    [case] = practice.db.execute("SELECT id FROM decisions WHERE status = 'open'").fetchall()
    with transaction(practice.db):
        approve(desk(practice, clock), case["id"])
    practice.cycle()

    [reminder] = practice.notices()
    assert "and our session on Tuesday 24 November at 14:00." in _body(reminder)
    assert kinds(practice) == [("reminder", "sent")]


# --- A forfeit rests on a reminder Gmail sent ------------------------------------------------


def test_a_late_decline_after_the_reminder_was_sent_forfeits_and_names_it(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    first = practice.book(starts_in=5 * HOUR)
    second = practice.book(starts_in=29 * HOUR)
    practice.baseline()
    clock.advance(HOUR)
    fake.decline(first, SAM)
    practice.cycle()
    clock.advance(HOLD)
    practice.cycle()
    clock.advance(6 * HOUR)
    fake.decline(second, SAM)

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert str(decision.verdict) == "forfeit"
    assert (
        last_reasons(practice)[-1]
        == f"rests on the reminder {reminder_ref(practice)} sent on 23 Nov"
    )
    _, forfeit = practice.notices()
    assert "As I mentioned when I wrote to you on 23 November" in _body(forfeit)


def test_after_a_waived_reminder_the_next_late_decline_gets_a_reminder_again(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    first = practice.book(starts_in=5 * HOUR)
    second = practice.book(starts_in=29 * HOUR)
    practice.baseline()
    clock.advance(HOUR)
    fake.decline(first, SAM)
    practice.cycle()
    [case] = practice.db.execute("SELECT id FROM decisions").fetchall()
    with transaction(practice.db):
        waive(desk(practice, clock), case["id"], "she rang me the day before")
    clock.advance(6 * HOUR)
    fake.decline(second, SAM)

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert (str(decision.verdict), decision.offence) == ("reminder", 1)
    assert kinds(practice) == [("reminder", "dropped"), ("reminder", "sent")]


# --- Who is a client, and what is an emergency ---------------------------------------------


def test_a_meeting_a_colleague_organised_and_cancelled_is_recorded_and_nothing_more(
    tmp_path: Path, fake: FakeGoogle, clock: Clock
) -> None:
    practice = practice_with(tmp_path, fake, clock, colleagues=[COLLEAGUE])
    start = clock.now + 5 * HOUR
    theirs = fake.add_event(
        summary="Joint session with Sam",
        start=start,
        end=start + timedelta(minutes=50),
        organizer=COLLEAGUE,
        attendees=[{"email": COLLEAGUE, "organizer": True}, {"email": SAM}],
    )
    practice.baseline()
    clock.advance(MINUTE)
    fake.delete(theirs, keep_details=True)

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert str(decision.verdict) == "ignore"
    assert decision.reasons == (
        f"organised and cancelled by your colleague {COLLEAGUE}, not by a client: "
        "nobody's late cancellation",
    )
    assert practice.db.execute("SELECT * FROM decisions WHERE status = 'open'").fetchall() == []
    assert practice.notices() == []


def test_with_judge_directory_a_prospect_declining_is_not_judged(
    tmp_path: Path, fake: FakeGoogle, clock: Clock
) -> None:
    practice = practice_with(tmp_path, fake, clock, judge="directory")
    intro = practice.book(PROSPECT, starts_in=5 * HOUR)
    practice.baseline()
    clock.advance(MINUTE)
    fake.decline(intro, PROSPECT)

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.reasons == ("not in your client list (policy.judge = directory)",)
    assert practice.notices() == []
    assert practice.db.execute("SELECT * FROM decisions WHERE status = 'open'").fetchall() == []


@pytest.mark.parametrize(
    ("client", "comment", "verdict"),
    [
        (SAM, "Stuck in Illinois, flight cancelled", "reminder"),
        (SAM, "I'm ill, sorry", "review"),
        (LUCIA, "Lo siento mucho, estoy enferma", "review"),
        (LUCIA, "Soy enfermera y me cambiaron el turno", "reminder"),
    ],
)
def test_emergency_words_in_a_google_decline_comment_are_whole_words(
    practice: GooglePractice,
    fake: FakeGoogle,
    clock: Clock,
    client: str,
    comment: str,
    verdict: str,
) -> None:
    session = practice.book(client, starts_in=5 * HOUR)
    practice.baseline()
    clock.advance(MINUTE)
    fake.decline(session, client, comment)

    report = practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert str(decision.verdict) == verdict
