"""The state database: the SQLite file (private, durable, checked at start) or, when
`state.database` names one, a PostgreSQL database; migrated on opening either way.

What goes wrong with it is put into words by `worker.store.faults`. Transactions are in
`worker.store.transactions`, migrations in `worker.store.schema`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from worker.errors import NoState, StateError
from worker.store import postgres
from worker.store.connection import Connection
from worker.store.faults import classify, damaged
from worker.store.schema import (
    migrate,
    migrations,
    newest,
    refuse_newer,
    set_version,
    statements,
    version,
)
from worker.store.transactions import transaction as transaction
from worker.store.transactions import undone as undone

if TYPE_CHECKING:
    from worker.config.state import StateSettings

DATABASE_NAME = "fairwarning.sqlite3"
BUSY_TIMEOUT = 30.0  # seconds a write waits for another program's lock before giving up


def utc_text(moment: datetime) -> str:
    """Datetimes are stored as UTC ISO 8601 text, which sorts chronologically."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _migrations() -> list[tuple[int, str]]:
    """The SQLite migrations in order: what an older release's schema is built from."""
    return migrations(postgres=False)


def _statements(script: str) -> list[str]:
    return statements(script)


def database_path(state_dir: Path) -> Path:
    return state_dir / DATABASE_NAME


def postgres_url(state: StateSettings | None) -> str | None:
    """The PostgreSQL database `state` names, or None for the SQLite file in state_dir."""
    return state.database if state is not None and state.database else None


def open_database(state_dir: Path, state: StateSettings | None = None) -> Connection:
    """Open (creating if needed) the database in `state_dir`, ready for the worker to write;
    or the PostgreSQL database `state.database` names (see `_open_postgres`).

    WAL with synchronous=FULL makes every commit durable before it returns: the outbox relies
    on a committed `sending` surviving a power cut. The file is made 0600 whatever the umask
    (SQLite gives its -wal and -shm files the database's mode), in a 0700 folder. A damaged
    database is refused (`PRAGMA quick_check`), and one that cannot take a commit is reported
    now rather than halfway through a cycle. Every failure is one `DatabaseFault`.
    """
    url = postgres_url(state)
    if url is not None:
        assert state is not None
        return _open_postgres(url, state, read_only=False, create=True)
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
        migrate(connection)
        check_writable(connection)
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise classify(exc, path) from exc
        raise
    return connection


def open_existing(
    state_dir: Path, *, read_only: bool, state: StateSettings | None = None
) -> Connection:
    """The existing database, never created: read-only for `status`, `history` and `review`."""
    url = postgres_url(state)
    if url is not None:
        assert state is not None
        return _open_postgres(url, state, read_only=read_only, create=False)
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
        current = version(connection)
        refuse_newer(current)
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise classify(exc, path, reading=True) from exc
        raise
    if current < newest():
        connection.close()
        raise StateError(
            f"the state database {path} was written by an older release (schema {current}); "
            "run `fairwarning run --once` or restart the service to bring it up to date"
        )
    return connection


def check_writable(connection: Connection) -> None:
    """Commit a write that changes nothing: proves the file, its -wal and the disk take one
    (on PostgreSQL: that the server takes a commit from this user)."""
    with transaction(connection):
        set_version(connection, version(connection))


def _open_postgres(url: str, state: StateSettings, *, read_only: bool, create: bool) -> Connection:
    """Connect, and migrate unless `read_only`; `create` False refuses a database that holds
    no state yet, as the SQLite file that is not there is refused."""
    shown = postgres.shown_place(url, state.practice)
    try:
        connection = postgres.connect(
            url, password_file=state.password_file, read_only=read_only, practice=state.practice
        )
    except psycopg.Error as exc:
        raise classify(exc, Path(shown), reading=read_only) from exc
    try:
        current = version(connection)
        if current == 0 and not create:
            raise NoState(
                f"no state yet in {shown}: run `fairwarning run --once` or start the service",
                path=shown,
            )
        if read_only:
            refuse_newer(current)
            if current < newest():
                raise StateError(
                    f"the state database {shown} was written by an older release (schema "
                    f"{current}); run `fairwarning run --once` or restart the service to bring "
                    "it up to date"
                )
        else:
            migrate(connection)
            check_writable(connection)
    except BaseException as exc:
        connection.close()
        if isinstance(exc, psycopg.Error):
            raise classify(exc, Path(shown), reading=read_only) from exc
        raise
    return connection


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
