"""Accounts' sync state, the session snapshot, facts and reported problems."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from worker.model import Fact, Session
from worker.store.codec import session_from_json, session_to_json
from worker.store.connection import Connection, Row
from worker.store.db import from_utc_text, utc_text


@dataclass(frozen=True, slots=True)
class AccountState:
    """Where an account's sync stands."""

    name: str
    cursor: str | None
    baselined: bool
    last_success_at: datetime | None
    paused_until: datetime | None
    pause_reason: str
    sending_paused_until: datetime | None
    sending_pause_reason: str

    def sync_paused(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now

    def sending_paused(self, now: datetime) -> bool:
        return self.sending_paused_until is not None and self.sending_paused_until > now


def account_state(db: Connection, name: str) -> AccountState:
    """The account's row, made the first time it is asked for (one statement after that:
    every step reads it several times)."""
    row = db.execute("SELECT * FROM accounts WHERE name = ?", (name,)).fetchone()
    if row is None:
        db.execute("INSERT INTO accounts (name) VALUES (?) ON CONFLICT DO NOTHING", (name,))
        row = db.execute("SELECT * FROM accounts WHERE name = ?", (name,)).fetchone()
    return _state(row)


def account_states(db: Connection) -> dict[str, AccountState]:
    """Every stored account's state, by name, in one query (an account never seen is absent)."""
    return {row["name"]: _state(row) for row in db.execute("SELECT * FROM accounts")}


def _state(row: Row) -> AccountState:
    return AccountState(
        name=row["name"],
        cursor=row["cursor"],
        baselined=bool(row["baselined"]),
        last_success_at=_maybe_time(row["last_success_at"]),
        paused_until=_maybe_time(row["paused_until"]),
        pause_reason=row["pause_reason"] or "",
        sending_paused_until=_maybe_time(row["sending_paused_until"]),
        sending_pause_reason=row["sending_pause_reason"] or "",
    )


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else from_utc_text(text)


def record_poll(db: Connection, name: str, *, cursor: str | None, at: datetime) -> None:
    """A successful poll also ends a pause of polling: whatever was wrong has been fixed."""
    db.execute(
        "UPDATE accounts SET cursor = ?, baselined = 1, last_success_at = ?,"
        " paused_until = NULL, pause_reason = NULL WHERE name = ?",
        (cursor, utc_text(at), name),
    )


def pause(db: Connection, name: str, until: datetime, reason: str) -> None:
    """Stop polling this account until `until` (it needs the practitioner, or a rest)."""
    db.execute("INSERT INTO accounts (name) VALUES (?) ON CONFLICT DO NOTHING", (name,))
    db.execute(
        "UPDATE accounts SET paused_until = ?, pause_reason = ? WHERE name = ?",
        (utc_text(until), reason, name),
    )


def pause_sending(db: Connection, name: str, until: datetime, reason: str) -> None:
    """Hold this account's notices until `until` (a provider's sending limit, a lost token)."""
    db.execute("INSERT INTO accounts (name) VALUES (?) ON CONFLICT DO NOTHING", (name,))
    db.execute(
        "UPDATE accounts SET sending_paused_until = ?, sending_pause_reason = ? WHERE name = ?",
        (utc_text(until), reason, name),
    )


def resume(db: Connection, name: str) -> None:
    """Lift every pause, e.g. after the practitioner authorised the account again."""
    db.execute(
        "UPDATE accounts SET paused_until = NULL, pause_reason = NULL,"
        " sending_paused_until = NULL, sending_pause_reason = '' WHERE name = ?",
        (name,),
    )


def snapshot(db: Connection, account: str, keys: Iterable[str] | None = None) -> dict[str, Session]:
    """The stored sessions of an account, or only those with the given keys.

    An incremental poll names what changed, so it needs only those: decoding every stored
    session on every idle poll was the largest cost of a big calendar.
    """
    if keys is None:
        rows = db.execute("SELECT key, body FROM sessions WHERE account = ?", (account,))
        return {row["key"]: session_from_json(row["body"]) for row in rows}
    found = {}
    for key in set(keys):
        row = db.execute(
            "SELECT body FROM sessions WHERE account = ? AND key = ?", (account, key)
        ).fetchone()
        if row is not None:
            found[key] = session_from_json(row["body"])
    return found


def save_sessions(db: Connection, account: str, sessions: tuple[Session, ...]) -> None:
    db.executemany(
        "INSERT INTO sessions (account, key, start_at, end_at, body) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (account, key) DO UPDATE SET start_at = excluded.start_at, "
        "end_at = excluded.end_at, body = excluded.body",
        [
            (account, s.key, utc_text(s.start), utc_text(s.end), session_to_json(s))
            for s in sessions
        ],
    )


def forget_sessions_before(db: Connection, account: str, moment: datetime) -> None:
    """Long-past sessions can no longer be cancelled late; the snapshot need not keep them."""
    db.execute("DELETE FROM sessions WHERE account = ? AND end_at < ?", (account, utc_text(moment)))


def record_fact(db: Connection, account: str, fact: Fact, observed_at: datetime) -> int:
    when = fact.cancelled_at
    cursor = db.execute(
        "INSERT INTO facts (account, session_key, kind, attendee, cancelled_at, cancelled_after,"
        " cancel_source, session, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            account,
            fact.session.key,
            str(fact.kind),
            fact.attendee.address if fact.attendee else None,
            utc_text(when.latest),
            utc_text(when.earliest) if when.earliest else None,
            str(when.source),
            session_to_json(fact.session),
            utc_text(observed_at),
        ),
    )
    return int(cursor.fetchone()[0])


def new_problems(
    db: Connection, account: str, problems: tuple[str, ...], at: datetime
) -> list[str]:
    """Remember problems; return only those not reported before, so each is said once."""
    fresh = []
    for text in problems:
        inserted = db.execute(
            "INSERT INTO problems (account, text, first_seen) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (account, text, utc_text(at)),
        )
        if inserted.rowcount:
            fresh.append(text)
    return fresh


def retain_problems(db: Connection, account: str, current: tuple[str, ...]) -> None:
    """Forget problems that went away, so a recurrence is reported again."""
    known = [
        r["text"] for r in db.execute("SELECT text FROM problems WHERE account = ?", (account,))
    ]
    gone = [(account, text) for text in known if text not in current]
    db.executemany("DELETE FROM problems WHERE account = ? AND text = ?", gone)


SNAPSHOT_KEEP = timedelta(days=30)


def sessions_between(db: Connection, start: datetime, end: datetime) -> list[Session]:
    """Every account's stored sessions that overlap [start, end): what fills the calendars."""
    rows = db.execute(
        "SELECT body FROM sessions WHERE end_at > ? AND start_at < ? ORDER BY start_at",
        (utc_text(start), utc_text(end)),
    )
    return [session_from_json(row["body"]) for row in rows]
