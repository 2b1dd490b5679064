"""The SQLite file: durable settings, explicit write transactions, versioned migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from worker.errors import StateError

DATABASE_NAME = "fairwarning.sqlite3"


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


def open_database(state_dir: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database in `state_dir` and bring its schema up to date.

    WAL with synchronous=FULL makes every commit durable before it returns: the outbox relies
    on a committed `sending` surviving a power cut.
    """
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        connection = sqlite3.connect(
            state_dir / DATABASE_NAME, isolation_level=None, timeout=30, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        _migrate(connection)
    except (OSError, sqlite3.Error) as exc:
        raise StateError(
            f"cannot use the state database in {state_dir}: {exc}; check that the folder "
            "exists, is writable by this user and is not on a network filesystem",
            path=str(state_dir),
        ) from exc
    return connection


def _migrate(connection: sqlite3.Connection) -> None:
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    migrations = _migrations()
    newest = migrations[-1][0] if migrations else 0
    if current > newest:
        raise StateError(
            f"the state database is at schema version {current}, newer than this release "
            f"understands ({newest}); upgrade Fair Warning rather than downgrading it"
        )
    for version, script in migrations:
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
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
