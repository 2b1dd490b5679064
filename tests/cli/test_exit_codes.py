"""`run --once` exit codes, one test per row of README's table ("Commands and exit codes").

0: the cycle left nothing for the practitioner. 1: it left something that needs them, said on a
`needs you:` line. 2: broken. Every test drives the installed script on Dana's demo practice.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.practice import ALEX, PRIYA, SAM, Practice, Run
from worker.cli.demo import write_config
from worker.store import sync_state
from worker.store.db import transaction


def _needs_you(done_stdout: str) -> list[str]:
    return [line for line in done_stdout.splitlines() if line.startswith("needs you: ")]


def _set_config(practice: Practice, old: str, new: str) -> None:
    text = practice.config.read_text(encoding="utf-8")
    assert old in text
    practice.config.write_text(text.replace(old, new), encoding="utf-8")


def _db(practice: Practice) -> sqlite3.Connection:
    db = sqlite3.connect(practice.database, isolation_level=None)
    db.row_factory = sqlite3.Row
    return db


def test_exit_0_when_nothing_is_new_and_when_notices_went_out(practice: Practice) -> None:
    quiet = practice.cycle(expect=0)
    assert "Nothing new this cycle" in quiet.stdout

    practice.client_acts(SAM)
    sent = practice.cycle(expect=0)

    assert "reminder" in sent.stdout
    assert _needs_you(sent.stdout) == []
    assert practice.case_of(SAM.client)["notice_state"] == "sent"


def test_exit_1_when_a_case_is_put_in_review_this_cycle(practice: Practice) -> None:
    practice.client_acts(PRIYA)
    practice.client_acts(ALEX)

    done = practice.cycle(expect=1)

    assert sorted(_needs_you(done.stdout)) == [
        f"needs you: a case for {client} waits for your review (`fairwarning review`)"
        for client in sorted((PRIYA.client, ALEX.client))
    ]
    again = practice.cycle(expect=0)  # the cases still wait, but this cycle added nothing
    assert _needs_you(again.stdout) == []


def test_exit_1_in_review_mode_when_a_notice_waits_for_approval(practice: Practice) -> None:
    _set_config(practice, 'mode = "auto"', 'mode = "review"')
    practice.client_acts(SAM)

    done = practice.cycle(expect=1)

    assert _needs_you(done.stdout) == [
        f"needs you: the reminder to {SAM.client} waits for your approval"
    ]
    assert practice.notices() == {}


def test_exit_1_when_a_send_ended_unknown(practice: Practice) -> None:
    practice.client_acts(SAM)
    practice.cycle()
    ref = practice.case_of(SAM.client)["ref"]
    with _db(practice) as db:  # what a kill between writing the .eml and recording it leaves
        db.execute("UPDATE outbox SET state = 'sending' WHERE ref = ?", (ref,))
    db.close()

    done = practice.cycle(expect=1)

    assert f"needs you: notice {ref} is unknown: the worker stopped while sending it" in (
        _needs_you(done.stdout)
    )
    assert practice.case_of(SAM.client)["notice_state"] == "unknown"


def test_exit_1_when_a_notice_is_rejected(practice: Practice) -> None:
    practice.outbox.write_text("a file where the sender's folder should be\n")
    practice.client_acts(SAM)

    done = practice.cycle(expect=1)

    ref = practice.case_of(SAM.client)["ref"]
    (line,) = _needs_you(done.stdout)
    assert line.startswith(f"needs you: notice {ref} to {SAM.client} rejected: could not write")
    assert practice.case_of(SAM.client)["notice_state"] == "rejected"


def test_exit_1_when_a_calendar_file_is_skipped(practice: Practice) -> None:
    (practice.folder / "calendar" / "broken.ics").write_text("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUM")

    done = practice.cycle(expect=1)

    (line,) = _needs_you(done.stdout)
    assert line.startswith("needs you: account main: calendar file skipped:")
    assert "broken.ics" in line
    practice.cycle(expect=0)  # a skipped file is reported once, then `status` keeps it


def test_exit_1_while_the_account_or_its_sending_is_paused(practice: Practice) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    with _db(practice) as db, transaction(db):  # what a revoked token leaves
        sync_state.pause(db, "main", until, "authorisation revoked: run `fairwarning auth`")
    db.close()

    paused = practice.cycle(expect=1)

    (line,) = _needs_you(paused.stdout)
    assert line.startswith("needs you: account main: paused until")
    assert line.endswith("authorisation revoked: run `fairwarning auth`")

    with _db(practice) as db, transaction(db):  # what a provider's daily sending limit leaves
        sync_state.resume(db, "main")
        sync_state.pause_sending(db, "main", until, "daily sending limit reached")
    db.close()
    sending = practice.cycle(expect=1)
    (line,) = _needs_you(sending.stdout)
    assert line.startswith("needs you: account main: sending paused until")
    assert line.endswith("daily sending limit reached")


def test_exit_1_when_the_calendar_cannot_be_read(fairwarning: Run, tmp_path: Path) -> None:
    config = write_config(tmp_path / "practice")  # no calendar folder written

    done = fairwarning("--config", config, "run", "--once")

    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = _needs_you(done.stdout)
    assert "calendar path" in line
    assert "Traceback" not in done.stderr


def test_exit_1_when_a_notice_cannot_be_rendered(practice: Practice) -> None:
    templates = practice.folder / "templates" / "en"
    templates.mkdir(parents=True)
    (templates / "reminder.subject.j2").write_text("A reminder, {{ client_first_name }\n")
    _set_config(practice, 'state_dir = "state"', 'state_dir = "state"\ntemplates_dir = "templates"')
    practice.client_acts(SAM)

    done = practice.cycle(expect=1)

    ref = practice.case_of(SAM.client)["ref"]
    (line,) = _needs_you(done.stdout)
    assert line.startswith(f"needs you: notice {ref} waits for a template fix: not rendered:")
    assert practice.notices() == {}


def test_exit_2_on_an_invalid_configuration(practice: Practice) -> None:
    _set_config(practice, 'late_window = "24h"', 'late_window = "a day"')

    done = practice("run", "--once")

    assert done.returncode == 2
    assert "policy.late_window: 'a day' is not a duration" in done.stderr
    assert "Traceback" not in done.stderr


def test_exit_2_on_a_state_database_fault(practice: Practice) -> None:
    practice.database.write_bytes(os.urandom(8192))
    for side in ("-wal", "-shm"):
        Path(f"{practice.database}{side}").unlink(missing_ok=True)

    done = practice("run", "--once")

    assert done.returncode == 2
    assert done.stderr.startswith(f"fairwarning: the state database {practice.database} is dam")
    assert len(done.stderr.splitlines()) == 1


def test_exit_2_when_another_worker_is_running(practice: Practice) -> None:
    handle = os.open(practice.state / "worker.lock", os.O_RDWR)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        done = practice("run", "--once")
    finally:
        os.close(handle)

    assert done.returncode == 2
    assert "another Fair Warning worker is already running" in done.stderr
