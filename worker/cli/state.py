"""`fairwarning state copy --to postgresql://…`: move the SQLite state to PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
from pydantic import ValidationError

from worker.cli.common import existing_state, fail, load
from worker.config.state import StateSettings
from worker.errors import FairWarningError
from worker.store.copy import copy_state
from worker.store.db import open_database
from worker.store.lock import only_worker
from worker.store.postgres import PgConnection, shown_place


@click.group("state")
def state_group() -> None:
    """The state database: copy it to PostgreSQL."""


@state_group.command("copy")
@click.option("--to", "url", required=True, help="postgresql://user@host/dbname (no password).")
@click.option(
    "--password-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file holding the password (else PGPASSWORD or ~/.pgpass).",
)
@click.pass_context
def copy_command(ctx: click.Context, url: str, password_file: Path | None) -> None:
    """Copy the SQLite state in state_dir into an empty PostgreSQL database, verified by
    counting every table's rows; a database that already holds state is refused."""
    config = load(ctx)
    if config.state.database:
        fail(
            "state.database already names a PostgreSQL database; `state copy` moves the SQLite "
            "state in state_dir, so take state.database out of the config while copying"
        )
    try:
        target_settings = StateSettings(
            database=url, password_file=password_file, practice=config.state.practice
        )
    except ValidationError as exc:
        fail("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
    try:
        with only_worker(config.state_dir), existing_state(config, read_only=True) as source:
            assert isinstance(source, sqlite3.Connection)
            target = open_database(config.state_dir, target_settings)
            try:
                assert isinstance(target, PgConnection)
                counts = copy_state(source, target)
            finally:
                target.close()
    except FairWarningError as exc:
        fail(exc)
    width = max(len(c.table) for c in counts)
    click.echo(
        f"Copied the state in {config.state_dir} to {shown_place(url, config.state.practice)}:"
    )
    for copied in counts:
        click.echo(f"  {copied.table:<{width}}  {copied.source:>7} rows → {copied.target:>7}")
    click.echo(
        f'Every table matches. Now set state.database = "{url}" under [state] in the '
        "config and start the worker again."
    )
