"""The storage tests' database: each test that asks for `store` runs on SQLite and on a real
PostgreSQL (a fresh database of its own on the session's cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.config.state import StateSettings
from worker.store.connection import Connection
from worker.store.db import open_database


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Connection]:
    """The state database, migrated and empty, on each backend in turn."""
    state = StateSettings()
    if request.param == "postgres":
        state = StateSettings(database=request.getfixturevalue("postgres_url"))
    db = open_database(tmp_path / "state", state)
    try:
        yield db
    finally:
        db.close()
