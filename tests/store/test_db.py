"""The state database file: private modes, never created by a look, faults put into words."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.errors import DatabaseFault, NoState
from worker.store import faults
from worker.store.db import (
    database_path,
    open_database,
    open_existing,
    transaction,
)

FIX = "chown/chmod the database and its -wal and -shm files"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_the_database_its_side_files_and_folder_are_private_under_umask_022(
    tmp_path: Path, umask_022: None
) -> None:
    state = tmp_path / "state"
    db = open_database(state)
    try:
        path = database_path(state)
        with transaction(db):
            db.execute("INSERT INTO audit (at, account, event, detail) VALUES ('t', 'a', 'e', 'd')")
        modes = {p.name: oct(_mode(p)) for p in state.iterdir()}
    finally:
        db.close()

    assert oct(_mode(state)) == "0o700"
    assert modes == {
        path.name: "0o600",
        f"{path.name}-wal": "0o600",
        f"{path.name}-shm": "0o600",
    }


def test_a_world_readable_database_from_an_older_release_is_made_private(tmp_path: Path) -> None:
    open_database(tmp_path).close()
    path = database_path(tmp_path)
    path.chmod(0o644)
    wal = Path(f"{path}-wal")
    wal.touch(mode=0o644)  # left by a crash
    wal.chmod(0o644)

    db = open_database(tmp_path)
    modes = oct(_mode(path)), oct(_mode(wal))
    db.close()

    assert modes == ("0o600", "0o600")


def test_a_look_never_creates_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for read_only in (True, False):
        with pytest.raises(NoState, match=r"no state yet in .*: run `fairwarning run --once`"):
            open_existing(state, read_only=read_only)
    assert not state.exists()


def test_a_read_only_look_refuses_to_write(tmp_path: Path) -> None:
    open_database(tmp_path).close()
    db = open_existing(tmp_path, read_only=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("DELETE FROM audit")
    finally:
        db.close()


def test_a_failed_commit_leaves_the_connection_usable(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE child (parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(sqlite3.IntegrityError), transaction(db):
        db.execute("INSERT INTO child VALUES (7)")  # caught only at COMMIT

    with transaction(db):
        db.execute("INSERT INTO parent VALUES (7)")
    assert db.execute("SELECT COUNT(*) FROM child").fetchone()[0] == 0
    db.close()


def test_a_damaged_database_is_refused_at_open_with_the_restore_steps(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    with transaction(db):
        for n in range(200):
            db.execute(
                "INSERT INTO audit (at, account, event, detail) VALUES (?, 'a', 'e', ?)",
                (str(n), "x" * 500),
            )
    db.close()
    with database_path(tmp_path).open("r+b") as stream:
        stream.seek(3 * 4096)
        stream.write(b"\xde\xad\xbe\xef" * 1024)

    with pytest.raises(DatabaseFault) as caught:
        open_database(tmp_path)

    assert caught.value.kind == "corrupt"
    assert caught.value.message.startswith(f"the state database {database_path(tmp_path)} is dam")
    assert 'README.md, "Backup and restore"' in caught.value.message
    assert "\n" not in caught.value.message


# --- each fault, from the error SQLite (or the OS) really raises ------------------------------


def _raised(action: object) -> BaseException:
    assert callable(action)
    try:
        action()
    except (sqlite3.Error, OSError) as exc:
        return exc
    raise AssertionError("no error")


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    open_database(tmp_path).close()
    return database_path(tmp_path)


def test_a_read_only_connection_is_the_readonly_fault(db_file: Path) -> None:
    reader = sqlite3.connect(f"{db_file.as_uri()}?mode=ro", uri=True)
    error = _raised(lambda: reader.execute("DELETE FROM audit"))
    reader.close()

    fault = faults.classify(error, db_file)

    assert fault.kind == "readonly"
    assert fault.message.startswith(f"the state database {db_file} is read-only for user ")
    assert FIX in fault.message
    assert f"sudo chmod 600 {db_file}*" in fault.message


def test_a_held_lock_is_the_locked_fault(db_file: Path) -> None:
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(db_file, isolation_level=None, timeout=0)
    error = _raised(lambda: waiter.execute("BEGIN IMMEDIATE"))
    holder.execute("ROLLBACK")
    holder.close()
    waiter.close()

    fault = faults.classify(error, db_file)

    assert fault.kind == "locked"
    assert "is locked by another program (SQLite: database is locked" in fault.message


def test_no_room_to_grow_is_the_full_fault(db_file: Path) -> None:
    db = sqlite3.connect(db_file, isolation_level=None)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    error = _raised(
        lambda: db.execute("INSERT INTO audit VALUES (1, 't', 'a', 'e', ?)", ("x" * 99999,))
    )
    db.close()

    fault = faults.classify(error, db_file)

    assert fault.kind == "full"
    assert f"the disk holding the state database {db_file} is full" in fault.message
    assert faults.classify(OSError(errno.ENOSPC, "No space left on device"), db_file).kind == "full"


def test_junk_bytes_are_the_corrupt_fault(db_file: Path) -> None:
    db_file.write_bytes(b"not a database at all" * 500)
    db = sqlite3.connect(db_file)
    error = _raised(lambda: db.execute("SELECT * FROM audit"))
    db.close()

    fault = faults.classify(error, db_file)

    assert fault.kind == "corrupt"
    assert "(SQLite: file is not a database [SQLITE_NOTADB])" in fault.message


def test_a_missing_folder_is_the_cantopen_fault_and_a_look_says_whom_to_run_as(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "gone" / "fairwarning.sqlite3"
    error = _raised(lambda: sqlite3.connect(f"{missing.as_uri()}?mode=rw", uri=True))

    assert faults.classify(error, missing).kind == "cantopen"
    looking = faults.classify(error, missing, reading=True)
    assert looking.message.startswith(f"cannot read the state database {missing} as user ")
    assert "run this command as the user the worker runs as" in looking.message
    denied = OSError(errno.EACCES, "Permission denied")
    assert faults.classify(denied, missing).kind == "readonly"


def test_a_write_the_filesystem_refuses_is_the_io_fault(db_file: Path) -> None:
    chattr = shutil.which("chattr")
    if os.geteuid() != 0 or chattr is None:
        pytest.fail("needs root and chattr to make the -wal file refuse writes: run as root")
    db = sqlite3.connect(db_file, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("INSERT INTO audit (at, account, event, detail) VALUES ('t', 'a', 'e', 'd')")
    wal = Path(f"{db_file}-wal")
    subprocess.run([chattr, "+i", str(wal)], check=True)  # as a filesystem gone read-only
    try:
        error = _raised(lambda: db.execute("INSERT INTO audit VALUES (9, 't', 'a', 'e', 'd')"))
    finally:
        subprocess.run([chattr, "-i", str(wal)], check=True)
        db.close()

    fault = faults.classify(error, db_file)

    assert fault.kind == "io"
    assert fault.message.startswith(f"disk I/O error on the state database {db_file} or its")
    assert "`mount`" in fault.message
    assert "`dmesg`" in fault.message
