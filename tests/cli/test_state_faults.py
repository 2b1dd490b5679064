"""A broken state database is one line naming the file and the fix, never a traceback.

Root ignores permission bits, so as root the script runs under `setpriv` without
CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH/CAP_FOWNER: it is still the files' owner, but a 0400 file is
really read-only to it and SQLite meets a real "attempt to write a readonly database", as the
service user does when `sudo fairwarning run --once` left the files to root. Each test first
proves the drop works, so none can pass by accident.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.practice import SAM, Practice, Run, runner
from worker.cli.demo import write_config
from worker.cli.main import main
from worker.store import db as store_db

FIX = "chown/chmod the database and its -wal and -shm files"
RESTORE = 'README.md, "Backup and restore"'


def unprivileged() -> list[str]:
    """A command prefix under which file permission bits hold, even for root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "running the tests as root needs setpriv (util-linux) to drop DAC override"
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"]


def assert_really_read_only(path: Path) -> None:
    tried = subprocess.run(
        [*unprivileged(), "sh", "-c", f'printf x >> "{path}"'], capture_output=True, check=False
    )
    assert tried.returncode != 0, f"{path} is still writable: the test would prove nothing"


@pytest.fixture
def as_service_user(env: dict[str, str]) -> Run:
    return runner(env, unprivileged())


def _one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_read_only_database_is_one_line_with_the_fix_and_status_says_so_at_once(
    practice: Practice, as_service_user: Run
) -> None:
    practice.database.chmod(0o400)
    assert_really_read_only(practice.database)
    config = ("--config", practice.config)

    done = as_service_user(*config, "run", "--once")

    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_line(done.stderr)
    assert line.startswith(f"fairwarning: the state database {practice.database} is read-only")
    assert "attempt to write a readonly database" in line
    assert FIX in line
    assert f"chmod 600 {practice.database}*" in line
    status = as_service_user(*config, "status", "--json")
    assert status.returncode == 2, "status must say it now, not once the account goes stale"
    report = json.loads(status.stdout)
    assert report["accounts"][0]["stale"] is False
    assert report["fault"]["message"] == line.removeprefix("fairwarning: ")
    text = as_service_user(*config, "status")
    assert text.stdout.startswith("BROKEN since ")
    assert FIX in text.stdout.replace("\n  ", " ").splitlines()[0], "one line, however wrapped"

    for path in practice.state.glob("fairwarning.sqlite3*"):  # the fix the message gives
        path.chmod(0o600)
    assert as_service_user(*config, "run", "--once").returncode == 0
    healthy = as_service_user(*config, "status", "--json")
    assert healthy.returncode == 0, healthy.stdout
    assert json.loads(healthy.stdout)["fault"] is None


@pytest.fixture
def side_files(practice: Practice) -> Iterator[Path]:
    """A reader (a backup job, a sqlite3 shell) keeps the -wal and -shm files in place."""
    reader = sqlite3.connect(practice.database)
    reader.execute("SELECT COUNT(*) FROM outbox").fetchone()
    wal = Path(f"{practice.database}-wal")
    assert wal.exists()
    yield wal
    reader.close()


def test_a_read_only_wal_file_is_named_with_the_same_fix(
    practice: Practice, side_files: Path, as_service_user: Run
) -> None:
    side_files.chmod(0o400)
    assert_really_read_only(side_files)

    done = as_service_user("--config", practice.config, "run", "--once")

    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_line(done.stderr)
    assert f"the state database {practice.database} is read-only" in line
    assert FIX in line


def test_a_state_folder_that_cannot_take_the_side_files_names_the_folder(
    practice: Practice, as_service_user: Run
) -> None:
    practice.state.chmod(0o500)
    try:
        assert_really_read_only(practice.state / "new-file")
        done = as_service_user("--config", practice.config, "run", "--once")
    finally:
        practice.state.chmod(0o700)

    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_line(done.stderr)
    assert f"the folder {practice.state} is not writable" in line
    assert f"chmod 700 {practice.state}" in line
    assert FIX in line


def test_a_database_of_junk_bytes_points_to_the_backup_in_every_command(
    practice: Practice,
) -> None:
    practice.database.write_bytes(b"\x17junk that is no database\x00" * 400)

    done = practice("run", "--once")

    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert f"the state database {practice.database} is damaged" in line
    assert "file is not a database" in line
    assert RESTORE in line
    assert "move" in line
    assert "-wal and -shm files aside" in line
    for command in (["status"], ["history"], ["review"], ["approve", "1"]):
        other = practice(*command)
        assert other.returncode == 2, command
        said = other.stdout + other.stderr
        assert "is damaged" in said, command
        assert RESTORE in said, command
        assert "Traceback" not in said


def test_a_damaged_page_fails_the_integrity_check_at_start(practice: Practice) -> None:
    with practice.database.open("r+b") as stream:
        stream.seek(3 * 4096)
        stream.write(b"\xde\xad\xbe\xef" * 1024)

    done = practice("run", "--once")

    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert f"the state database {practice.database} is damaged" in line
    assert RESTORE in line


def test_looking_at_a_fresh_configuration_creates_nothing(fairwarning: Run, tmp_path: Path) -> None:
    config = write_config(tmp_path / "practice")
    state = tmp_path / "practice" / "state"

    status = fairwarning("--config", config, "status")
    assert status.returncode == 2
    assert "no state yet: run `fairwarning run --once` or start the service" in status.stdout
    assert "last heartbeat: never" in status.stdout
    for command in (["history"], ["review"], ["approve", "1"], ["waive", "1"]):
        done = fairwarning("--config", config, *command)
        assert done.returncode == 2, command
        assert _one_line(done.stderr) == (
            f"fairwarning: no state yet in {state}: run `fairwarning run --once` or start the "
            "service"
        )

    assert not state.exists(), "a read-only command created the state directory"


def _invoke(practice: Practice) -> tuple[int, str]:
    """`run --once` in this process (so a test can bend SQLite's limits); exit code, stderr."""
    done = CliRunner().invoke(main, ["--config", str(practice.config), "run", "--once"])
    return done.exit_code, done.stderr


def test_a_locked_database_is_one_line_naming_what_to_look_for(
    practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT", 0.2)  # 30 s in real life
    holder = sqlite3.connect(practice.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a sqlite3 shell left mid-transaction
    try:
        code, stderr = _invoke(practice)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert code == 2
    line = _one_line(stderr)
    assert f"the state database {practice.database} is locked by another program" in line
    assert "database is locked" in line
    assert f"fuser -v {practice.database}" in line


def test_a_full_disk_is_one_line_and_the_step_is_tried_again_later(
    practice: Practice, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reader = sqlite3.connect(practice.database, isolation_level=None)
    reader.execute("VACUUM")
    pages = reader.execute("PRAGMA page_count").fetchone()[0]
    reader.close()
    connect = store_db._connect

    def no_room_to_grow(path: Path, *, read_only: bool) -> sqlite3.Connection:
        connection = connect(path, read_only=read_only)
        connection.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL
        return connection

    monkeypatch.setattr(store_db, "_connect", no_room_to_grow)
    long_note = dataclasses.replace(SAM, comment="So sorry, the week ran away from me. " * 2000)
    practice.client_acts(long_note)  # its snapshot needs pages the database may not add

    code, stderr = _invoke(practice)

    assert code == 2
    line = _one_line(stderr)
    assert f"the disk holding the state database {practice.database} is full" in line
    assert "database or disk is full" in line
    assert f"df -h {practice.state}" in line
    assert [r.getMessage() for r in caplog.records if r.exc_info] == [], "a traceback was logged"
    monkeypatch.undo()  # space was freed
    practice.cycle(expect=0)
    assert practice.case_of(SAM.client)["notice_state"] == "sent"
