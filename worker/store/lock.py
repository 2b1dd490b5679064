"""One running worker per state directory, or several sharing a PostgreSQL database."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from worker.errors import StateError


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
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateError(
                f"another Fair Warning worker is already running on {state_dir}; "
                "stop it first (systemctl stop fairwarning) or use another state_dir"
            ) from None
        yield
    finally:
        os.close(handle)
