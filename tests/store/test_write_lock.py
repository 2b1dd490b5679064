"""PostgreSQL's stand-in for SQLite's write lock is one per state: per practice's schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest

from worker.store.postgres import PgConnection, connect


@pytest.fixture
def connections(postgres_url: str) -> Iterator[dict[str, PgConnection]]:
    with ExitStack() as stack:
        opened = {
            "dana": connect(postgres_url, practice="dana"),
            "dana again": connect(postgres_url, practice="dana"),
            "eli": connect(postgres_url, practice="eli"),
        }
        for connection in opened.values():
            stack.callback(connection.close)
            connection.raw.execute("SET lock_timeout = '500ms'")
        yield opened


def test_a_practice_writing_makes_its_own_next_writer_wait(
    connections: dict[str, PgConnection],
) -> None:
    connections["dana"].begin_writing()

    with pytest.raises(psycopg.errors.LockNotAvailable):
        connections["dana again"].begin_writing()


def test_another_practice_on_the_same_database_writes_meanwhile(
    connections: dict[str, PgConnection],
) -> None:
    connections["dana"].begin_writing()

    connections["eli"].begin_writing()  # would time out if the lock were database-wide

    assert connections["eli"].in_transaction
