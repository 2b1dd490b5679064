"""Builds a Worker from the configuration: the one place that knows every connector."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from worker.calendar import CalendarSource
from worker.casework import Desk, open_desk
from worker.clients import load_directory
from worker.config import Account, Config
from worker.cycle import Mailroom, Worker
from worker.errors import StateError
from worker.sender import Sender
from worker.store.db import open_database
from worker.templates import TemplateLibrary


def desk_for(config: Config, db: sqlite3.Connection, account: str, now: datetime) -> Desk:
    """A desk for the review commands, outside any worker cycle."""
    return open_desk(config, db, account, load_directory(config), now)


def build_worker(config: Config, *, clock: Callable[[], datetime]) -> Worker:
    """Open the state database and the connectors for every configured account."""
    return Worker(
        config=config,
        directory=load_directory(config),
        templates=TemplateLibrary(user_dir=config.templates_dir),
        db=open_database(config.state_dir),
        mailrooms=[
            Mailroom(a.name, build_calendar(a, config, clock), build_sender(a, config))
            for a in config.accounts
        ],
        clock=clock,
    )


def build_calendar(
    account: Account, config: Config, clock: Callable[[], datetime]
) -> CalendarSource:
    """The account's calendar source; connectors are imported only when configured."""
    from connectors.local import LocalCalendar

    return LocalCalendar(
        path=account.calendar.path,
        practitioner_email=config.practitioner.email,
        time_zone=config.practitioner.time_zone,
        clock=clock,
    )


def build_sender(account: Account, config: Config) -> Sender:
    """The account's sender; in dry-run mode every notice is written to the state directory."""
    from connectors.file_sender import FileSender

    if config.policy.mode == "dry-run":
        return FileSender(folder=dry_run_folder(config, account.name))
    return FileSender(folder=account.sender.folder)


def dry_run_folder(config: Config, account: str) -> Path:
    return config.state_dir / "dry-run" / account


@contextmanager
def only_worker(state_dir: Path) -> Iterator[None]:
    """One running worker per state directory: two would race for the same notices."""
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = os.open(state_dir / "worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateError(
                f"another Fair Warning worker is already running on {state_dir}; "
                "stop it first (systemctl stop fairwarning) or use another state_dir"
            ) from None
        yield
    finally:
        os.close(handle)
