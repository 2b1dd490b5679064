"""Read-only queries behind a client's case file: their sessions, notices and ledger entries.

The cases themselves (decision, reasons, cancellation evidence) come from `views.cases`.
"""

from __future__ import annotations

import json
from typing import Any

from worker.store.connection import Connection, is_postgres, json_field, table_exists


def client_known(db: Connection, email: str) -> bool:
    """Whether the worker has any record of this client at all."""
    row = db.execute(
        "SELECT 1 FROM clients_seen WHERE email = ?"
        " UNION ALL SELECT 1 FROM decisions WHERE client_email = ?"
        " UNION ALL SELECT 1 FROM outbox WHERE client_email = ? LIMIT 1",
        (email, email, email),
    ).fetchone()
    return row is not None


def sessions_of(db: Connection, email: str) -> list[dict[str, Any]]:
    """Every session with this client the worker knows: the snapshot's (upcoming and recent)
    and those a fact recorded (cancelled, maybe gone from the snapshot), oldest first, once
    each. `source` says where it was found."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    attendee = (
        "jsonb_array_elements(s.body::jsonb -> 'attendees') a WHERE lower(a.value ->> 'email')"
        if is_postgres(db)
        else "json_each(s.body, '$.attendees') a WHERE lower(json_extract(a.value, '$.email'))"
    )
    rows = db.execute(
        "SELECT s.account, s.key, s.body, 'snapshot' AS source FROM sessions s"  # noqa: S608
        f" WHERE EXISTS (SELECT 1 FROM {attendee} = ?)"
        " UNION ALL SELECT f.account, f.session_key, f.session, 'cancellation record'"
        " FROM facts f JOIN decisions d ON d.fact_id = f.id WHERE d.client_email = ?"
        " ORDER BY 1, 2",
        (email, email),
    )
    for row in rows:
        body = json.loads(row["body"])
        key = (row["account"], row["key"])
        if key in found:
            continue
        mine = [a for a in body.get("attendees", ()) if str(a.get("email", "")).lower() == email]
        found[key] = {
            "account": row["account"],
            "session_key": row["key"],
            "title": body.get("title", ""),
            "start": body["start"],
            "end": body["end"],
            "response": mine[0].get("response", "") if mine else "",
            "source": row["source"],
        }
    return sorted(found.values(), key=lambda s: (s["start"], s["session_key"]))


def notices_of(db: Connection, email: str) -> list[dict[str, Any]]:
    """Every notice to this client, cases' and courtesy ones, oldest first, with the facts
    frozen in the outbox when it was queued (the sent text itself is not stored)."""
    rows = db.execute(
        "SELECT id, account, ref, kind, decision_id, state, not_before, facts, simulated,"
        " detail, written_to, updated_at, session_key FROM outbox WHERE client_email = ?"
        " ORDER BY id",
        (email,),
    )
    found = []
    for row in rows:
        notice = dict(row)
        notice["facts"] = json.loads(notice["facts"])
        notice["simulated"] = bool(notice["simulated"])
        found.append(notice)
    return found


def ledger_of(db: Connection, email: str) -> list[dict[str, Any]]:
    """This client's ledger entries (counted late cancellations), oldest first."""
    rows = db.execute(
        "SELECT l.id, l.decision_id, l.kind, l.cancelled_at, l.simulated, l.waived_at,"  # noqa: S608
        " l.waive_reason, o.ref,"
        f" {json_field(db, 'o.facts', 'prepaid_balance')} AS prepaid_balance"
        " FROM ledger l LEFT JOIN outbox o ON o.decision_id = l.decision_id"
        " WHERE l.client_email = ? ORDER BY l.cancelled_at, l.id",
        (email,),
    )
    return [{**dict(r), "simulated": bool(r["simulated"])} for r in rows]


def package_entries_of(db: Connection, email: str) -> list[dict[str, Any]]:
    """This client's prepaid package entries, oldest first (none before that ledger exists)."""
    if not table_exists(db, "package_entries"):
        return []
    rows = db.execute(
        "SELECT id, change, balance_after, reason, note, session_key, occurrence_start,"
        " decision_id, at FROM package_entries WHERE client_email = ? ORDER BY id",
        (email,),
    )
    return [dict(r) for r in rows]


def clients_in_records(db: Connection) -> dict[str, str]:
    """Every client address the records hold (seen on a calendar, in a case or a notice), with
    the name their latest case gives ("" when none does)."""
    rows = db.execute(
        "SELECT email, '' AS name, 0 AS id FROM clients_seen"
        " UNION ALL SELECT client_email, coalesce(client_name, ''), id FROM decisions"
        " WHERE client_email IS NOT NULL"
        " UNION ALL SELECT DISTINCT client_email, '', 0 FROM outbox ORDER BY 3"
    )
    found: dict[str, str] = {}
    for row in rows:
        email = str(row["email"]).strip().lower()
        found[email] = row["name"] or found.get(email, "")
    return found
