"""`welcome`, `close-client` and `reopen-client`; and what `review`, `approve` and `waive` need
for the notices that have no case behind them (they go by their reference, FW-…)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from functools import partial

import click

from worker.cli.common import existing_state, fail, load, utcnow
from worker.config import Config
from worker.errors import FairWarningError
from worker.notices.templates import TemplateLibrary
from worker.pipeline.casework import Desk
from worker.pipeline.closure import (
    close_client,
    closure_suggestions,
    plan_closure,
    preview_closure,
    reopen_client,
)
from worker.pipeline.welcome import preview_welcome, send_welcome
from worker.store import clients_seen, courtesy, views
from worker.store.connection import Connection
from worker.store.db import transaction
from worker.wiring import desk_for

_ACCOUNT = click.option(
    "--account", help="The account whose mailbox sends it (needed when you have several)."
)


@click.command("welcome")
@click.argument("email")
@click.option("--send", is_flag=True, help="Send it (a client gets one welcome, ever).")
@_ACCOUNT
@click.pass_context
def welcome(ctx: click.Context, email: str, send: bool, account: str | None) -> None:
    """Preview the welcome notice (your policy in full) for a client; --send sends it."""
    config = load(ctx)
    with existing_state(config, read_only=not send) as db:
        desk = _desk(config, db, email, account)
        try:
            if not send:
                plan, message = preview_welcome(desk, config, _templates(config), email)
                _show(message)
                _say_not_sent(plan.ref, "a client gets one welcome")
                return
            with transaction(db):
                said = send_welcome(desk, email)
        except FairWarningError as exc:
            fail(exc)
    click.echo(said)


@click.command("close-client")
@click.argument("email")
@click.option("--reason", required=True, help="Why the relationship ends; quoted in the notice.")
@click.option(
    "--effective",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day it takes effect, YYYY-MM-DD (today or later).",
)
@click.option("--outstanding", default="", help="What is still owed or due, if anything.")
@click.option("--send", is_flag=True, help="Send the closure notice (once) and record it.")
@_ACCOUNT
@click.pass_context
def close_client_command(
    ctx: click.Context,
    email: str,
    reason: str,
    effective: datetime,
    outstanding: str,
    send: bool,
    account: str | None,
) -> None:
    """Preview a formal closure notice for a client; --send sends it and ends the relationship.

    Afterwards the client's cancellations are recorded, not judged.
    """
    config = load(ctx)
    with existing_state(config, read_only=not send) as db:
        desk = _desk(config, db, email, account)
        asked = partial(
            plan_closure,
            desk,
            email,
            reason=reason,
            effective=effective.date(),
            outstanding=outstanding,
        )
        try:
            if not send:
                plan = asked()
                _show(preview_closure(desk, config, _templates(config), plan))
                _say_not_sent(plan.ref, "a client gets one closure notice")
                return
            with transaction(db):
                said = close_client(desk, asked())
        except FairWarningError as exc:
            fail(exc)
    click.echo(said)


@click.command("reopen-client")
@click.argument("email")
@_ACCOUNT
@click.pass_context
def reopen_client_command(ctx: click.Context, email: str, account: str | None) -> None:
    """Undo a closure: the client's cancellations are judged again."""
    config = load(ctx)
    with existing_state(config, read_only=False) as db:
        desk = _desk(config, db, email, account)
        try:
            with transaction(db):
                said = reopen_client(desk, email)
        except FairWarningError as exc:
            fail(exc)
    click.echo(said)


def is_notice_ref(value: str) -> bool:
    """Whether `approve`/`waive` were given a notice reference (FW-…) rather than a case."""
    return value.strip().upper().startswith("FW-")


def case_number(value: str) -> int:
    """A case number as typed, or exit 2 saying what is accepted."""
    try:
        return int(value)
    except ValueError:
        fail(
            f"{value!r} is neither a case number nor a notice reference (FW-…); "
            "`fairwarning review` lists both"
        )


def act_on_notice(ctx: click.Context, ref: str, action: Callable[[Desk], str]) -> None:
    """Approve or waive by reference, on the account whose notice it is."""
    config = load(ctx)
    with existing_state(config, read_only=False) as db:
        account = views.account_of_notice(db, ref.strip().upper()) or config.accounts[0].name
        try:
            with transaction(db):
                said = action(desk_for(config, db, account, utcnow()))
        except FairWarningError as exc:
            fail(exc)
    click.echo(said)


def review_beyond_cases(db: Connection, config: Config) -> tuple[list[str], list[str]]:
    """Lines for `review` beyond the cases: courtesy notices waiting for you (they make it
    exit 1), and clients whose forfeits suggest ending the relationship (advice only)."""
    waiting = courtesy.waiting(db)
    notices = []
    if waiting:
        notices.append("Notices waiting for you (no case behind them; approve or waive FW-…):")
    for row in waiting:
        facts = row["facts"]
        about = f" · {facts['session_title']!r} {facts['start'][:16]}" if facts.get("start") else ""
        detail = f": {row['detail']}" if row["detail"] else ""
        notices.append(
            f"  {row['ref']}  {row['kind']} to {row['client_email']}{about} · "
            f"{row['state']}{detail}"
        )
    advice = []
    for suggestion in closure_suggestions(db, config.policy, utcnow()):
        who = suggestion.client_email
        if suggestion.client_name:
            who += f" ({suggestion.client_name})"
        advice.append(f"{who}:")
        advice += [f"  - {line}" for line in suggestion.reasons(config.policy)]
        advice.append(
            f"  preview a closure: fairwarning close-client {suggestion.client_email} "
            '--reason "…" --effective YYYY-MM-DD'
        )
    return notices, advice


def history_beyond_cases(db: Connection, client: str | None) -> list[str]:
    """Lines for `history` beyond the cases: welcomes, notes before sessions, closures (with
    what became of each), and the end of a working relationship."""
    rows = courtesy.of_client(db, client)
    lines = ["Other notices (welcome, notes before sessions, closures):"] if rows else []
    for row in rows:
        when = row["updated_at"] if row["state"] not in ("review", "queued") else row["not_before"]
        detail = f": {row['detail']}" if row["detail"] else ""
        dry = " (dry-run)" if row["simulated"] else ""
        lines.append(
            f"  {row['ref']}  {row['kind']} to {row['client_email']} · {row['state']}{dry} "
            f"{when[:16].replace('T', ' ')} UTC{detail}"
        )
    for note in clients_seen.closed_clients(db):
        if client is None or note.email == client:
            lines.append(
                f"{note.email}: you ended the working relationship on {note.closed_effective} "
                f"({note.closure_ref}): {note.closed_reason}"
            )
    return lines


def _desk(config: Config, db: Connection, email: str, chosen: str | None) -> Desk:
    names = [a.name for a in config.accounts]
    if chosen is not None and chosen not in names:
        fail(f"--account {chosen}: there is no such account; yours: {', '.join(names)}")
    account = chosen or (names[0] if len(names) == 1 else "")
    if not account:
        note = clients_seen.note(db, email)
        if note is None or note.account not in names:
            fail(
                f"you have several accounts ({', '.join(names)}): choose the one whose "
                "mailbox sends it with --account"
            )
        account = note.account
    return desk_for(config, db, account, utcnow())


def _templates(config: Config) -> TemplateLibrary:
    try:
        return TemplateLibrary(user_dir=config.templates_dir)
    except FairWarningError as exc:
        fail(exc)


def _show(message: EmailMessage) -> None:
    skipped = ("content-type", "mime-version", "content-transfer-encoding")
    for name, value in message.items():
        if name.lower() not in skipped:
            click.echo(f"{name}: {value}")
    body = message.get_body(preferencelist=("plain",))
    click.echo("")
    click.echo(str(body.get_content()) if body is not None else "")
    for part in message.iter_attachments():
        size = len(part.get_content())
        click.echo(
            f"attached: {part.get_filename()} ({part.get_content_type()}, {size / 1024:.0f} KB)"
        )


def _say_not_sent(ref: str, once: str) -> None:
    click.echo(f"Not sent ({ref}): add --send to send it ({once}).")
