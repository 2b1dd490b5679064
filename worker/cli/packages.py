"""`fairwarning clients`: prepaid packages, their balances and recent entries; `topup` and
`adjust` record purchases and corrections in the same ledger the worker spends from."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from worker.cli.common import existing_state, fail, load, utcnow
from worker.clients import load_directory
from worker.errors import FairWarningError
from worker.pipeline import packages
from worker.store import packages as ledger
from worker.store.db import transaction
from worker.store.packages import Entry

RECENT = 5  # entries shown per client


@click.group("clients", invoke_without_command=True)
@click.option("--all", "everything", is_flag=True, help="Every entry, not only the latest.")
@click.pass_context
def clients_group(ctx: click.Context, everything: bool) -> None:
    """Prepaid balances and their latest entries; `topup` and `adjust` change them."""
    if ctx.invoked_subcommand is not None:
        return
    config = load(ctx)
    directory = load_directory(config)
    zone = ZoneInfo(config.practitioner.time_zone)
    with existing_state(config, read_only=True) as db:
        kept = ledger.clients(db)
        waiting = [c for c in directory.all() if c.prepaid_balance is not None]
        waiting = [c for c in waiting if c.email not in kept]
        if not kept and not waiting:
            click.echo("No client keeps prepaid sessions yet (`prepaid_balance` in [[clients]],")
            click.echo("or `fairwarning clients topup EMAIL N`).")
            return
        for email in kept:
            client = directory.by_email(email)
            name = f" ({client.name})" if client and client.name else ""
            left = ledger.current(db, email)
            click.echo(f"{email}{name}: {_sessions(left or 0)} left")
            for entry in ledger.entries(db, email, last=None if everything else RECENT):
                click.echo("  " + entry_line(entry, zone))
        for client in waiting:
            click.echo(
                f"{client.email}: opens with {_sessions(client.prepaid_balance or 0)} "
                "at the next poll (prepaid_balance)"
            )


def _count(value: str, *, command: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        fail(
            f"{value!r} is not a whole number of sessions; write it like "
            f"`fairwarning clients {command} sam@example.org "
            f"{'10' if command == 'topup' else '-1 --note WHY'}`"
        )


@clients_group.command("topup")
@click.argument("email")
@click.argument("count", metavar="N")
@click.option("--note", default="", help="What was bought (e.g. 'package of 10, paid 3 Dec').")
@click.pass_context
def topup(ctx: click.Context, email: str, count: str, note: str) -> None:
    """Record that a client bought N prepaid sessions."""
    number = _count(count, command="topup")
    _record(
        ctx,
        lambda db, directory: packages.top_up(
            db, directory, email, number, note=note, now=utcnow()
        ),
    )


@clients_group.command("adjust", context_settings={"ignore_unknown_options": True})
@click.argument("email")
@click.argument("count", metavar="N")
@click.option("--note", required=True, help="Why (kept in the client's ledger).")
@click.pass_context
def adjust(ctx: click.Context, email: str, count: str, note: str) -> None:
    """Correct a client's balance by N sessions (negative takes them off), saying why."""
    number = _count(count, command="adjust")
    _record(
        ctx,
        lambda db, directory: packages.adjust(
            db, directory, email, number, note=note, now=utcnow()
        ),
    )


def _record(ctx: click.Context, change: packages.LedgerChange) -> None:
    config = load(ctx)
    directory = load_directory(config)
    with existing_state(config, read_only=False) as db:
        try:
            with transaction(db):
                entry = change(db, directory)
        except FairWarningError as exc:
            fail(exc)
    click.echo(
        f"{entry.client_email}: {entry.change:+d} ({entry.note}); "
        f"{_sessions(entry.balance_after)} left"
    )


def entry_line(entry: Entry, zone: ZoneInfo) -> str:
    """One ledger entry for a table: when, the change, the balance after, why, and its link."""
    when = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    link = ""
    if entry.decision_id is not None:
        link = f" [case {entry.decision_id}]"
    elif entry.session_key:
        link = f" [{entry.account}/{entry.session_key}]"
    return f"{when}  {entry.change:+d} → {entry.balance_after}  {entry.reason}: {entry.note}{link}"


def _sessions(count: int) -> str:
    return f"{count} prepaid session{'' if count == 1 else 's'}"
