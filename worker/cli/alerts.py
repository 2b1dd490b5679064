"""`fairwarning alerts`: the route alerts take, and the SMTP relay's password."""

from __future__ import annotations

import click

from worker.cli.common import fail, load
from worker.errors import StateError
from worker.pipeline.alerts import describe_routes
from worker.private_files import write_private
from worker.wiring import alert_password_path


@click.group("alerts")
def alerts_group() -> None:
    """How alerts reach you when something needs you."""


@alerts_group.command("route")
@click.pass_context
def show_route(ctx: click.Context) -> None:
    """Say which way alerts will travel (exit 1 when the only way may fail with the account)."""
    route, warning = describe_routes(load(ctx))
    click.echo(route)
    if warning:
        click.echo(f"warning: {warning}")
        ctx.exit(1)


@alerts_group.command("set-password")
@click.pass_context
def set_password(ctx: click.Context) -> None:
    """Store the password of the [alerts.via] SMTP relay in the state directory (0600)."""
    config = load(ctx)
    via = config.alerts.via
    if via is None or via.provider != "smtp":
        fail('[alerts.via] is not an SMTP relay: set provider = "smtp" first (see the README)')
    if not getattr(via, "username", ""):
        fail("[alerts.via] has no username: a relay without login needs no password")
    password = click.prompt(f"Password for {via.username} at {via.host}", hide_input=True)
    path = alert_password_path(config)
    try:
        write_private(path, password.encode("utf-8"))
    except OSError as exc:
        fail(StateError(f"cannot write {path}: {exc.strerror or exc}", path=str(path)))
    click.echo(f"stored in {path}; alerts will use it from the next cycle")
