"""The prepaid package ledger: one entry per change to a client's balance, each saying why.

The balance is the last entry's `balance_after`; a client with no entry keeps no balance.
Entries with an `entry_key` (a session, a forfeit, its undoing, an opening) exist once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from worker.model import Session
from worker.store.codec import session_from_json
from worker.store.connection import Connection, Row, is_postgres, table_exists
from worker.store.db import from_utc_text, utc_text


@dataclass(frozen=True, slots=True)
class Entry:
    """One change to a client's prepaid balance, and what it is linked to."""

    id: int
    client_email: str
    change: int
    balance_after: int
    reason: str
    note: str
    account: str | None
    session_key: str | None
    occurrence_start: datetime | None
    decision_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Link:
    """What an entry is about: a session (account, key, start) and, for a forfeit, its case."""

    account: str | None = None
    session_key: str | None = None
    occurrence_start: datetime | None = None
    decision_id: int | None = None


def current(db: Connection, client_email: str) -> int | None:
    """The balance the ledger holds, or None when this client has no package."""
    row = db.execute(
        "SELECT balance_after FROM package_entries WHERE client_email = ? ORDER BY id DESC LIMIT 1",
        (client_email,),
    ).fetchone()
    return None if row is None else int(row["balance_after"])


def balances(db: Connection) -> dict[str, int]:
    """Every client's balance, by address (only clients with a package; none before that
    ledger exists)."""
    if not table_exists(db, "package_entries"):
        return {}
    rows = db.execute(
        "SELECT client_email, balance_after FROM package_entries"
        " WHERE id IN (SELECT MAX(id) FROM package_entries GROUP BY client_email)"
    )
    return {str(r["client_email"]): int(r["balance_after"]) for r in rows}


def has_entry(db: Connection, entry_key: str) -> bool:
    found = db.execute("SELECT 1 FROM package_entries WHERE entry_key = ?", (entry_key,))
    return found.fetchone() is not None


def record(
    db: Connection,
    client_email: str,
    change: int,
    *,
    reason: str,
    at: datetime,
    note: str = "",
    link: Link | None = None,
    entry_key: str | None = None,
) -> Entry | None:
    """Add one entry after the client's last; None when `entry_key` was recorded before."""
    if entry_key is not None and has_entry(db, entry_key):
        return None
    after = (current(db, client_email) or 0) + change
    link = link or Link()
    occurrence = utc_text(link.occurrence_start) if link.occurrence_start else None
    cursor = db.execute(
        "INSERT INTO package_entries (client_email, change, balance_after, reason, note,"
        " account, session_key, occurrence_start, decision_id, at, entry_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            client_email,
            change,
            after,
            reason,
            note,
            link.account,
            link.session_key,
            occurrence,
            link.decision_id,
            utc_text(at),
            entry_key,
        ),
    )
    return Entry(
        int(cursor.fetchone()[0]),
        client_email,
        change,
        after,
        reason,
        note,
        link.account,
        link.session_key,
        link.occurrence_start,
        link.decision_id,
        at,
    )


def entries(db: Connection, client_email: str, *, last: int | None = None) -> list[Entry]:
    """A client's entries, oldest first (only the `last` few when given)."""
    sql = "SELECT * FROM package_entries WHERE client_email = ? ORDER BY id DESC"
    if last is None:
        rows = db.execute(sql, (client_email,)).fetchall()
    else:
        rows = db.execute(sql + " LIMIT ?", (client_email, last)).fetchall()
    return [_entry(row) for row in reversed(rows)]


def clients(db: Connection) -> list[str]:
    """Every client with a package, by address."""
    rows = db.execute("SELECT DISTINCT client_email FROM package_entries ORDER BY client_email")
    return [str(r["client_email"]) for r in rows]


def opened_at(db: Connection, client_email: str) -> datetime | None:
    """When the client's package was opened (their first entry)."""
    row = db.execute(
        "SELECT at FROM package_entries WHERE client_email = ? ORDER BY id LIMIT 1",
        (client_email,),
    ).fetchone()
    return None if row is None else from_utc_text(row["at"])


def forfeit_spent(db: Connection, decision_id: int) -> bool:
    """Whether the forfeit of this case spent a prepaid session (and it was not given back)."""
    row = db.execute(
        "SELECT change FROM package_entries WHERE entry_key = ?", (f"forfeit:{decision_id}",)
    ).fetchone()
    return row is not None and int(row["change"]) < 0


def ended_sessions(
    db: Connection,
    account: str,
    now: datetime,
    *,
    since: datetime | None = None,
    also: tuple[str, ...] = (),
) -> list[Session]:
    """The account's remembered sessions that had ended by `now`, oldest first: those that
    ended after `since` (all when None), and the sessions keyed in `also` (first seen now)."""
    after = utc_text(since) if since else None
    listed = (
        "SELECT jsonb_array_elements_text(?::jsonb)"
        if is_postgres(db)
        else "SELECT value FROM json_each(?)"
    )
    rows = db.execute(
        "SELECT body FROM sessions WHERE account = ? AND end_at <= ?"  # noqa: S608
        f" AND (? IS NULL OR end_at > ? OR key IN ({listed}))"
        " ORDER BY end_at, key",
        (account, utc_text(now), after, after, json.dumps(list(also))),
    )
    return [session_from_json(row["body"]) for row in rows]


def _entry(row: Row) -> Entry:
    return Entry(
        id=int(row["id"]),
        client_email=row["client_email"],
        change=int(row["change"]),
        balance_after=int(row["balance_after"]),
        reason=row["reason"],
        note=row["note"],
        account=row["account"],
        session_key=row["session_key"],
        occurrence_start=from_utc_text(row["occurrence_start"])
        if row["occurrence_start"]
        else None,
        decision_id=row["decision_id"],
        at=from_utc_text(row["at"]),
    )
