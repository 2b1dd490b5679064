"""The outbox: one row per notice, moving review/queued → sending → sent | rejected | unknown.

`sending` is committed before a message leaves, so a crash mid-send leaves a row that
`recover_interrupted` turns into `unknown`: the practitioner decides, nothing is resent blindly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from worker.store import leases
from worker.store.connection import Connection, Row
from worker.store.db import from_utc_text, transaction, utc_text

WAITING = ("review", "queued")


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """One outbox row as the delivery step needs it."""

    id: int
    account: str
    ref: str
    kind: str
    client_email: str
    session_key: str
    decision_id: int | None  # None for a courtesy notice (welcome, session note, closure)
    state: str
    not_before: datetime
    facts: dict[str, Any]
    simulated: bool


def _row(row: Row) -> NoticeRow:
    return NoticeRow(
        id=row["id"],
        account=row["account"],
        ref=row["ref"],
        kind=row["kind"],
        client_email=row["client_email"],
        session_key=row["session_key"],
        decision_id=row["decision_id"],
        state=row["state"],
        not_before=from_utc_text(row["not_before"]),
        facts=json.loads(row["facts"]),
        simulated=bool(row["simulated"]),
    )


def notice_ref(account: str, session_key: str, occurrence: datetime, client: str, kind: str) -> str:
    """A stable reference for the notice's unique key, shown to the client and in headers."""
    key = "\x1f".join((account, session_key, utc_text(occurrence), client, kind))
    return "FW-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def live_notice(
    db: Connection, account: str, session_key: str, client: str
) -> tuple[str, str] | None:
    """The ref and kind of a notice for this session and client that was not dropped: its own,
    or the one it joined (named there among the other sessions).

    One cancellation earns one notice: a decline withdrawn and repeated must not climb the
    ladder a second time for the same session.
    """
    row = db.execute(
        "SELECT ref, kind FROM outbox WHERE account = ? AND session_key = ? AND client_email = ?"
        " AND state != 'dropped' AND decision_id IS NOT NULL"  # a note before it is no verdict
        " UNION ALL SELECT o.ref, o.kind FROM decisions d JOIN facts f ON f.id = d.fact_id"
        " JOIN outbox o ON o.decision_id = d.joined_to WHERE d.account = ?"
        " AND f.session_key = ? AND d.client_email = ? AND d.status IN ('final', 'approved')"
        " AND o.state != 'dropped'",
        (account, session_key, client, account, session_key, client),
    ).fetchone()
    return None if row is None else (str(row["ref"]), str(row["kind"]))


def enqueue(
    db: Connection,
    *,
    account: str,
    session_key: str,
    occurrence: datetime,
    client: str,
    kind: str,
    decision_id: int | None,
    state: str,
    not_before: datetime,
    facts: dict[str, Any],
    simulated: bool,
    now: datetime,
) -> str:
    """Add the notice, or bring back a dropped one for the same key. Returns its reference."""
    ref = notice_ref(account, session_key, occurrence, client, kind)
    db.execute(
        "INSERT INTO outbox (account, session_key, occurrence_start, client_email, kind,"
        " decision_id, ref, state, not_before, facts, simulated, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, session_key, occurrence_start, client_email, kind)"
        " DO UPDATE SET decision_id = excluded.decision_id, state = excluded.state,"
        " not_before = excluded.not_before, facts = excluded.facts,"
        " updated_at = excluded.updated_at WHERE outbox.state = 'dropped'",
        (
            account,
            session_key,
            utc_text(occurrence),
            client,
            kind,
            decision_id,
            ref,
            state,
            utc_text(not_before),
            json.dumps(facts, sort_keys=True),
            int(simulated),
            utc_text(now),
        ),
    )
    return ref


def waiting_warning(
    db: Connection, account: str, client: str, *, simulated: bool
) -> NoticeRow | None:
    """The reminder to this client that has not gone out yet (in its hold, quiet hours or
    review), if there is one: a late cancellation made now joins it."""
    row = db.execute(
        "SELECT * FROM outbox WHERE account = ? AND client_email = ? AND kind = 'reminder'"
        " AND state IN (?, ?) AND simulated = ? ORDER BY id LIMIT 1",
        (account, client, *WAITING, int(simulated)),
    ).fetchone()
    return None if row is None else _row(row)


def set_facts(db: Connection, notice_id: int, facts: dict[str, Any], not_before: datetime) -> None:
    """Change what a waiting notice will say (a session joined or left it), and when it goes."""
    db.execute(
        "UPDATE outbox SET facts = ?, not_before = ? WHERE id = ?",
        (json.dumps(facts, sort_keys=True), utc_text(not_before), notice_id),
    )


def waiting_for_session(
    db: Connection, account: str, session_key: str, client: str | None
) -> list[NoticeRow]:
    rows = db.execute(
        "SELECT * FROM outbox WHERE account = ? AND session_key = ? AND state IN (?, ?)"
        " AND decision_id IS NOT NULL AND (? IS NULL OR client_email = ?)",
        (account, session_key, *WAITING, client, client),
    )
    return [_row(r) for r in rows]


def set_state(db: Connection, notice_id: int, state: str, now: datetime, **changes: str) -> None:
    columns = "".join(f", {name} = ?" for name in changes)
    db.execute(
        f"UPDATE outbox SET state = ?, updated_at = ?{columns} WHERE id = ?",  # noqa: S608
        (state, utc_text(now), *changes.values(), notice_id),
    )


def due(db: Connection, account: str, now: datetime) -> list[NoticeRow]:
    rows = db.execute(
        "SELECT * FROM outbox WHERE account = ? AND state = 'queued' AND not_before <= ?"
        " ORDER BY not_before, id",
        (account, utc_text(now)),
    )
    return [_row(r) for r in rows]


def by_decision(db: Connection, decision_id: int) -> NoticeRow | None:
    row = db.execute("SELECT * FROM outbox WHERE decision_id = ?", (decision_id,)).fetchone()
    return None if row is None else _row(row)


def by_ref(db: Connection, ref: str) -> NoticeRow | None:
    row = db.execute("SELECT * FROM outbox WHERE ref = ?", (ref.strip().upper(),)).fetchone()
    return None if row is None else _row(row)


def ref_as(db: Connection, notice_id: int, kind: str) -> str | None:
    """The reference this notice would have as another kind of notice (see `reissue`); None
    when another notice already holds that key."""
    row = db.execute("SELECT * FROM outbox WHERE id = ?", (notice_id,)).fetchone()
    occurrence = from_utc_text(row["occurrence_start"])
    ref = notice_ref(row["account"], row["session_key"], occurrence, row["client_email"], kind)
    taken = db.execute("SELECT 1 FROM outbox WHERE ref = ?", (ref,)).fetchone()
    return None if taken is not None else ref


def reissue(
    db: Connection,
    notice_id: int,
    *,
    kind: str,
    facts: dict[str, Any],
    state: str,
    now: datetime,
    detail: str,
) -> str:
    """Make a notice that has not gone out another kind of notice for the same case, under
    the reference of its new key (check it is free with `ref_as`): a case keeps one outbox
    row. Returns the new reference."""
    ref = ref_as(db, notice_id, kind)
    assert ref is not None, "reissue needs a free key: ask ref_as first"
    db.execute(
        "UPDATE outbox SET kind = ?, ref = ?, facts = ?, state = ?, not_before = ?, detail = ?,"
        " updated_at = ? WHERE id = ?",
        (
            kind,
            ref,
            json.dumps(facts, sort_keys=True),
            state,
            utc_text(now),
            detail,
            utc_text(now),
            notice_id,
        ),
    )
    return ref


def confirm_sent(db: Connection, notice_id: int, detail: str) -> bool:
    """An `unknown` send the practitioner found in their Sent folder becomes `sent`.

    `updated_at` is kept: the message left before it became `unknown`, so that time (not the
    confirmation's) is the latest it can have reached the client, which the ladder needs.
    """
    cursor = db.execute(
        "UPDATE outbox SET state = 'sent', detail = ? WHERE id = ? AND state = 'unknown'",
        (detail, notice_id),
    )
    return bool(cursor.rowcount)


def postpone(db: Connection, notice_id: int, until: datetime, reason: str) -> None:
    db.execute(
        "UPDATE outbox SET not_before = ?, detail = ? WHERE id = ?",
        (utc_text(until), reason, notice_id),
    )


def claim(db: Connection, notice_id: int, now: datetime) -> bool:
    """Commit `sending` durably before the message leaves; False if someone else took it."""
    with transaction(db):
        claimed = db.execute(
            "UPDATE outbox SET state = 'sending', updated_at = ? WHERE id = ? AND state = 'queued'",
            (utc_text(now), notice_id),
        ).rowcount
    return bool(claimed)


INTERRUPTED = "the worker stopped while sending; check your Sent folder"
INTERRUPTED_DRAFT = (
    "the worker stopped while putting it in your Drafts folder; look there, then approve it "
    "again (a draft already there is found by its reference, not made twice) or waive it"
)


def recover_interrupted(
    db: Connection,
    account: str,
    now: datetime,
    detail: str = INTERRUPTED,
    *,
    holder: str | None = None,
) -> list[str]:
    """Rows left in `sending` by a crash become `unknown`; their refs are returned.

    With several workers (`holder` names this one's leases), only an account whose lease this
    worker holds: a row another live worker is sending is not interrupted.
    """
    with transaction(db):
        if holder is not None and not leases.holds(db, holder, account, now, keep=True):
            return []
        refs = [
            str(r["ref"])
            for r in db.execute(
                "SELECT ref FROM outbox WHERE account = ? AND state = 'sending'", (account,)
            )
        ]
        db.execute(
            "UPDATE outbox SET state = 'unknown', updated_at = ?, detail = ?"
            " WHERE account = ? AND state = 'sending'",
            (utc_text(now), detail, account),
        )
    return refs
