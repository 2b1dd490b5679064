"""What every command shares: the clock, loading the config, opening the state, failing."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from worker.config import Config, load_config
from worker.errors import FairWarningError
from worker.store.db import database_path, open_database, open_existing
from worker.store.faults import classify

EXIT_OK, EXIT_ATTENTION, EXIT_BROKEN = 0, 1, 2


def utcnow() -> datetime:
    return datetime.now(UTC)


def fail(error: FairWarningError | str) -> NoReturn:
    message = error.message if isinstance(error, FairWarningError) else error
    code = error.exit_code if isinstance(error, FairWarningError) else EXIT_BROKEN
    click.echo(f"fairwarning: {message}", err=True)
    sys.exit(code)


def load(ctx: click.Context) -> Config:
    return load_warned(ctx)[0]


def load_warned(ctx: click.Context) -> tuple[Config, list[str]]:
    """The configuration, and its warnings (unknown keys), which are also printed."""
    path: Path = ctx.obj["config_path"]
    try:
        config, warnings = load_config(path)
    except FairWarningError as exc:
        fail(exc)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    return config, warnings


def open_state(config: Config) -> sqlite3.Connection:
    """The state database, created if missing (for commands that set an account up)."""
    try:
        return open_database(config.state_dir)
    except FairWarningError as exc:
        fail(exc)


@contextmanager
def existing_state(config: Config, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    """The state database as it is, never created; any fault is one line and exit 2.

    `read_only` opens it read-only (`status`, `history`, `review`): looking never writes.
    """
    try:
        db = open_existing(config.state_dir, read_only=read_only)
    except FairWarningError as exc:
        fail(exc)
    try:
        yield db
    except sqlite3.Error as exc:
        fail(classify(exc, database_path(config.state_dir), reading=read_only))
    finally:
        db.close()
