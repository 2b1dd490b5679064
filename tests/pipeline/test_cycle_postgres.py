"""The whole pipeline on PostgreSQL: the practitioner sees what they see on SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.pipeline.casework import Desk, approve, open_desk, waive
from worker.store.db import transaction

HOUR = timedelta(hours=1)


OnPostgres = Callable[..., Practice]


@pytest.fixture
def on_postgres(tmp_path: Path, postgres_url: str) -> Iterator[OnPostgres]:
    """Practices whose state is a fresh PostgreSQL database; closed after the test."""
    made: list[Practice] = []

    def practice(**settings: Any) -> Practice:
        made.append(Practice(tmp_path, database=postgres_url, **settings))
        return made[-1]

    yield practice
    for each in made:
        each.db.close()


def _desk(practice: Practice) -> Desk:
    config = practice.config
    return open_desk(config, practice.db, "main", load_directory(config), practice.clock())


def test_a_late_decline_sends_one_reminder_after_the_undo_window_on_postgresql(
    tmp_path: Path, on_postgres: OnPostgres
) -> None:
    practice = on_postgres()
    practice.late_decline()
    assert practice.notices() == []  # still in the undo window
    practice.clock.advance(HOUR)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    [reminder] = practice.sent_to(SAM)
    assert "remind" in str(reminder["Subject"]).lower()
    assert practice.outbox_states() == ["sent"]
    assert not (tmp_path / "state" / "fairwarning.sqlite3").exists()


def test_the_second_late_decline_forfeits_and_spends_a_prepaid_session_on_postgresql(
    on_postgres: OnPostgres,
) -> None:
    practice = on_postgres()
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 29 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()  # the reminder goes out: only then can a forfeit rest on it
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    _reminder, forfeit = practice.sent_to(SAM)
    assert "4 prepaid sessions" in str(forfeit.get_body(preferencelist=("plain",)))
    [spent] = practice.query(
        "SELECT change, balance_after FROM package_entries WHERE reason = 'forfeit'"
    )
    assert (spent["change"], spent["balance_after"]) == (-1, 4)


def test_review_mode_waits_for_approval_then_sends_once_on_postgresql(
    on_postgres: OnPostgres,
) -> None:
    practice = on_postgres(policy={"mode": "review"})
    practice.late_decline()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert practice.outbox_states() == ["review"]
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    with transaction(practice.db):
        said = approve(_desk(practice), case["id"])
    assert SAM in said
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert len(practice.sent_to(SAM)) == 1


def test_a_waived_case_sends_nothing_and_the_next_is_only_a_reminder_on_postgresql(
    on_postgres: OnPostgres,
) -> None:
    practice = on_postgres(policy={"mode": "review"})
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 50 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    with transaction(practice.db):
        waive(_desk(practice), case["id"], "she called me beforehand")
    practice.clock.advance(40 * HOUR)
    practice.calendar.decline("s2", SAM)
    report = practice.cycle()
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert (decision.verdict, decision.offence) == ("reminder", 1)
    assert practice.notices() == []
