"""Outbox rows of courtesy notices (welcome, session note, closure): no decision behind them.

A welcome and a closure are once per client, whichever account sends them (the partial unique
index `outbox_once_per_client`); a session note is once per session occurrence and client (the
outbox's own unique key), and comes back when a dropped one's session does (restored, or
accepted again). A waived one never comes back: its state is `waived`, not `dropped`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from worker.model import Session
from worker.store.codec import session_from_json
from worker.store.connection import Connection, Row
from worker.store.db import utc_text

ONCE_PER_CLIENT = ("welcome", "closure")
SESSION_NOTE = "session_reminder"
WAITING = ("review", "queued")
_INSERT = (
    "INSERT INTO outbox (account, session_key, occurrence_start, client_email, kind,"
    " decision_id, ref, state, not_before, facts, simulated, updated_at)"
    " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)"
)


def enqueue(
    db: Connection,
    *,
    account: str,
    ref: str,
    kind: str,
    client: str,
    session_key: str,
    occurrence: datetime,
    state: str,
    not_before: datetime,
    facts: dict[str, Any],
    simulated: bool,
    now: datetime,
) -> bool:
    """Add a courtesy notice; False when one for the same thing exists (and stays as it is).

    A dropped session note for the same occurrence is brought back instead.
    """
    revive = (
        " ON CONFLICT (account, session_key, occurrence_start, client_email, kind) DO UPDATE"
        " SET state = excluded.state, not_before = excluded.not_before, detail = '',"
        " facts = excluded.facts, updated_at = excluded.updated_at"
        " WHERE outbox.state = 'dropped'"
        if kind == SESSION_NOTE
        else " ON CONFLICT DO NOTHING"
    )
    cursor = db.execute(
        _INSERT + revive,
        (
            account,
            session_key,
            utc_text(occurrence),
            client,
            kind,
            ref,
            state,
            utc_text(not_before),
            json.dumps(facts, sort_keys=True),
            int(simulated),
            utc_text(now),
        ),
    )
    return bool(cursor.rowcount)


def requeue(
    db: Connection,
    ref: str,
    *,
    account: str,
    state: str,
    not_before: datetime,
    facts: dict[str, Any],
    now: datetime,
) -> bool:
    """Queue again a once-per-client notice that was dropped, waived or rejected."""
    cursor = db.execute(
        "UPDATE outbox SET account = ?, state = ?, not_before = ?, facts = ?, detail = '',"
        " updated_at = ? WHERE ref = ? AND state IN ('dropped', 'waived', 'rejected')",
        (
            account,
            state,
            utc_text(not_before),
            json.dumps(facts, sort_keys=True),
            utc_text(now),
            ref,
        ),
    )
    return bool(cursor.rowcount)


def once_per_client(db: Connection, client: str, kind: str, *, simulated: bool) -> Row | None:
    """The welcome or closure row of this client (the real one, or a dry run's own)."""
    found: Row | None = db.execute(
        "SELECT * FROM outbox WHERE client_email = ? AND kind = ? AND simulated = ?",
        (client, kind, int(simulated)),
    ).fetchone()
    return found


def drop_session_notes(
    db: Connection,
    account: str,
    *,
    reason: str,
    now: datetime,
    session_key: str | None = None,
    occurrence: datetime | None = None,
    client: str | None = None,
    starting_before: datetime | None = None,
) -> list[str]:
    """Drop the waiting session notes that match every filter given; returns their refs."""
    where = (
        "account = ? AND kind = ? AND state IN (?, ?) AND (? IS NULL OR session_key = ?)"
        " AND (? IS NULL OR occurrence_start = ?) AND (? IS NULL OR client_email = ?)"
        " AND (? IS NULL OR occurrence_start <= ?)"
    )
    when = utc_text(occurrence) if occurrence else None
    before = utc_text(starting_before) if starting_before else None
    args = (
        account,
        SESSION_NOTE,
        *WAITING,
        session_key,
        session_key,
        when,
        when,
        client,
        client,
        before,
        before,
    )
    refs = [str(r["ref"]) for r in db.execute(f"SELECT ref FROM outbox WHERE {where}", args)]  # noqa: S608
    db.execute(
        f"UPDATE outbox SET state = 'dropped', detail = ?, updated_at = ? WHERE {where}",  # noqa: S608
        (reason, utc_text(now), *args),
    )
    return refs


def sessions_starting_between(
    db: Connection, account: str, earliest: datetime, latest: datetime
) -> list[Session]:
    """Sessions in the snapshot (not cancelled) that start in [earliest, latest]."""
    rows = db.execute(
        "SELECT body FROM sessions WHERE account = ? AND start_at >= ? AND start_at <= ?",
        (account, utc_text(earliest), utc_text(latest)),
    )
    sessions = [session_from_json(row["body"]) for row in rows]
    return [s for s in sessions if not s.cancelled]


def next_session_of(db: Connection, client: str, after: datetime) -> Session | None:
    """The client's next upcoming session on any account (for a welcome sent by hand)."""
    rows = db.execute(
        # lower(): SQLite's LIKE ignores ASCII case, PostgreSQL's does not
        "SELECT body FROM sessions WHERE start_at > ? AND lower(body) LIKE ? ORDER BY start_at",
        (utc_text(after), f"%{client.lower()}%"),
    )
    for row in rows:
        session = session_from_json(row["body"])
        if not session.cancelled and session.attendee(client) is not None:
            return session
    return None


def waiting(db: Connection, account: str | None = None) -> list[dict[str, Any]]:
    """Courtesy notices that need the practitioner: in review, or sent `unknown`/`rejected`."""
    rows = db.execute(
        "SELECT id, account, ref, kind, client_email, state, not_before, detail, facts,"
        " simulated FROM outbox WHERE decision_id IS NULL"
        " AND state IN ('review', 'unknown', 'rejected') AND (? IS NULL OR account = ?)"
        " ORDER BY not_before, id",
        (account, account),
    )
    return [{**dict(row), "facts": json.loads(row["facts"])} for row in rows]


def of_client(db: Connection, client: str | None) -> list[dict[str, Any]]:
    """Every courtesy notice of one client (or of everyone), oldest first, for history."""
    rows = db.execute(
        "SELECT ref, kind, client_email, state, not_before, updated_at, detail, simulated"
        " FROM outbox WHERE decision_id IS NULL AND (? IS NULL OR client_email = ?)"
        " ORDER BY id",
        (client, client),
    )
    return [dict(row) for row in rows]
