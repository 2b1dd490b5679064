"""The audit log: one line for everything the worker did, in the order it did it."""

from __future__ import annotations

from datetime import datetime

from worker.store.connection import Connection
from worker.store.db import utc_text


def audit(db: Connection, at: datetime, account: str | None, event: str, detail: str) -> None:
    db.execute(
        "INSERT INTO audit (at, account, event, detail) VALUES (?, ?, ?, ?)",
        (utc_text(at), account, event, detail),
    )
