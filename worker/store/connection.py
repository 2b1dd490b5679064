"""What the store needs of a database connection, whichever database is behind it.

The store's functions take a `Connection`: the subset of `sqlite3.Connection` they use
(`execute` with `?` placeholders, rows addressable by name and by position, `rowcount`,
`in_transaction`). `sqlite3.Connection` is one as it is; `worker.store.postgres.PgConnection`
is the other, over psycopg 3. Where the two databases speak different SQL (JSON, substring
search, schema version, the write lock), the store asks `is_postgres` and says each
explicitly rather than translating behind the caller's back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import psycopg

# Every error a state database raises: both mean "the database", never "this account".
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)


class Row(Protocol):
    """One result row: `row["name"]`, `row[0]`, `dict(row)`."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The result of `execute`: iterate it or fetch from it; `rowcount` counts a write."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection to the state database (SQLite or PostgreSQL), in autocommit mode:
    transactions are opened and closed by `worker.store.db.transaction` alone."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


def is_postgres(db: Connection) -> bool:
    """Whether `db` is PostgreSQL (else it is SQLite)."""
    return not isinstance(db, sqlite3.Connection)


def table_exists(db: Connection, name: str) -> bool:
    """Whether the schema has this table (an older one may not)."""
    if is_postgres(db):
        sql = "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?"
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(sql, (name,)).fetchone() is not None


def json_field(db: Connection, column: str, key: str) -> str:
    """SQL for the value under `key` in the JSON text `column`, as a number, text or NULL."""
    if is_postgres(db):
        return f"({column}::jsonb -> '{key}')"
    return f"json_extract({column}, '$.{key}')"
