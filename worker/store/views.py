"""Read-only queries behind `history`, `review` and `status`."""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def cases(
    db: sqlite3.Connection,
    *,
    client: str | None = None,
    account: str | None = None,
    status: str | None = None,
    notice_state: str | None = None,
) -> list[dict[str, Any]]:
    """Decisions with their fact and notice, newest first; every filter given must match."""
    rows = db.execute(
        "SELECT d.id, d.account, d.client_email, d.client_name, d.verdict, d.reasons, d.offence,"
        " d.status, d.decided_at, d.note, f.kind AS fact, f.session_key, f.cancelled_at,"
        " f.cancel_source, json_extract(f.session, '$.title') AS title,"
        " json_extract(f.session, '$.start') AS start, o.ref, o.kind AS notice,"
        " o.state AS notice_state, o.written_to, o.detail AS notice_detail"
        " FROM decisions d JOIN facts f ON f.id = d.fact_id"
        " LEFT JOIN outbox o ON o.decision_id = d.id"
        " WHERE (? IS NULL OR d.client_email = ?) AND (? IS NULL OR d.account = ?)"
        " AND (? IS NULL OR d.status = ?) AND (? IS NULL OR o.state = ?) ORDER BY d.id DESC",
        (client, client, account, account, status, status, notice_state, notice_state),
    )
    found = []
    for row in rows:
        case = dict(row)
        case["reasons"] = json.loads(case["reasons"])
        found.append(case)
    return found


def needing_practitioner(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Open review cases and notices whose fate is unknown."""
    return [
        c
        for c in cases(db)
        if c["status"] == "open"
        or (c["notice_state"] in ("unknown", "rejected") and c["status"] != "waived")
    ]


def accounts(db: sqlite3.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute("SELECT * FROM accounts ORDER BY name")]


def problems(db: sqlite3.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute("SELECT * FROM problems ORDER BY first_seen")]


def stuck_notices(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Queued notices that could not be rendered: a template needs fixing."""
    rows = db.execute(
        "SELECT ref, client_email, detail FROM outbox WHERE state = 'queued'"
        " AND detail LIKE 'not rendered:%' ORDER BY id"
    )
    return [dict(r) for r in rows]


def notice_warnings(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Notices that went out with something undone around them (no copy in Sent)."""
    rows = db.execute(
        "SELECT ref, client_email, state, warning FROM outbox WHERE warning != '' ORDER BY id"
    )
    return [dict(r) for r in rows]


def undelivered_alerts(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Alerts no route could carry yet, with every route's reason."""
    rows = db.execute(
        "SELECT key, account, kind, at, detail FROM alerts WHERE state = 'undelivered' ORDER BY at"
    )
    return [dict(r) for r in rows]


def notice_counts(db: sqlite3.Connection, account: str | None) -> dict[str, int]:
    """Notices by state, for one account or all."""
    rows = db.execute(
        "SELECT state, COUNT(*) AS n FROM outbox WHERE (? IS NULL OR account = ?) GROUP BY state",
        (account, account),
    )
    return {str(r["state"]): int(r["n"]) for r in rows}
