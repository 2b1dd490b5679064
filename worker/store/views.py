"""Read-only queries behind `history`, `review` and `status`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from worker.store.connection import Connection, Row, is_postgres, json_field
from worker.store.db import utc_text


def _cases_sql(db: Connection) -> str:
    return (
        "SELECT d.id, d.account, d.client_email, d.client_name, d.verdict, d.reasons,"  # noqa: S608
        " d.offence, d.status, d.decided_at, d.note, f.kind AS fact, f.session_key,"
        f" f.cancelled_at, f.cancel_source, {json_field(db, 'f.session', 'title')} AS title,"
        f" {json_field(db, 'f.session', 'start')} AS start, o.ref, o.kind AS notice,"
        " o.state AS notice_state, o.written_to, o.detail AS notice_detail"
        " FROM decisions d JOIN facts f ON f.id = d.fact_id"
        " LEFT JOIN outbox o ON o.decision_id = d.id"
    )


_COUNT = "SELECT COUNT(*) FROM decisions d JOIN facts f ON f.id = d.fact_id"


def _search_sql(db: Connection) -> str:
    """Who and when, for `search_cases`: a piece of the address or name, cancelled within."""
    position = "strpos" if is_postgres(db) else "instr"
    return (
        f" WHERE (? IS NULL OR {position}(lower(d.client_email), ?) > 0"
        f" OR {position}(lower(coalesce(d.client_name, '')), ?) > 0)"
        " AND (? IS NULL OR f.cancelled_at >= ?) AND (? IS NULL OR f.cancelled_at < ?)"
    )


def _case(row: Row) -> dict[str, Any]:
    case = dict(row)
    case["reasons"] = json.loads(case["reasons"])
    return case


def cases(
    db: Connection,
    *,
    client: str | None = None,
    account: str | None = None,
    status: str | None = None,
    notice_state: str | None = None,
) -> list[dict[str, Any]]:
    """Decisions with their fact and notice, newest first; every filter given must match."""
    rows = db.execute(
        _cases_sql(db) + " WHERE (? IS NULL OR d.client_email = ?) AND (? IS NULL OR d.account = ?)"
        " AND (? IS NULL OR d.status = ?) AND (? IS NULL OR o.state = ?) ORDER BY d.id DESC",
        (client, client, account, account, status, status, notice_state, notice_state),
    )
    return [_case(row) for row in rows]


def case(db: Connection, case_id: int) -> dict[str, Any] | None:
    """One decision with its fact and notice, as `cases` gives each."""
    row = db.execute(_cases_sql(db) + " WHERE d.id = ?", (case_id,)).fetchone()
    return None if row is None else _case(row)


def search_cases(
    db: Connection,
    *,
    client_text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases whose client's address or name holds `client_text` (any case)
    and that were cancelled in [since, until), newest first; and how many match in all."""
    text = client_text.strip().lower() if client_text and client_text.strip() else None
    after = utc_text(since) if since else None
    before = utc_text(until) if until else None
    where = (text, text, text, after, after, before, before)
    search = _search_sql(db)
    total = db.execute(_COUNT + search, where).fetchone()[0]
    rows = db.execute(
        _cases_sql(db) + search + " ORDER BY d.id DESC LIMIT ? OFFSET ?", (*where, limit, offset)
    )
    return [_case(row) for row in rows], int(total)


# `needs_practitioner` as SQL: the few cases it names are found by index, not by reading
# (and decoding) every case the practice ever had.
_NEEDING = (
    " WHERE d.id IN (SELECT id FROM decisions WHERE status = 'open'"
    " UNION SELECT decision_id FROM outbox WHERE state IN ('unknown', 'rejected')"
    " AND decision_id IS NOT NULL)"
    " AND (d.status = 'open' OR (o.state IN ('unknown', 'rejected') AND d.status != 'waived'))"
)


def needing_practitioner(db: Connection) -> list[dict[str, Any]]:
    """Open review cases and notices whose fate is unknown (or refused), newest first: the
    cases `needs_practitioner` picks out of `cases`."""
    return [_case(row) for row in db.execute(_cases_sql(db) + _NEEDING + " ORDER BY d.id DESC")]


def needs_practitioner(case: dict[str, Any]) -> bool:
    """An open review case, or a notice whose fate is unknown (or refused) and not waived."""
    return case["status"] == "open" or (
        case["notice_state"] in ("unknown", "rejected") and case["status"] != "waived"
    )


def accounts(db: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute("SELECT * FROM accounts ORDER BY name")]


def problems(db: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute("SELECT * FROM problems ORDER BY first_seen")]


def stuck_notices(db: Connection) -> list[dict[str, Any]]:
    """Queued notices that could not be rendered: a template needs fixing."""
    rows = db.execute(
        "SELECT ref, client_email, detail FROM outbox WHERE state = 'queued'"
        " AND detail LIKE 'not rendered:%' ORDER BY id"
    )
    return [dict(r) for r in rows]


def queued_cases(db: Connection, limit: int = 50) -> list[int]:
    """The cases whose notice waits in the outbox to go, soonest first."""
    rows = db.execute(
        "SELECT decision_id FROM outbox WHERE state = 'queued' AND decision_id IS NOT NULL"
        " ORDER BY not_before LIMIT ?",
        (limit,),
    )
    return [int(row["decision_id"]) for row in rows]


def account_of_case(db: Connection, case_id: int) -> str | None:
    """The account a case was decided on; None when there is no such case."""
    row = db.execute("SELECT account FROM decisions WHERE id = ?", (case_id,)).fetchone()
    return None if row is None else str(row["account"])


def account_of_notice(db: Connection, ref: str) -> str | None:
    """The account a notice (FW-…) belongs to; None when there is no such notice."""
    row = db.execute("SELECT account FROM outbox WHERE ref = ?", (ref,)).fetchone()
    return None if row is None else str(row["account"])


def notice_warnings(db: Connection) -> list[dict[str, Any]]:
    """Notices that went out with something undone around them (no copy in Sent)."""
    rows = db.execute(
        "SELECT ref, client_email, state, warning FROM outbox WHERE warning != '' ORDER BY id"
    )
    return [dict(r) for r in rows]


def undelivered_alerts(db: Connection) -> list[dict[str, Any]]:
    """Alerts no route could carry yet, with every route's reason."""
    rows = db.execute(
        "SELECT key, account, kind, at, detail FROM alerts WHERE state = 'undelivered' ORDER BY at"
    )
    return [dict(r) for r in rows]


def notice_counts(db: Connection, account: str | None) -> dict[str, int]:
    """Notices by state, for one account or all."""
    rows = db.execute(
        "SELECT state, COUNT(*) AS n FROM outbox WHERE (? IS NULL OR account = ?) GROUP BY state",
        (account, account),
    )
    return {str(r["state"]): int(r["n"]) for r in rows}
