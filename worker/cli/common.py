"""What every command shares: the clock, loading the config, opening the state, failing."""

from __future__ import annotations

import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from worker.config import Config, load_config
from worker.errors import FairWarningError
from worker.store.db import open_database

EXIT_OK, EXIT_ATTENTION, EXIT_BROKEN = 0, 1, 2


def utcnow() -> datetime:
    return datetime.now(UTC)


def fail(error: FairWarningError | str) -> NoReturn:
    message = error.message if isinstance(error, FairWarningError) else error
    code = error.exit_code if isinstance(error, FairWarningError) else EXIT_BROKEN
    click.echo(f"fairwarning: {message}", err=True)
    sys.exit(code)


def load(ctx: click.Context) -> Config:
    path: Path = ctx.obj["config_path"]
    try:
        config, warnings = load_config(path)
    except FairWarningError as exc:
        fail(exc)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    return config


def open_state(config: Config) -> sqlite3.Connection:
    try:
        return open_database(config.state_dir)
    except FairWarningError as exc:
        fail(exc)
