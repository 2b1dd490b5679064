"""One running worker per state directory, or several sharing a PostgreSQL database."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from worker.errors import StateError

TRIES, PAUSE = 5, 0.1  # seconds between tries


@contextmanager
def only_worker(state_dir: Path, *, shared: bool = False) -> Iterator[None]:
    """One running worker per state directory: two would race for the same notices.

    `shared`: workers on one PostgreSQL database share the accounts through leases, and may
    share a state directory too; their shared lock still tells `status` that one is running,
    and keeps out a worker on the SQLite file there.
    """
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = os.open(state_dir / "worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _locked(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX):
            raise StateError(
                f"another Fair Warning worker is already running on {state_dir}; "
                "stop it first (systemctl stop fairwarning) or use another state_dir"
            )
        yield
    finally:
        os.close(handle)


def _locked(handle: int, kind: int) -> bool:
    """Take the lock; a few tries a moment apart, because `status` holds it for an instant
    to see whether a worker runs, and a worker starting just then must not give up."""
    for attempt in range(TRIES):
        try:
            fcntl.flock(handle, kind | fcntl.LOCK_NB)
        except BlockingIOError:
            if attempt + 1 < TRIES:
                time.sleep(PAUSE)
            continue
        return True
    return False
