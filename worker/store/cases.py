"""Decisions and the client ledger the ladder climbs (prepaid balances: store/packages.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from worker.model import Decision
from worker.store.connection import Connection, Row
from worker.store.db import from_utc_text, utc_text


def record_decision(
    db: Connection,
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
        " offence, status, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
    return int(cursor.fetchone()[0])


def set_decision_status(db: Connection, decision_id: int, status: str, note: str) -> None:
    db.execute(
        "UPDATE decisions SET status = ?, note = ? WHERE id = ?", (status, note, decision_id)
    )


@dataclass(frozen=True, slots=True)
class CountedCase:
    """A counted late cancellation and its notice: `sent_at` is set only once it went out.

    `joined` marks a late cancellation named in another case's notice (made before that
    notice went out): the notice is that case's, and it is the same offence.
    """

    decision_id: int
    cancelled_at: datetime
    notice_kind: str | None
    notice_ref: str | None
    sent_at: datetime | None
    joined: bool = False


def counted_cases(db: Connection, client_email: str, *, simulated: bool) -> list[CountedCase]:
    """This client's counted, unwaived late cancellations, each with when its notice was sent,
    and the standing late cancellations that joined their notices.

    Dry-run cases (and their notices) count only towards other dry-run cases. A notice in any
    state but `sent` (waiting, rejected, unknown, dropped) has reached nobody as far as the
    worker knows.
    """
    rows = db.execute(
        "SELECT l.decision_id, l.cancelled_at, o.kind, o.ref, o.state, o.updated_at,"
        " 0 AS joined FROM ledger l LEFT JOIN outbox o ON o.decision_id = l.decision_id"
        " WHERE l.client_email = ? AND l.waived_at IS NULL AND l.simulated <= ?"
        " UNION ALL"
        " SELECT d.id, f.cancelled_at, o.kind, o.ref, o.state, o.updated_at, 1"
        " FROM decisions d JOIN facts f ON f.id = d.fact_id"
        " JOIN ledger l ON l.decision_id = d.joined_to"
        " LEFT JOIN outbox o ON o.decision_id = d.joined_to"
        " WHERE d.client_email = ? AND d.status IN ('final', 'approved')"
        " AND l.waived_at IS NULL"
        " AND l.simulated <= ? ORDER BY 2, 1",
        (client_email, int(simulated), client_email, int(simulated)),
    )
    return [
        CountedCase(
            decision_id=int(r["decision_id"]),
            cancelled_at=from_utc_text(r["cancelled_at"]),
            notice_kind=r["kind"],
            notice_ref=r["ref"],
            sent_at=from_utc_text(r["updated_at"]) if r["state"] == "sent" else None,
            joined=bool(r["joined"]),
        )
        for r in rows
    ]


def update_decision(db: Connection, decision_id: int, decision: Decision, *, status: str) -> None:
    """Decide a recorded case again (its notice was withdrawn under it): verdict, reasons."""
    db.execute(
        "UPDATE decisions SET verdict = ?, reasons = ?, offence = ?, status = ? WHERE id = ?",
        (
            str(decision.verdict),
            json.dumps(list(decision.reasons)),
            decision.offence,
            status,
            decision_id,
        ),
    )


def join_case(db: Connection, decision_id: int, host_id: int | None) -> None:
    """Record that a case's session is named in the notice of case `host_id` (None: no more)."""
    db.execute("UPDATE decisions SET joined_to = ? WHERE id = ?", (host_id, decision_id))


def joined_cases(db: Connection, host_id: int) -> list[Row]:
    """The standing cases whose sessions the notice of case `host_id` names, oldest first.

    A joined case stands while it is final (or approved, when it joined from review).
    """
    rows = db.execute(
        "SELECT * FROM decisions WHERE joined_to = ? AND status IN ('final', 'approved')"
        " ORDER BY id",
        (host_id,),
    )
    return list(rows)


def joined_waiting_for_session(
    db: Connection, account: str, session_key: str, client: str | None
) -> list[int]:
    """Standing cases for this session (and client) named in a notice that has not gone out."""
    rows = db.execute(
        "SELECT d.id FROM decisions d JOIN facts f ON f.id = d.fact_id"
        " JOIN outbox o ON o.decision_id = d.joined_to"
        " WHERE d.account = ? AND f.session_key = ? AND d.status IN ('final', 'approved')"
        " AND o.state IN ('review', 'queued') AND (? IS NULL OR d.client_email = ?)",
        (account, session_key, client, client),
    )
    return [int(r["id"]) for r in rows]


def add_to_ledger(db: Connection, decision_id: int, decision: Decision, *, simulated: bool) -> None:
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


def waive_in_ledger(db: Connection, decision_id: int, at: datetime, reason: str) -> bool:
    """Stop a case counting; True if it was counted before."""
    cursor = db.execute(
        "UPDATE ledger SET waived_at = ?, waive_reason = ? WHERE decision_id = ?"
        " AND waived_at IS NULL",
        (utc_text(at), reason, decision_id),
    )
    return bool(cursor.rowcount)


def ledger_kind(db: Connection, decision_id: int) -> str | None:
    row = db.execute("SELECT kind FROM ledger WHERE decision_id = ?", (decision_id,)).fetchone()
    return None if row is None else str(row["kind"])


def count_as_warning(db: Connection, decision_id: int) -> bool:
    """A counted forfeit counts as a warning instead (sent as the gentler step); True if it
    was a counted forfeit."""
    cursor = db.execute(
        "UPDATE ledger SET kind = 'warning' WHERE decision_id = ? AND kind = 'forfeit'"
        " AND waived_at IS NULL",
        (decision_id,),
    )
    return bool(cursor.rowcount)
