"""The welcome, the note before a session and the closure on Google Calendar and Gmail.

The real core and the real Google connectors, against the fake Google: what Gmail was asked to
send is exactly what a client would receive.
"""

from __future__ import annotations

from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.connectors.google.fake_google import FakeGoogle
from tests.connectors.google.test_google_scenarios import GooglePractice
from tests.practice import SAM, Clock
from worker.clients import load_directory
from worker.pipeline.casework import open_desk
from worker.pipeline.closure import close_client, plan_closure
from worker.store.db import transaction

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HOLD = timedelta(minutes=11)
NOOR = "noor@example.org"
PDF = b"%PDF-1.4\n% the policy agreement\n"


@pytest.fixture
def practice(tmp_path: Path, fake: FakeGoogle, clock: Clock) -> GooglePractice:
    """Dana on Google with the welcome, its agreement, and notes 48 hours ahead."""
    made = GooglePractice(
        tmp_path,
        fake,
        clock,
        policy={"welcome": True, "full_text": "Sessions are prepaid.", "session_reminder": "48h"},
    )
    document = tmp_path / "agreement.pdf"
    document.write_bytes(PDF)
    practitioner = made.config.practitioner.model_copy(update={"policy_document": document})
    made.config = made.config.model_copy(update={"practitioner": practitioner})
    made.worker.config = made.config
    return made


def _subjects(messages: list[EmailMessage]) -> list[tuple[str, str]]:
    return [(m["To"].addresses[0].addr_spec, str(m["Subject"])) for m in messages]


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_new_client_on_google_gets_one_welcome_with_the_agreement_and_nobody_else_does(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    practice.book(SAM, starts_in=4 * DAY)
    practice.baseline()
    clock.advance(HOUR)
    first = practice.book(NOOR, starts_in=5 * DAY)
    practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    [welcome] = practice.notices()
    assert _subjects([welcome]) == [(NOOR, "Welcome, and a few words on how I work")]
    assert "Sessions are prepaid." in _body(welcome)
    [attached] = list(welcome.iter_attachments())
    assert (attached.get_filename(), attached.get_content()) == ("agreement.pdf", PDF)

    practice.book(NOOR, starts_in=12 * DAY)
    fake.move(first, HOUR)
    for _ in range(2):
        clock.advance(HOLD)
        practice.cycle()
    assert len(practice.notices()) == 1, "no second welcome, and Sam never got one"


def test_the_note_before_a_session_follows_it_when_moved_and_not_when_cancelled(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    practice.baseline()
    moved = practice.book(SAM, starts_in=4 * DAY)
    cancelled = practice.book(SAM, starts_in=5 * DAY)
    practice.cycle()
    clock.advance(HOUR)
    fake.move(moved, 3 * HOUR)
    fake.delete(cancelled)
    practice.cycle()
    for _ in range(8):
        clock.advance(12 * HOUR)
        practice.cycle()

    notes = [m for m in practice.notices() if str(m["Subject"]).startswith("Our session")]
    [note] = notes
    assert "our next session is on Friday 27 November at 12:00" in _body(note)
    assert "free of charge until Thursday 26 November at 12:00" in _body(note)
    rows = practice.db.execute("SELECT state FROM outbox WHERE kind = 'session_reminder'")
    assert sorted(r["state"] for r in rows) == ["dropped", "dropped", "sent"]


def test_a_closure_goes_through_gmail_once_and_later_declines_are_not_judged(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    session = practice.book(SAM, starts_in=2 * DAY)
    practice.baseline()
    config = practice.config
    desk = open_desk(config, practice.db, "main", load_directory(config), clock())
    with transaction(practice.db):
        plan = plan_closure(
            desk, SAM, reason="repeated late cancellations", effective=date(2026, 12, 1)
        )
        close_client(desk, plan)
    clock.advance(HOLD)
    practice.cycle()
    clock.advance(DAY + 12 * HOUR)
    fake.decline(session, SAM)
    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert _subjects(practice.notices()) == [(SAM, "The end of our working relationship")]
    assert "repeated late cancellations" in _body(practice.notices()[0])
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert str(decision.verdict) == "ignore"
    assert "you ended the working relationship on 2026-12-01" in decision.reasons[-1]
