"""Moving an existing SQLite state into an empty PostgreSQL database, verified by counts.

Every table is copied with PostgreSQL's COPY in one transaction on the target, in an order
that satisfies the foreign keys (a case's `joined_to`, which names another case, is filled in
after every case is there); identity columns then continue after the highest id copied. Row
counts per table are compared before the transaction commits: a copy either matches, table by
table, or leaves the target as empty as it was.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from worker.errors import StateError
from worker.store.connection import Connection
from worker.store.postgres import PgConnection, shown_url
from worker.store.schema import newest, version
from worker.store.transactions import transaction

# Parents before children: facts → decisions → outbox, ledger, package entries.
TABLES = (
    "accounts",
    "sessions",
    "facts",
    "decisions",
    "outbox",
    "ledger",
    "balances",
    "audit",
    "problems",
    "alerts",
    "clients_seen",
    "package_entries",
    "account_leases",  # empty on SQLite; the workers on PostgreSQL fill it
)
SELF_REFERENCES = {"decisions": "joined_to"}  # filled in once every row of the table is there
BATCH = 5000


@dataclass(frozen=True, slots=True)
class Copied:
    """One table's rows in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int


def copy_state(source: sqlite3.Connection, target: PgConnection) -> list[Copied]:
    """Copy every table of `source` into `target` (migrated, and empty: else StateError)."""
    if version(source) != newest():
        raise StateError(
            f"the SQLite state is at schema {version(source)}, not {newest()}: run "
            "`fairwarning run --once` with this release first, then copy it"
        )
    found = sorted(_tables(source))
    if found != sorted(TABLES):
        raise StateError(f"unexpected tables in the SQLite state: {', '.join(found)}")
    source.execute("BEGIN")  # one snapshot of the source, whatever else reads it meanwhile
    try:
        with transaction(target):
            _refuse_non_empty(target)
            for table in TABLES:
                _copy_table(source, target, table)
            counts = [
                Copied(table, _count(source, table), _count(target, table)) for table in TABLES
            ]
            wrong = [c for c in counts if c.source != c.target]
            if wrong:
                raise StateError(
                    "the copy does not match the source, so nothing was kept: "
                    + ", ".join(f"{c.table} {c.source} → {c.target}" for c in wrong)
                )
    finally:
        source.execute("ROLLBACK")
    return counts


def _tables(source: sqlite3.Connection) -> list[str]:
    rows = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [str(r["name"]) for r in rows]


def _refuse_non_empty(target: PgConnection) -> None:
    holding = [f"{t} ({n} rows)" for t in TABLES if (n := _count(target, t))]
    if holding:
        raise StateError(
            f"{shown_url(target.url)} already holds Fair Warning state: "
            + ", ".join(holding)
            + "; copy only into an empty database (nothing there is ever overwritten): "
            "create a new one, or drop this one if you are sure it is not in use"
        )


def _count(db: Connection, table: str) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608


def _copy_table(source: sqlite3.Connection, target: PgConnection, table: str) -> None:
    columns = [str(r["name"]) for r in source.execute(f"PRAGMA table_info({table})")]
    later = SELF_REFERENCES.get(table)
    rows = source.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")  # noqa: S608
    names = ", ".join(columns)
    with target.raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = tuple(row)
            if later is not None:
                values = tuple(
                    None if c == later else v for c, v in zip(columns, values, strict=True)
                )
            copy.write_row(values)
    if later is not None:
        pairs = source.execute(f"SELECT id, {later} FROM {table} WHERE {later} IS NOT NULL")  # noqa: S608
        target.executemany(
            f"UPDATE {table} SET {later} = ? WHERE id = ?",  # noqa: S608
            [(r[later], r["id"]) for r in pairs],
        )
    if "id" in columns:
        target.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
            f" coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )
