"""Decisions, the client ledger the ladder climbs, and prepaid balances."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from worker.model import Client, Decision
from worker.store.db import from_utc_text, utc_text


def record_decision(
    db: sqlite3.Connection,
    account: str,
    fact_id: int,
    decision: Decision,
    *,
    status: str,
    at: datetime,
) -> int:
    client = decision.client
    cursor = db.execute(
        "INSERT INTO decisions (fact_id, account, client_email, client_name, verdict, reasons,"
        " offence, status, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            fact_id,
            account,
            client.email if client else None,
            client.name if client else "",
            str(decision.verdict),
            json.dumps(list(decision.reasons)),
            decision.offence,
            status,
            utc_text(at),
        ),
    )
    return int(cursor.lastrowid or 0)


def set_decision_status(db: sqlite3.Connection, decision_id: int, status: str, note: str) -> None:
    db.execute(
        "UPDATE decisions SET status = ?, note = ? WHERE id = ?", (status, note, decision_id)
    )


def counted_cancellations(
    db: sqlite3.Connection, client_email: str, *, simulated: bool
) -> list[datetime]:
    """Cancel times of this client's counted, unwaived late cancellations.

    Dry-run cases count only towards other dry-run cases, so trying the worker out never
    moves a real client up the ladder.
    """
    rows = db.execute(
        "SELECT cancelled_at FROM ledger WHERE client_email = ? AND waived_at IS NULL"
        " AND simulated <= ? ORDER BY cancelled_at",
        (client_email, int(simulated)),
    )
    return [from_utc_text(r["cancelled_at"]) for r in rows]


def add_to_ledger(
    db: sqlite3.Connection, decision_id: int, decision: Decision, *, simulated: bool
) -> None:
    assert decision.client is not None
    db.execute(
        "INSERT INTO ledger (client_email, decision_id, kind, cancelled_at, simulated)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            decision.client.email,
            decision_id,
            "forfeit" if decision.verdict == "forfeit" else "warning",
            utc_text(decision.fact.cancelled_at.latest),
            int(simulated),
        ),
    )


def waive_in_ledger(db: sqlite3.Connection, decision_id: int, at: datetime, reason: str) -> bool:
    """Stop a case counting; True if it was counted before."""
    cursor = db.execute(
        "UPDATE ledger SET waived_at = ?, waive_reason = ? WHERE decision_id = ?"
        " AND waived_at IS NULL",
        (utc_text(at), reason, decision_id),
    )
    return bool(cursor.rowcount)


def ledger_kind(db: sqlite3.Connection, decision_id: int) -> str | None:
    row = db.execute("SELECT kind FROM ledger WHERE decision_id = ?", (decision_id,)).fetchone()
    return None if row is None else str(row["kind"])


def balance(db: sqlite3.Connection, client: Client) -> int | None:
    """Prepaid sessions left. Changing the number in the config resets it to that number."""
    if client.prepaid_balance is None:
        return None
    row = db.execute(
        "SELECT balance, configured FROM balances WHERE client_email = ?", (client.email,)
    ).fetchone()
    if row is not None and row["configured"] == client.prepaid_balance:
        return int(row["balance"])
    db.execute(
        "INSERT INTO balances (client_email, balance, configured) VALUES (?, ?, ?)"
        " ON CONFLICT (client_email) DO UPDATE SET balance = excluded.balance,"
        " configured = excluded.configured",
        (client.email, client.prepaid_balance, client.prepaid_balance),
    )
    return client.prepaid_balance


def adjust_balance(db: sqlite3.Connection, client_email: str, by: int) -> None:
    db.execute(
        "UPDATE balances SET balance = MAX(0, balance + ?) WHERE client_email = ?",
        (by, client_email),
    )
