"""Upgrading to the package ledger (006): the balances kept before become opening entries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from worker.store import packages
from worker.store.db import _migrations, _statements, database_path, open_database


def test_balances_kept_before_the_ledger_become_its_opening_entries(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    old = sqlite3.connect(database_path(state))
    for version, script in _migrations():
        if version < 6:
            for statement in _statements(script):
                old.execute(statement)
    old.execute("PRAGMA user_version = 5")
    old.execute("INSERT INTO balances VALUES ('sam@example.org', 3, 5)")
    old.commit()
    old.close()

    db = open_database(state)
    [entry] = packages.entries(db, "sam@example.org")
    assert (entry.reason, entry.change, entry.balance_after) == ("opening", 3, 3)
    assert "configured 5" in entry.note
    assert packages.current(db, "sam@example.org") == 3
    db.close()
