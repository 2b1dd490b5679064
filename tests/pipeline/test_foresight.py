"""Seeing what approving a case would send, before approving it: the very message, nothing
written."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.errors import FairWarningError
from worker.notices.templates import TemplateLibrary
from worker.pipeline.casework import Desk, approve, open_desk, waive
from worker.pipeline.foresight import Foreseen, foresee, foresee_notice
from worker.pipeline.sender import Delivery, Outcome
from worker.store.db import transaction

HOUR = timedelta(hours=1)
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def desk(practice: Practice) -> Desk:
    config = practice.config
    return open_desk(config, practice.db, "main", load_directory(config), practice.clock())


def look(practice: Practice, case: int) -> Foreseen:
    config = practice.config
    library = TemplateLibrary(user_dir=practice.templates_dir)
    return foresee(desk(practice), case, library, config.practitioner, config.policy)


def text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def everything(db: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: what `foresee` must leave exactly as it found it."""
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: [tuple(r) for r in db.execute(f"SELECT * FROM {t}")] for t in tables}


def open_case(practice: Practice) -> int:
    [row] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    return int(row["id"])


def warned_then_forfeit(practice: Practice) -> int:
    """Sam's reminder goes out (approved in review); a later late decline of a session with a
    hostile title waits for review as a forfeit. Returns that case."""
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 29 * HOUR, title=HOSTILE)
    practice.baseline()
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    with transaction(practice.db):
        approve(desk(practice), open_case(practice))
    practice.cycle()
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    return open_case(practice)


def test_the_forfeit_foreseen_is_the_forfeit_delivery_sends_after_approval(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    case = warned_then_forfeit(practice)

    seen = look(practice, case)
    with transaction(practice.db):
        approve(desk(practice), case)
    practice.cycle()

    _, sent = practice.notices()
    assert (seen.kind, seen.client_email) == ("forfeit", SAM)
    assert seen.message is not None
    assert seen.problem == ""
    assert seen.message["Subject"] == sent["Subject"]
    assert text(seen.message) == text(sent)
    assert html(seen.message) == html(sent)
    assert "4 prepaid sessions" in text(seen.message)
    assert "<script>" not in html(seen.message)
    assert "will be sent on the next cycle" in seen.said


def test_a_deleted_session_foreseen_climbs_the_ladder_as_approval_does(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    warned_then_forfeit(practice)
    with transaction(practice.db):
        waive(desk(practice), open_case(practice), "he was ill")
    practice.book("s3", SAM, 8 * HOUR)
    practice.cycle()
    practice.calendar.delete("s3")
    practice.cycle()
    case = open_case(practice)
    before = everything(practice.db)

    seen = look(practice, case)

    assert everything(practice.db) == before
    assert seen.kind == "forfeit", "Sam was warned: approving climbs to the forfeit"
    with transaction(practice.db):
        approve(desk(practice), case)
    practice.cycle()
    sent = practice.notices()[-1]
    assert seen.message is not None
    assert (seen.message["Subject"], text(seen.message)) == (sent["Subject"], text(sent))
    [row] = practice.query("SELECT ref FROM outbox WHERE decision_id = ?", case)
    assert seen.ref == row["ref"]


def test_foreseeing_writes_nothing_inside_or_outside_a_transaction(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    case = warned_then_forfeit(practice)
    before = everything(practice.db)

    look(practice, case)
    assert not practice.db.in_transaction
    assert everything(practice.db) == before

    with transaction(practice.db):
        practice.db.execute("INSERT INTO problems VALUES ('main', 'mine', 'now')")
        look(practice, case)
        assert practice.db.in_transaction, "the caller's transaction goes on"
    after = everything(practice.db)
    assert after["problems"] == [("main", "mine", "now")], "the caller's own write is kept"
    assert {k: v for k, v in after.items() if k != "problems"} == {
        k: v for k, v in before.items() if k != "problems"
    }


def test_a_waived_case_cannot_be_foreseen_and_nothing_changes(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    case = warned_then_forfeit(practice)
    with transaction(practice.db):
        waive(desk(practice), case, "my mistake")
    before = everything(practice.db)

    with pytest.raises(FairWarningError, match=f"case {case} is waived"):
        look(practice, case)
    assert everything(practice.db) == before
    assert not practice.db.in_transaction


def test_a_send_that_ended_unknown_is_foreseen_as_it_would_be_sent_again(
    practice: Practice,
) -> None:
    practice.sender.script = [Delivery(Outcome.UNKNOWN, detail="timed out")]
    practice.late_decline()
    practice.clock.advance(HOUR)
    practice.cycle()
    [row] = practice.query("SELECT decision_id, ref, state FROM outbox")
    assert row["state"] == "unknown"

    seen = look(practice, row["decision_id"])
    with transaction(practice.db):
        approve(desk(practice), row["decision_id"])
    practice.cycle()

    [sent] = practice.notices()
    assert seen.ref == row["ref"]
    assert seen.message is not None
    assert (seen.message["Subject"], text(seen.message)) == (sent["Subject"], text(sent))
    assert practice.outbox_states() == ["sent"]


def test_a_broken_template_is_foreseen_as_its_error_and_line(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "en").mkdir(parents=True)
    (templates / "en" / "reminder.txt.j2").write_text("Hi\n{{ client_first_name }\n")
    practice = Practice(tmp_path, policy={"mode": "review"}, templates_dir=templates)
    practice.late_decline()

    seen = look(practice, open_case(practice))

    assert seen.message is None
    assert "reminder.txt.j2" in seen.problem
    assert seen.line == 2
    assert practice.outbox_states() == ["review"]


def test_a_notice_is_foreseen_by_its_reference(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    practice.late_decline()
    [row] = practice.query("SELECT ref FROM outbox")
    config = practice.config
    library = TemplateLibrary()

    seen = foresee_notice(
        desk(practice), row["ref"].lower(), library, config.practitioner, config.policy
    )

    assert seen.ref == row["ref"]
    assert seen.message is not None
    assert practice.outbox_states() == ["review"]
    with pytest.raises(FairWarningError, match="there is no notice FW-NOPE"):
        foresee_notice(desk(practice), "FW-NOPE", library, config.practitioner, config.policy)
