"""Every client the worker has seen, once across accounts: when, how, and whether it ended.

A client is recorded the first time a calendar shows them with an upcoming session; that is
what makes a welcome go out once per client, ever. Clients on a calendar at its first look
(`baseline`) or known before this version (`upgrade`) are recorded without one. A closure
(`fairwarning close-client … --send`) is recorded here too, with its date and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from worker.store.connection import Connection, Row
from worker.store.db import from_utc_text, utc_text

BASELINE, NEW, BY_HAND = "baseline", "new", "by hand"


@dataclass(frozen=True, slots=True)
class ClientNote:
    """What the worker knows of one client's relationship with the practice."""

    email: str
    first_seen: datetime
    account: str
    seen_as: str
    closed_at: datetime | None = None
    closed_effective: date | None = None
    closed_reason: str = ""
    closure_ref: str = ""
    closure_simulated: bool = False

    def closed_for(self, *, simulated: bool) -> bool:
        """Whether the relationship has ended; a dry run's closure counts only in dry runs."""
        return self.closed_at is not None and (simulated or not self.closure_simulated)


def _note(row: Row) -> ClientNote:
    return ClientNote(
        email=row["email"],
        first_seen=from_utc_text(row["first_seen"]),
        account=row["account"],
        seen_as=row["seen_as"],
        closed_at=from_utc_text(row["closed_at"]) if row["closed_at"] else None,
        closed_effective=date.fromisoformat(row["closed_effective"])
        if row["closed_effective"]
        else None,
        closed_reason=row["closed_reason"],
        closure_ref=row["closure_ref"] or "",
        closure_simulated=bool(row["closure_simulated"]),
    )


def note(db: Connection, email: str) -> ClientNote | None:
    row = db.execute(
        "SELECT * FROM clients_seen WHERE email = ?", (email.strip().lower(),)
    ).fetchone()
    return None if row is None else _note(row)


def record_seen(db: Connection, email: str, account: str, at: datetime, seen_as: str) -> bool:
    """Remember a client; True when they had never been seen before (on any account)."""
    inserted = db.execute(
        "INSERT INTO clients_seen (email, first_seen, account, seen_as)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (email.strip().lower(), utc_text(at), account, seen_as),
    )
    return bool(inserted.rowcount)


def record_closure(
    db: Connection,
    email: str,
    *,
    ref: str,
    effective: date,
    reason: str,
    at: datetime,
    simulated: bool,
) -> None:
    """The practitioner ended the working relationship (the client must have been recorded)."""
    db.execute(
        "UPDATE clients_seen SET closed_at = ?, closed_effective = ?, closed_reason = ?,"
        " closure_ref = ?, closure_simulated = ? WHERE email = ?",
        (utc_text(at), effective.isoformat(), reason, ref, int(simulated), email),
    )


def clear_closure(db: Connection, email: str) -> None:
    """The relationship goes on (the closure was withdrawn, or the client came back)."""
    db.execute(
        "UPDATE clients_seen SET closed_at = NULL, closed_effective = NULL, closed_reason = '',"
        " closure_ref = NULL, closure_simulated = 0 WHERE email = ?",
        (email,),
    )


def closed_clients(db: Connection) -> list[ClientNote]:
    rows = db.execute("SELECT * FROM clients_seen WHERE closed_at IS NOT NULL ORDER BY email")
    return [_note(row) for row in rows]


def policy_sent_at(db: Connection, email: str, *, simulated: bool) -> datetime | None:
    """When this client's welcome (with the policy in full) was sent, if it was."""
    row = db.execute(
        "SELECT MIN(updated_at) AS at FROM outbox WHERE client_email = ? AND kind = 'welcome'"
        " AND state = 'sent' AND simulated <= ?",
        (email, int(simulated)),
    ).fetchone()
    return from_utc_text(row["at"]) if row["at"] else None
