"""Rules up front: a new client gets one welcome with the policy in full, and nobody else does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.errors import FairWarningError
from worker.pipeline.calendar import MemoryCalendar
from worker.pipeline.casework import Desk, approve_notice, open_desk, waive_notice
from worker.pipeline.cycle import Mailroom
from worker.pipeline.sender import Delivery, MemorySender, Outcome
from worker.pipeline.welcome import preview_welcome, send_welcome
from worker.service.health import health
from worker.store.db import transaction

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HOLD = timedelta(minutes=11)  # just past the 10-minute undo window
NOOR = "noor@example.org"
LUCIA = "lucia@example.org"
FULL_TEXT = "Sessions are prepaid.\nMove or cancel them 24 hours ahead; later, they are forfeited."
PDF = b"%PDF-1.4\n% Dana's cancellation policy agreement\n"


def welcoming(tmp_path: Path, *, document: bool = True, **policy: Any) -> Practice:
    """Dana's practice with the welcome switched on and her policy agreement attached."""
    practice = Practice(tmp_path, policy={"welcome": True, "full_text": FULL_TEXT, **policy})
    if document:
        path = tmp_path / "policy agreement.pdf"
        path.write_bytes(PDF)
        practitioner = practice.config.practitioner.model_copy(update={"policy_document": path})
        practice.config = practice.config.model_copy(update={"practitioner": practitioner})
        practice.worker = practice.build_worker()
    return practice


def desk(practice: Practice) -> Desk:
    config = practice.config
    return open_desk(config, practice.db, "main", load_directory(config), practice.clock())


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def welcomes(practice: Practice) -> list[EmailMessage]:
    return [m for m in practice.notices() if str(m["Subject"]).startswith("Welcome")]


def test_clients_already_on_the_calendar_at_the_first_look_get_no_welcome(tmp_path: Path) -> None:
    practice = welcoming(tmp_path)
    practice.book("s1", SAM, 3 * DAY)
    practice.book("s2", LUCIA, 4 * DAY)
    practice.baseline()
    practice.clock.advance(HOLD)
    practice.book("s3", SAM, 10 * DAY)  # an existing client books again
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert practice.notices() == []
    seen = practice.query("SELECT email, seen_as FROM clients_seen ORDER BY email")
    assert [(r["email"], r["seen_as"]) for r in seen] == [(LUCIA, "baseline"), (SAM, "baseline")]


def test_a_new_clients_first_booking_brings_one_welcome_with_the_policy_agreement(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path)
    practice.book("s1", SAM, 3 * DAY)
    practice.baseline()
    practice.clock.advance(HOUR)
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    assert practice.notices() == [], "the welcome waits out the undo window like any notice"
    practice.clock.advance(HOLD)
    practice.cycle()

    [welcome] = practice.notices()
    assert [a.addr_spec for a in welcome["To"].addresses] == [NOOR]
    assert str(welcome["Subject"]) == "Welcome, and a few words on how I work"
    body = text(welcome)
    assert "thank you for booking our session on Wednesday 25 November at 10:00" in body
    assert "Move or cancel them 24 hours ahead; later, they are forfeited." in body
    assert "at least 24 hours before it begins" in body
    [attached] = list(welcome.iter_attachments())
    assert attached.get_filename() == "policy agreement.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == PDF
    [row] = practice.query("SELECT email, seen_as FROM clients_seen WHERE email = ?", NOOR)
    assert row["seen_as"] == "new"


def test_a_second_booking_brings_no_second_welcome_even_on_another_account(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path)
    other_calendar = MemoryCalendar(clock=practice.clock)
    other_mailbox = MemorySender()
    practice.worker.mailrooms.append(Mailroom("clinic", other_calendar, other_mailbox))
    practice.worker.cycle()  # both calendars' first look
    practice.book("n1", NOOR, 2 * DAY)
    practice.worker.cycle()
    practice.clock.advance(HOLD)
    practice.worker.cycle()
    assert len(welcomes(practice)) == 1

    practice.book("n2", NOOR, 9 * DAY)
    other_calendar.add(practice.calendar.poll(None).sessions[0])  # the clinic books her too
    for _ in range(2):
        practice.clock.advance(HOLD)
        practice.worker.cycle()

    assert len(welcomes(practice)) == 1
    assert other_mailbox.sent == []
    kinds = practice.query("SELECT kind, account FROM outbox")
    assert [(r["kind"], r["account"]) for r in kinds] == [("welcome", "main")]


def test_the_welcome_is_off_unless_switched_on(practice: Practice) -> None:
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []
    [row] = practice.query("SELECT seen_as FROM clients_seen WHERE email = ?", NOOR)
    assert row["seen_as"] == "new", "known anyway: switching it on later greets nobody old"


def test_an_exempt_client_gets_no_welcome(tmp_path: Path) -> None:
    practice = welcoming(tmp_path)
    practice.baseline()
    practice.book("v1", "vip@example.org", 2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []


def test_a_session_the_client_already_declined_or_long_past_brings_no_welcome(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path)
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.calendar.decline("n1", NOOR)
    practice.book("old", "ola@example.org", -2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []


def test_a_spanish_client_is_welcomed_in_spanish_with_the_spanish_policy(tmp_path: Path) -> None:
    full_text = {"en": "Sessions are prepaid.", "es": "Las sesiones son prepagadas."}
    practice = welcoming(tmp_path, full_text=full_text)
    practice.baseline()
    practice.book("l1", LUCIA, 2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    [welcome] = practice.notices()
    assert str(welcome["Subject"]) == "Bienvenida, y unas palabras sobre cómo trabajo"
    assert "Las sesiones son prepagadas." in text(welcome)
    assert "(hora de Madrid)" in text(welcome)


def test_in_review_mode_the_welcome_waits_for_approval_by_its_reference(tmp_path: Path) -> None:
    practice = welcoming(tmp_path, mode="review")
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []
    [row] = practice.query("SELECT ref, state, decision_id FROM outbox")
    assert (row["state"], row["decision_id"]) == ("review", None)

    with transaction(practice.db):
        said = approve_notice(desk(practice), row["ref"].lower())
    assert f"the welcome to {NOOR} ({row['ref']}) will be sent on the next cycle" == said
    practice.cycle()
    assert len(welcomes(practice)) == 1


def test_a_waived_welcome_is_never_sent_and_never_comes_back(tmp_path: Path) -> None:
    practice = welcoming(tmp_path, mode="review")
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    [row] = practice.query("SELECT ref FROM outbox")
    with transaction(practice.db):
        said = waive_notice(desk(practice), row["ref"], "she had it from me in person")
    assert said.endswith("will not be sent")
    practice.book("n2", NOOR, 5 * DAY)
    for _ in range(2):
        practice.clock.advance(HOLD)
        practice.cycle()
    assert practice.notices() == []
    assert practice.outbox_states() == ["waived"]
    with transaction(practice.db), pytest.raises(FairWarningError, match="already waived"):
        waive_notice(desk(practice), row["ref"], "")


def test_quiet_hours_hold_the_welcome_until_morning(tmp_path: Path) -> None:
    practice = welcoming(tmp_path, quiet_hours={"start": "21:00", "end": "08:00"})
    practice.clock.now = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []
    practice.clock.now = datetime(2026, 11, 24, 8, 1, tzinfo=UTC)
    practice.cycle()
    assert len(welcomes(practice)) == 1


def test_a_missing_policy_agreement_keeps_the_welcome_waiting_and_says_why(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path)
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    document = tmp_path / "policy agreement.pdf"
    document.unlink()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert practice.notices() == []
    [row] = practice.query("SELECT state, detail FROM outbox")
    assert row["state"] == "queued"
    assert "practitioner.policy_document" in row["detail"]
    assert f"{document} does not exist" in row["detail"]

    document.write_bytes(PDF)
    practice.clock.advance(HOUR)
    practice.cycle()
    assert len(welcomes(practice)) == 1


def test_a_policy_agreement_over_10_mb_is_refused_with_the_fix(tmp_path: Path) -> None:
    practice = welcoming(tmp_path)
    (tmp_path / "policy agreement.pdf").write_bytes(b"%PDF" + b"0" * (10 * 1024 * 1024))
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    [row] = practice.query("SELECT state, detail FROM outbox")
    assert row["state"] == "queued"
    assert "10.0 MB, more than the 10 MB a notice may carry" in row["detail"]


def test_later_notices_can_say_when_the_policy_was_sent(tmp_path: Path) -> None:
    practice = welcoming(tmp_path)
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    practice.clock.advance(DAY + 10 * HOUR)
    practice.calendar.decline("n1", NOOR)  # now about 14 hours before
    practice.cycle()
    [row] = practice.query("SELECT facts FROM outbox WHERE kind = 'reminder'")
    assert '"policy_sent_at": "2026-11-23T09:11:00+00:00"' in row["facts"]


def test_a_welcome_by_hand_goes_once_even_to_a_client_known_from_the_first_look(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path)
    practice.book("s1", SAM, 3 * DAY)
    practice.baseline()
    plan, message = preview_welcome(
        desk(practice), practice.config, practice.worker.templates, SAM.upper()
    )
    assert plan.client.email == SAM
    assert "our session on Thursday 26 November at 09:00" in text(message)
    assert practice.query("SELECT * FROM outbox") == [], "a preview queues nothing"

    with transaction(practice.db):
        said = send_welcome(desk(practice), SAM)
    assert "after the 10 min hold, on the worker's next cycle" in said
    practice.clock.advance(HOLD)
    practice.cycle()
    assert len(welcomes(practice)) == 1
    with transaction(practice.db), pytest.raises(FairWarningError) as refused:
        send_welcome(desk(practice), SAM)
    assert refused.value.message == (
        f"the welcome was already sent to {SAM} on 2026-11-23 ({plan.ref}): a client gets it once"
    )


def test_a_welcome_by_hand_to_something_that_is_not_an_address_is_refused(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path)
    practice.baseline()
    with transaction(practice.db), pytest.raises(FairWarningError, match="not an email address"):
        send_welcome(desk(practice), "Sam Taylor")


def test_a_welcome_whose_send_ended_unknown_is_alerted_once_and_waits_for_you(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path)
    practice.baseline()
    practice.book("n1", NOOR, 2 * DAY)
    practice.cycle()
    practice.sender.script = [Delivery(Outcome.UNKNOWN, detail="the connection dropped")]
    practice.clock.advance(HOLD)
    practice.cycle()
    practice.cycle()

    [alert] = practice.alerts()
    [row] = practice.query("SELECT ref, state FROM outbox")
    assert row["state"] == "unknown"
    body = text(alert)
    assert f"sending a welcome to {NOOR}" in body
    assert f"fairwarning approve {row['ref']}" in body
    report = health(practice.db, ["main"], practice.clock(), timedelta(minutes=1))
    assert report["needs_you"] is True
    assert report["notices_waiting_for_you"] == [f"welcome {row['ref']} (unknown)"]


def test_with_judge_directory_a_prospect_gets_no_welcome_but_a_listed_client_does(
    tmp_path: Path,
) -> None:
    practice = welcoming(tmp_path, judge="directory")
    practice.baseline()
    practice.book("intro", "prospect@example.org", 2 * DAY, title="Free intro call")
    practice.book("s1", SAM, 3 * DAY)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    assert [m["To"].addresses[0].addr_spec for m in practice.notices()] == [SAM]
