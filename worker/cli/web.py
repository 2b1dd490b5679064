"""`fairwarning web`: the practitioner's console, and its password."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from worker.cli.common import fail, load
from worker.errors import FairWarningError
from worker.private_files import read_private, write_private
from worker.web.keys import console_dir, set_password


@click.group(invoke_without_command=True)
@click.option("--host", help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: web.port, 8465).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """The console in a browser: today, review, clients, notices, history, settings.

    Listens on 127.0.0.1:8465 unless told otherwise; reach it from a phone through an SSH
    tunnel or a reverse proxy with TLS (README, "The console"). Needs a password first:
    `fairwarning web set-password`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from worker.web.serve import serve  # uvicorn is loaded only to serve

    config = load(ctx)
    try:
        serve(config, host=host, port=port, config_path=ctx.obj["config_path"])
    except FairWarningError as exc:
        fail(exc)


@web.command("set-password")
@click.pass_context
def set_password_command(ctx: click.Context) -> None:
    """Set the console's password (asked twice, never echoed); logs out every session."""
    config = load(ctx)
    password = click.prompt("New console password", hide_input=True, confirmation_prompt=True)
    try:
        set_password(config.state_dir, password)
    except FairWarningError as exc:
        fail(exc)
    click.echo(
        f"Password set (its Argon2id hash is in {config.state_dir / 'console'}, 0600). "
        "Start the console with: fairwarning web"
    )


def demo_password(state_dir: Path) -> str:
    """The demo console's password: made on the demo's first run, the same ever after.

    Kept beside the hash in the demo's own state folder; a real practice never has one
    (its password is only ever typed, at `fairwarning web set-password`).
    """
    kept = console_dir(state_dir) / "demo-password"
    if kept.is_file():
        return read_private(kept).decode()
    password = f"demo-{secrets.token_urlsafe(9)}"
    set_password(state_dir, password)
    write_private(kept, password.encode())
    return password
