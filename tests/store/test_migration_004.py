"""Upgrading a database made by the release before courtesy notices loses nothing.

The database is built the way that release built it (migrations 001–003, schema 3), with a
practice's worth of rows in it, then opened by this release.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from worker.model import Attendee, Response, Session
from worker.store.codec import session_to_json
from worker.store.db import _migrations, _statements, database_path, open_database

NOW = "2026-11-23T09:00:00+00:00"
TABLES = ("accounts", "sessions", "facts", "decisions", "outbox", "ledger", "balances", "audit")


def _session(key: str, *clients: str) -> str:
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    return session_to_json(
        Session(
            key=key,
            title="Coaching",
            start=start,
            end=start + timedelta(minutes=50),
            attendees=(
                Attendee("dana@riveracoaching.example", "Dana", Response.ACCEPTED),
                *(Attendee(c, "", Response.ACCEPTED) for c in clients),
            ),
        )
    )


def _schema_3(state: Path) -> None:
    """A database as the release at schema 3 left it, with rows in every table."""
    state.mkdir(mode=0o700)
    db = sqlite3.connect(database_path(state), isolation_level=None)
    for version, script in _migrations():
        if version <= 3:
            for statement in _statements(script):
                db.execute(statement)
    db.execute("PRAGMA user_version = 3")
    rows = [
        "INSERT INTO accounts (name, cursor, baselined, last_success_at)"
        f" VALUES ('main', 'cursor-1', 1, '{NOW}')",
        "INSERT INTO sessions VALUES ('main', 's1', '2026-11-25T09:00:00+00:00',"
        f" '2026-11-25T09:50:00+00:00', '{_session('s1', 'Sam@Example.org')}')",
        "INSERT INTO sessions VALUES ('main', 's2', '2026-11-26T09:00:00+00:00',"
        f" '2026-11-26T09:50:00+00:00', '{_session('s2', 'ana@example.org')}')",
        "INSERT INTO facts (id, account, session_key, kind, attendee, cancelled_at,"
        f" cancel_source, session, observed_at) VALUES (1, 'main', 's1', 'declined',"
        f" 'sam@example.org', '{NOW}', 'response time', '{_session('s1', 'sam@example.org')}',"
        f" '{NOW}')",
        "INSERT INTO decisions (id, fact_id, account, client_email, client_name, verdict,"
        f" reasons, offence, status, decided_at) VALUES (1, 1, 'main', 'sam@example.org',"
        f" 'Sam', 'reminder', '[\"late\"]', 1, 'final', '{NOW}')",
        "INSERT INTO outbox (id, account, session_key, occurrence_start, client_email, kind,"
        " decision_id, ref, state, not_before, facts, simulated, detail, provider_id,"
        " written_to, updated_at) VALUES (1, 'main', 's1', '2026-11-25T09:00:00+00:00',"
        f" 'sam@example.org', 'reminder', 1, 'FW-OLD', 'sent', '{NOW}', '{{}}', 0, 'ok',"
        f" 'gmail-1', '', '{NOW}')",
        "INSERT INTO ledger (client_email, decision_id, kind, cancelled_at)"
        f" VALUES ('sam@example.org', 1, 'warning', '{NOW}')",
        "INSERT INTO balances VALUES ('sam@example.org', 4, 5)",
        f"INSERT INTO audit (at, account, event, detail) VALUES ('{NOW}', 'main', 'e', 'd')",
        f"INSERT INTO alerts VALUES ('k', 'main', 'alert_unknown', 'sent', '{NOW}', '')",
    ]
    for statement in rows:
        db.execute(statement)
    db.close()


@pytest.fixture
def upgraded(tmp_path: Path) -> sqlite3.Connection:
    state = tmp_path / "state"
    _schema_3(state)
    before = sqlite3.connect(database_path(state))
    counts = {t: before.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    listed = before.execute("SELECT * FROM outbox")
    columns = ", ".join(d[0] for d in listed.description)  # later versions add columns
    outbox = listed.fetchall()
    before.close()
    db = open_database(state)
    assert {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES} == counts
    assert [tuple(r) for r in db.execute(f"SELECT {columns} FROM outbox")] == outbox
    return db


def test_the_upgrade_keeps_every_row_and_the_outbox_keys(upgraded: sqlite3.Connection) -> None:
    indexes = {r["name"] for r in upgraded.execute("PRAGMA index_list(outbox)")}
    assert {"outbox_by_state", "outbox_once_per_client"} <= indexes
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        upgraded.execute(
            "INSERT INTO outbox (account, session_key, occurrence_start, client_email, kind,"
            " decision_id, ref, state, not_before, facts, updated_at) VALUES ('main', 's1',"
            f" '2026-11-25T09:00:00+00:00', 'sam@example.org', 'reminder', 1, 'FW-NEW',"
            f" 'queued', '{NOW}', '{{}}', '{NOW}')"
        )
    assert upgraded.execute("PRAGMA foreign_key_check").fetchall() == []
    assert upgraded.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_after_the_upgrade_a_notice_needs_no_decision_but_a_welcome_goes_once(
    upgraded: sqlite3.Connection,
) -> None:
    insert = (
        "INSERT INTO outbox (account, session_key, occurrence_start, client_email, kind,"
        " decision_id, ref, state, not_before, facts, updated_at) VALUES (?, '', ?,"
        " 'new@example.org', 'welcome', NULL, ?, 'queued', ?, '{}', ?)"
    )
    upgraded.execute(insert, ("main", NOW, "FW-W1", NOW, NOW))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        upgraded.execute(insert, ("clinic", "2026-11-24T09:00:00+00:00", "FW-W2", NOW, NOW))


def test_clients_known_before_the_upgrade_are_never_welcomed(upgraded: sqlite3.Connection) -> None:
    seen = {r["email"]: r["seen_as"] for r in upgraded.execute("SELECT * FROM clients_seen")}
    assert seen == {
        "sam@example.org": "upgrade",
        "ana@example.org": "upgrade",
        "dana@riveracoaching.example": "upgrade",
    }
