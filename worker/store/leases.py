"""Account leases: how several workers on one PostgreSQL database share the accounts.

A worker polls an account only while it holds the account's lease. It claims due accounts
(`FOR UPDATE SKIP LOCKED`, so two workers claiming at once never wait for each other nor take
the same account), renews what it holds on a heartbeat, and releases each account with its
next due time once the step is done. A worker that dies stops renewing: when its lease has
expired, any other worker may claim the account.

PostgreSQL only (SQLite has no row locks; there one worker holds the flock and never needs
these). Times are the worker's clock, as everywhere else in the store, so tests can drive
them; the workers' clocks must agree (NTP) to well within a lease. They are stored as UTC
text with milliseconds: a lease of a few seconds cannot lose a second to rounding. Every
value in this table is written here, in that one format, so they compare as text.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from worker.store.connection import Connection


@dataclass(frozen=True, slots=True)
class Lease:
    """An account just claimed, and how often in a row its step has failed (its back-off)."""

    account: str
    failures: int


def holder_name() -> str:
    """This worker's name in the lease table: host, process, and a random part (a pid is
    reused after a restart, and a container's host name and pid are often the same)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def enrol(db: Connection, accounts: list[str], now: datetime) -> None:
    """Give every configured account a row, due now if it is new; existing rows are kept."""
    db.executemany(
        "INSERT INTO account_leases (account, next_due) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(name, stamp(now)) for name in accounts],
    )


def claim(
    db: Connection,
    holder: str,
    accounts: list[str],
    now: datetime,
    *,
    length: timedelta,
    most: int,
    due_by: datetime | None = None,
) -> list[Lease]:
    """Up to `most` of `accounts` that are due by `due_by` (default `now`) and free (or whose
    lease expired), earliest first, now held by `holder` until `now + length`. Rows other
    workers are claiming at this moment are skipped, not waited for; rows of accounts not in
    `accounts` (no longer configured) are never taken."""
    if most <= 0 or not accounts:
        return []
    now_text = stamp(now)
    rows = db.execute(
        "UPDATE account_leases SET holder = ?, expires_at = ? WHERE account IN ("
        " SELECT account FROM account_leases WHERE account = ANY(?) AND next_due <= ?"
        " AND (holder IS NULL OR expires_at < ?)"
        " ORDER BY next_due, account LIMIT ? FOR UPDATE SKIP LOCKED)"
        " RETURNING account, next_due, failures",
        (holder, stamp(now + length), list(accounts), stamp(due_by or now), now_text, most),
    ).fetchall()
    ordered = sorted(rows, key=lambda row: (row["next_due"], row["account"]))
    return [Lease(str(row["account"]), int(row["failures"])) for row in ordered]


def renew(
    db: Connection, holder: str, accounts: list[str], now: datetime, *, length: timedelta
) -> list[str]:
    """The heartbeat: extend the leases `holder` still has on `accounts`; returns those.

    An account another worker took over (ours had expired) is not ours to renew.
    """
    if not accounts:
        return []
    rows = db.execute(
        "UPDATE account_leases SET expires_at = ? WHERE holder = ? AND account = ANY(?)"
        " RETURNING account",
        (stamp(now + length), holder, list(accounts)),
    ).fetchall()
    return sorted(str(row["account"]) for row in rows)


def release(
    db: Connection, holder: str, account: str, *, next_due: datetime, failures: int
) -> bool:
    """Give the account back, due again at `next_due`; False if `holder` no longer held it
    (then its schedule is the new holder's, and is left alone)."""
    cursor = db.execute(
        "UPDATE account_leases SET holder = NULL, expires_at = NULL, next_due = ?, failures = ?"
        " WHERE account = ? AND holder = ?",
        (stamp(next_due), failures, account, holder),
    )
    return bool(cursor.rowcount)


def release_all(db: Connection, holder: str) -> int:
    """On a clean stop: every account still held is free again, due when it was (at once)."""
    cursor = db.execute(
        "UPDATE account_leases SET holder = NULL, expires_at = NULL WHERE holder = ?", (holder,)
    )
    return cursor.rowcount


def holds(db: Connection, holder: str, account: str, now: datetime, *, keep: bool = False) -> bool:
    """Whether `holder`'s lease on `account` is still current: a worker that overran and lost
    it must leave the account to the worker that took it over. `keep` also locks the lease
    row until the caller's transaction ends, so nobody can claim it meanwhile."""
    sql = "SELECT 1 FROM account_leases WHERE account = ? AND holder = ? AND expires_at > ?"
    row = db.execute(sql + (" FOR SHARE" if keep else ""), (account, holder, stamp(now)))
    return row.fetchone() is not None


def next_free(db: Connection, accounts: list[str]) -> datetime | None:
    """The earliest moment one of `accounts` could be claimed: its due time, or for one held
    now, the later of that and its lease's expiry (its holder may have died)."""
    row = db.execute(
        "SELECT MIN(CASE WHEN holder IS NULL THEN next_due"
        " ELSE GREATEST(next_due, expires_at) END) FROM account_leases WHERE account = ANY(?)",
        (list(accounts),),
    ).fetchone()
    return None if row is None or row[0] is None else datetime.fromisoformat(row[0])
