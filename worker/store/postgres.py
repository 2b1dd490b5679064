"""PostgreSQL behind the store's `Connection`: psycopg 3, autocommit, `?` placeholders.

The store writes `?` placeholders (SQLite's); here they become psycopg's `%s` (and a literal
`%` becomes `%%`). A `?` inside a string literal would be ambiguous, so there must be none:
the translation asserts it. Two more differences are PostgreSQL's own and handled here:
a parameter only tested with `IS NULL` has no type PostgreSQL can infer, so `? IS NULL` is
sent as `%s::text IS NULL`; and SQLite's `BEGIN IMMEDIATE` (one writer at a time) is
`BEGIN` plus a transaction-scoped advisory lock, taken by `begin_writing`.

The password never comes from the URL (the config refuses one): libpq reads PGPASSWORD or
~/.pgpass itself, or `state.password_file` names a file holding it.

A practice of a `--practices` folder keeps its tables in its own schema (`practice_<name>`,
made on first open), set as the connection's only `search_path`: every query of the store
names tables unqualified, so none can reach another practice's rows. A single practitioner's
tables stay in `public`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from worker.config.state import practice_schema
from worker.errors import StateError

# The lock every writing transaction of one state takes, like SQLite's database-wide write
# lock (with the schema as its second key). Workers claim accounts by row locks on the lease
# table (worker/store/leases.py), not by this lock.
WRITE_LOCK = 0x46575354  # "FWST"
CONNECT_TIMEOUT = 10  # seconds
_NULL_TEST = re.compile(r"\?(\s+IS\s+NULL)", re.IGNORECASE)


def is_postgres_url(text: str | None) -> bool:
    return bool(text) and urlsplit(str(text)).scheme in ("postgresql", "postgres")


def shown_url(url: str) -> str:
    """The URL without anything secret in it, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost (socket)"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{host}{port}{parts.path}"


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """SQLite-style SQL with `?` placeholders → psycopg's `%s` (see the module docstring)."""
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        assert not (quoted and char == "?"), f"a '?' inside a string literal in: {sql}"
    return _NULL_TEST.sub(r"%s::text\1", sql.replace("%", "%%")).replace("?", "%s")


class Row:
    """A result row addressable like `sqlite3.Row`: by name, by position, and `dict(row)`."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=True))!r})"


def _rows(cursor: psycopg.Cursor[Any]) -> Any:
    description = cursor.description or ()
    index = {column.name: number for number, column in enumerate(description)}

    def make(values: Sequence[Any]) -> Row:
        return Row(values, index)

    return make


class PgConnection:
    """A psycopg connection with the `sqlite3.Connection` subset the store uses."""

    def __init__(self, raw: psycopg.Connection[Any], url: str) -> None:
        self.raw = raw
        self.url = url

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor(row_factory=_rows)
        cursor.execute(translate(sql), tuple(parameters), prepare=False)
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor(row_factory=_rows)
        cursor.executemany(translate(sql), [tuple(p) for p in parameters])
        return cursor

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def begin_writing(self) -> None:
        """BEGIN, then wait for the write lock: one writing transaction at a time, as with
        SQLite's BEGIN IMMEDIATE, so a write never meets a snapshot another has changed.

        The lock is the state's own: keyed by the schema, so practices sharing a database
        (each in its schema, sharing no row) never wait for one another's writes."""
        self.raw.execute("BEGIN")
        self.raw.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (WRITE_LOCK,)
        )

    def close(self) -> None:
        self.raw.close()


def connect(
    url: str,
    *,
    password_file: Path | None = None,
    read_only: bool = False,
    practice: str | None = None,
) -> PgConnection:
    """Connect to `url` in autocommit mode (transactions are explicit, as with SQLite);
    with `practice`, inside that practice's schema (created unless `read_only`)."""
    extra: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "autocommit": True}
    if password_file is not None:
        extra["password"] = _read_password(password_file)
    options = ["-c default_transaction_read_only=on"] if read_only else []
    if practice is not None:
        options.append(f"-c search_path={practice_schema(practice)}")
    if options:
        extra["options"] = " ".join(options)
    raw = psycopg.connect(url, **extra)
    if practice is not None and not read_only:
        try:
            schema = sql.Identifier(practice_schema(practice))
            raw.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        except BaseException:
            raw.close()
            raise
    return PgConnection(raw, url)


def shown_place(url: str, practice: str | None) -> str:
    """Where a practice's state is, for messages: the URL, and its schema if it has one."""
    shown = shown_url(url)
    return f"{shown} (schema {practice_schema(practice)})" if practice else shown


def _read_password(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateError(
            f"cannot read the PostgreSQL password file {path} (state.password_file): "
            f"{exc.strerror or exc}"
        ) from None
    return text.strip()
