"""The SQLite file: private, durable, checked at start, explicit write transactions, migrations.

What goes wrong with it is put into words by `worker.store.faults`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from worker.errors import NoState, StateError
from worker.store.faults import classify, damaged

DATABASE_NAME = "fairwarning.sqlite3"
BUSY_TIMEOUT = 30.0  # seconds a write waits for another program's lock before giving up


def utc_text(moment: datetime) -> str:
    """Datetimes are stored as UTC ISO 8601 text, which sorts chronologically."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("worker.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def database_path(state_dir: Path) -> Path:
    return state_dir / DATABASE_NAME


def open_database(state_dir: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database in `state_dir`, ready for the worker to write.

    WAL with synchronous=FULL makes every commit durable before it returns: the outbox relies
    on a committed `sending` surviving a power cut. The file is made 0600 whatever the umask
    (SQLite gives its -wal and -shm files the database's mode), in a 0700 folder. A damaged
    database is refused (`PRAGMA quick_check`), and one that cannot take a commit is reported
    now rather than halfway through a cycle. Every failure is one `DatabaseFault`.
    """
    path = database_path(state_dir)
    try:
        _make_private(state_dir, path)
        connection = _connect(path, read_only=False)
    except (OSError, sqlite3.Error) as exc:
        raise classify(exc, path) from exc
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        _check_integrity(connection, path)
        _migrate(connection)
        check_writable(connection)
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise classify(exc, path) from exc
        raise
    return connection


def open_existing(state_dir: Path, *, read_only: bool) -> sqlite3.Connection:
    """The existing database, never created: read-only for `status`, `history` and `review`."""
    path = database_path(state_dir)
    if not path.is_file():
        raise NoState(
            f"no state yet in {state_dir}: run `fairwarning run --once` or start the service",
            path=str(path),
        )
    if not read_only:
        return open_database(state_dir)
    try:
        connection = _connect(path, read_only=True)
    except sqlite3.Error as exc:
        raise classify(exc, path, reading=True) from exc
    try:
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        _refuse_newer(current)
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise classify(exc, path, reading=True) from exc
        raise
    if current < _newest():
        connection.close()
        raise StateError(
            f"the state database {path} was written by an older release (schema {current}); "
            "run `fairwarning run --once` or restart the service to bring it up to date"
        )
    return connection


def check_writable(connection: sqlite3.Connection) -> None:
    """Commit a write that changes nothing: proves the file, its -wal and the disk take one."""
    with transaction(connection):
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        connection.execute(f"PRAGMA user_version = {version}")


def _make_private(state_dir: Path, path: Path) -> None:
    if not state_dir.exists():
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        state_dir.chmod(0o700)
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _keep_private(path)
        return
    try:
        os.fchmod(handle, 0o600)
    finally:
        os.close(handle)


def _keep_private(path: Path) -> None:
    """Take group and other bits off the database and its side files (an older release's)."""
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                file.chmod(mode & 0o700)


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """A connection to `path`; `read_only` never creates it and refuses every write.

    Read-only is `mode=rw` (never create) plus `query_only`, not `mode=ro`: a `mode=ro`
    reader of a WAL database leaves -wal and -shm files behind, which a read-write
    connection tidies away as it closes (SQLite itself falls back to reading when the file
    cannot be written).
    """
    target, uri = (f"{path.as_uri()}?mode=rw", True) if read_only else (str(path), False)
    connection = sqlite3.connect(
        target,
        uri=uri,
        isolation_level=None,
        timeout=BUSY_TIMEOUT,
        check_same_thread=False,
    )
    connection.row_factory = sqlite3.Row
    if read_only:
        connection.execute("PRAGMA query_only = ON")
    return connection


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    found = [str(row[0]) for row in connection.execute("PRAGMA quick_check(3)")]
    if found != ["ok"]:
        lines = [line.strip() for text in found for line in text.splitlines()]
        said = [line for line in lines if line and not line.startswith("***")]
        raise damaged(path, "PRAGMA quick_check: " + "; ".join(said[:3]))


def _newest() -> int:
    migrations = _migrations()
    return migrations[-1][0] if migrations else 0


def _refuse_newer(current: int) -> None:
    newest = _newest()
    if current > newest:
        raise StateError(
            f"the state database is at schema version {current}, newer than this release "
            f"understands ({newest}); upgrade Fair Warning rather than downgrading it"
        )


def _migrate(connection: sqlite3.Connection) -> None:
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    _refuse_newer(current)
    for version, script in _migrations():
        if version <= current:
            continue
        with transaction(connection):
            for statement in _statements(script):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version}")


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error (a failed COMMIT included)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        _roll_back(connection)
        raise


@contextmanager
def undone(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run writes whose every effect is undone afterwards: a look at what they would do.

    Inside the caller's transaction this is a SAVEPOINT rolled back to; outside one it takes
    the write lock first (BEGIN IMMEDIATE, so a write cannot meet a stale snapshot) and rolls
    the whole transaction back. Nothing is ever committed, whatever happens inside.
    """
    outer = not connection.in_transaction
    if outer:
        connection.execute("BEGIN IMMEDIATE")
    connection.execute("SAVEPOINT fw_undone")
    try:
        yield connection
    finally:
        if outer:
            _roll_back(connection)
        elif connection.in_transaction:
            connection.execute("ROLLBACK TO fw_undone")
            connection.execute("RELEASE fw_undone")


def _roll_back(connection: sqlite3.Connection) -> None:
    """Undo what is left of a transaction, never hiding the error that ended it.

    SQLite may already have rolled back (a full disk, an I/O error), and a failed COMMIT can
    leave the transaction open: either way the connection is usable afterwards.
    """
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
