"""`fairwarning auth`: one-time authorisation of each account's providers, over SSH."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from worker.cli.common import fail, load, open_state
from worker.config import CalDavCalendarSettings, Config, SmtpSettings
from worker.errors import FairWarningError, StateError
from worker.private_files import write_private
from worker.store import sync_state
from worker.store.db import transaction
from worker.wiring import caldav_login_path, check_smtp_login, smtp_password_path
from worker.wiring.auth import (
    authorize_caldav,
    authorize_google,
    describe_credentials,
    sign_in_microsoft,
)


@click.group("auth")
def auth_group() -> None:
    """One-time authorisation of a Google, Microsoft, CalDAV or SMTP account (works over SSH)."""


@auth_group.command("google")
@click.option("--account", required=True, help="The [[accounts]] name this is for.")
@click.option(
    "--client-secrets",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The Desktop OAuth client JSON downloaded from Google Cloud.",
)
@click.option("--port", default=0, help="Local port for the redirect (to tunnel over SSH).")
@click.option("--list-calendars", is_flag=True, help="Also allow listing your calendars.")
@click.pass_context
def auth_google(
    ctx: click.Context, account: str, client_secrets: Path, port: int, list_calendars: bool
) -> None:
    """Authorise Calendar (read-only) and Gmail (send-only) for ACCOUNT."""
    config = load(ctx)
    _configured(config, account)
    try:
        scopes = authorize_google(
            config,
            account,
            client_secrets=client_secrets,
            list_calendars=list_calendars,
            port=port,
            say=click.echo,
            ask=lambda: click.prompt("Paste the address here", default="", show_default=False),
        )
    except FairWarningError as exc:
        fail(exc)
    _resume(config, account)
    click.echo(f"Authorised {account}: {', '.join(scopes)}")


@auth_group.command("microsoft")
@click.option("--account", required=True, help="The [[accounts]] name this is for.")
@click.option("--client-id", required=True, help="Application (client) ID from Microsoft Entra.")
@click.option(
    "--authority",
    default="consumers",
    show_default=True,
    help="consumers (Outlook.com), organizations, or your tenant id or domain.",
)
@click.option(
    "--authority-host",
    default="https://login.microsoftonline.com",
    show_default=True,
    help="Sign-in host (national clouds use others).",
)
@click.pass_context
def auth_microsoft(
    ctx: click.Context, account: str, client_id: str, authority: str, authority_host: str
) -> None:
    """Sign in with a device code: Calendars.Read and Mail.Send for ACCOUNT."""
    config = load(ctx)
    _configured(config, account)
    try:
        who = sign_in_microsoft(
            config,
            account,
            client_id=client_id,
            authority=authority,
            authority_host=authority_host,
            say=click.echo,
        )
    except FairWarningError as exc:
        fail(exc)
    _resume(config, account)
    click.echo(f"Signed in {account} as {who}")


@auth_group.command("smtp")
@click.option("--account", required=True, help="The [[accounts]] name this is for.")
@click.pass_context
def auth_smtp(ctx: click.Context, account: str) -> None:
    """Check and store the password of ACCOUNT's SMTP server (asked without echo)."""
    config = load(ctx)
    _configured(config, account)
    [settings] = [a for a in config.accounts if a.name == account]
    sender = settings.sender
    if not isinstance(sender, SmtpSettings):
        fail(f'account {account} does not send through SMTP: set sender.provider = "smtp" first')
    if not sender.username:
        fail(
            f"account {account}'s SMTP server has no username: "
            "a server without login needs no password"
        )
    password = click.prompt(f"Password for {sender.username} at {sender.host}", hide_input=True)
    click.echo(f"Logging in to {sender.host}:{sender.port} ({sender.security})…")
    try:
        check_smtp_login(config, settings, password, datetime.now(UTC))
    except FairWarningError as exc:
        fail(exc)
    path = smtp_password_path(config, account)
    try:
        write_private(path, password.encode("utf-8"))
    except OSError as exc:
        fail(StateError(f"cannot write {path}: {exc.strerror or exc}", path=str(path)))
    _resume(config, account)
    click.echo(f"Logged in as {sender.username}; the password is stored in {path}")


@auth_group.command("caldav")
@click.option("--account", required=True, help="The [[accounts]] name this is for.")
@click.option("--url", required=True, help="The server, e.g. https://caldav.icloud.com.")
@click.option("--username", required=True, help="Login name (iCloud: your Apple ID email).")
@click.option("--list-calendars", is_flag=True, help="Show each calendar's name and address.")
@click.pass_context
def auth_caldav(
    ctx: click.Context, account: str, url: str, username: str, list_calendars: bool
) -> None:
    """Check and store ACCOUNT's CalDAV login (password asked without echo); find calendars."""
    config = load(ctx)
    _configured(config, account)
    password = click.prompt(f"Password for {username} (an app-specific one)", hide_input=True)
    click.echo(f"Looking for calendars at {url}…")
    try:
        calendars = authorize_caldav(config, account, url=url, username=username, password=password)
    except FairWarningError as exc:
        fail(exc)
    _resume(config, account)
    click.echo(
        f"Logged in as {username}; the login is stored in {caldav_login_path(config, account)}"
    )
    [settings] = [a for a in config.accounts if a.name == account]
    calendar = settings.calendar
    watched = calendar.url if isinstance(calendar, CalDavCalendarSettings) else ""
    if watched and watched not in {address for _, address in calendars}:
        click.echo(f"Note: the configured url {watched} is not one of this login's calendars.")
        list_calendars = True
    if list_calendars or not watched:
        _show_calendars(calendars)


def _show_calendars(calendars: list[tuple[str, str]]) -> None:
    if not calendars:
        click.echo("This login has no calendar that holds events.")
        return
    click.echo("Calendars (put one address in [accounts.calendar] as url):")
    for name, address in calendars:
        click.echo(f"  {name}: {address}")


@auth_group.command("status")
@click.pass_context
def auth_status(ctx: click.Context) -> None:
    """Each account's credentials, without showing any secret."""
    config = load(ctx)
    for account in config.accounts:
        click.echo(f"{account.name}: {describe_credentials(config, account)}")


def _configured(config: Config, account: str) -> None:
    if account not in {a.name for a in config.accounts}:
        names = ", ".join(a.name for a in config.accounts)
        fail(f"no account named {account!r} in the configuration (accounts: {names})")


def _resume(config: Config, account: str) -> None:
    db = open_state(config)
    with transaction(db):
        sync_state.resume(db, account)
