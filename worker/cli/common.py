"""What every command shares: the clock, loading the config, opening the state, failing."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from worker.cli.reports import Reader
from worker.config import Config
from worker.config.folder import loader
from worker.config.state import PRACTICE_RULE
from worker.errors import FairWarningError
from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.db import database_path, open_database, open_existing
from worker.store.faults import classify
from worker.wiring import dry_run_folder

EXIT_OK, EXIT_ATTENTION, EXIT_BROKEN = 0, 1, 2


def utcnow() -> datetime:
    return datetime.now(UTC)


def reader(config: Config) -> Reader:
    """How tables show things to this practitioner: their zone, their dry-run folders."""
    folders = tuple(dry_run_folder(config, account.name) for account in config.accounts)
    return Reader(config.practitioner.time_zone, utcnow(), folders)


_COMMAND = re.compile(r"`[^`]*`")
_KEEP = "\x00"  # stands for a space inside a `command` while wrapping


def echo_fitted(text: str) -> None:
    """Print `text` with every line wrapped to the terminal's width (COLUMNS, else 80 when
    the output is not a terminal); a wrapped line goes on indented under itself, and a
    `command` in backquotes is kept on one line when it fits, so it can be pasted."""
    width = max(shutil.get_terminal_size().columns, 20)
    for line in text.splitlines() or [""]:
        indent = " " * (len(line) - len(line.lstrip(" ")))
        kept = _COMMAND.sub(lambda found: found.group().replace(" ", _KEEP), line)
        wrapped = textwrap.wrap(
            kept,
            width=width,
            subsequent_indent=indent + "  ",
            break_long_words=False,  # a path or an address stays whole, to paste
            break_on_hyphens=False,
        )
        click.echo("\n".join(wrapped or [""]).replace(_KEEP, " "))


def fail(error: FairWarningError | str) -> NoReturn:
    message = error.message if isinstance(error, FairWarningError) else error
    code = error.exit_code if isinstance(error, FairWarningError) else EXIT_BROKEN
    click.echo(f"fairwarning: {message}", err=True)
    sys.exit(code)


def require_practice(ctx: click.Context) -> None:
    """A command that works on one configuration, given a folder but no practice."""
    if ctx.obj.get("practices") is not None and ctx.obj.get("practice") is None:
        raise click.UsageError(
            f"with --practices, this command needs --practice NAME to pick one; in "
            f"{ctx.obj['practices']}, {listed(ctx.obj['found'])}"
        )


def listed(names: list[str]) -> str:
    if not names:
        return f"it holds none (one NAME.toml per practice; NAME: {PRACTICE_RULE})"
    return "the practices there are " + ", ".join(names)


def load(ctx: click.Context) -> Config:
    return load_warned(ctx)[0]


def load_warned(ctx: click.Context) -> tuple[Config, list[str]]:
    """The configuration, and its warnings (unknown keys), which are also printed."""
    require_practice(ctx)
    path: Path = ctx.obj["config_path"]
    practice: str | None = ctx.obj.get("practice")
    try:
        config, warnings = loader(practice)(path)
    except FairWarningError as exc:
        fail(exc)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    return config, warnings


def open_state(config: Config) -> Connection:
    """The state database, created if missing (for commands that set an account up)."""
    try:
        return open_database(config.state_dir, config.state)
    except FairWarningError as exc:
        fail(exc)


@contextmanager
def existing_state(config: Config, *, read_only: bool) -> Iterator[Connection]:
    """The state database as it is, never created; any fault is one line and exit 2.

    `read_only` opens it read-only (`status`, `history`, `review`): looking never writes.
    """
    try:
        db = open_existing(config.state_dir, read_only=read_only, state=config.state)
    except FairWarningError as exc:
        fail(exc)
    try:
        yield db
    except DATABASE_ERRORS as exc:
        fail(classify(exc, database_path(config.state_dir), reading=read_only))
    finally:
        db.close()
