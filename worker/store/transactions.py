"""Explicit write transactions and undone previews, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.postgres import PgConnection


def begin_writing(connection: Connection) -> None:
    """Start a transaction that holds the write lock from its first statement.

    SQLite: BEGIN IMMEDIATE. PostgreSQL: BEGIN plus the store's advisory write lock
    (`PgConnection.begin_writing`); either way a second writer waits rather than failing.
    """
    if isinstance(connection, PgConnection):
        connection.begin_writing()
    else:
        connection.execute("BEGIN IMMEDIATE")


@contextmanager
def transaction(connection: Connection) -> Iterator[Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error (a failed COMMIT included)."""
    begin_writing(connection)
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        roll_back(connection)
        raise


@contextmanager
def undone(connection: Connection) -> Iterator[Connection]:
    """Run writes whose every effect is undone afterwards: a look at what they would do.

    Inside the caller's transaction this is a SAVEPOINT rolled back to; outside one it takes
    the write lock first (BEGIN IMMEDIATE, so a write cannot meet a stale snapshot) and rolls
    the whole transaction back. Nothing is ever committed, whatever happens inside.
    """
    outer = not connection.in_transaction
    if outer:
        begin_writing(connection)
    connection.execute("SAVEPOINT fw_undone")
    try:
        yield connection
    finally:
        if outer:
            roll_back(connection)
        elif connection.in_transaction:
            connection.execute("ROLLBACK TO fw_undone")
            connection.execute("RELEASE fw_undone")


def roll_back(connection: Connection) -> None:
    """Undo what is left of a transaction, never hiding the error that ended it.

    SQLite may already have rolled back (a full disk, an I/O error), and a failed COMMIT can
    leave the transaction open: either way the connection is usable afterwards.
    """
    if connection.in_transaction:
        with contextlib.suppress(*DATABASE_ERRORS):
            connection.execute("ROLLBACK")
