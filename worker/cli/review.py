"""`history`, `review`, `approve`, `waive` and `went-out`: the practitioner's cases and
decisions."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from worker.cli.clients import (
    act_on_notice,
    case_number,
    history_beyond_cases,
    is_notice_ref,
    review_beyond_cases,
)
from worker.cli.common import (
    EXIT_ATTENTION,
    echo_fitted,
    existing_state,
    fail,
    load,
    reader,
    utcnow,
)
from worker.cli.report import export_casefile
from worker.cli.reports import cases_table, print_records
from worker.config import Config
from worker.errors import FairWarningError
from worker.pipeline.casework import Desk, approve_notice, waive_notice
from worker.pipeline.casework import approve as approve_case
from worker.pipeline.casework import waive as waive_case
from worker.pipeline.choices import (
    approve_gentler,
    approve_gentler_notice,
    choices_for,
    confirm_sent,
)
from worker.pipeline.delivery import Departure, departure
from worker.service.departures import departure_words
from worker.store import views
from worker.store.connection import Connection
from worker.store.db import transaction
from worker.wiring import desk_for


@click.command()
@click.option("--client", "client_email", help="Only this client's cases.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (times in UTC).")
@click.option(
    "--export",
    "export_to",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --client: write their case file here (.html or .csv).",
)
@click.pass_context
def history(
    ctx: click.Context, client_email: str | None, as_json: bool, export_to: Path | None
) -> None:
    """Every case the worker judged, with its reasons and what became of its notice.

    With --client EMAIL --export FILE: the client's whole case file, HTML that prints on A4
    or CSV, by FILE's extension.
    """
    config = load(ctx)
    if export_to is not None:
        if not client_email:
            fail("--export needs --client EMAIL: a case file is about one client")
        export_casefile(config, client_email, export_to)
        return
    with existing_state(config, read_only=True) as db:
        cases = views.cases(db, client=client_email.lower() if client_email else None)
        others = history_beyond_cases(db, client_email.lower() if client_email else None)
    if as_json:
        click.echo(json.dumps(cases, indent=2))
    else:
        print_records(cases_table(cases, "History", reader(config)))
        if others:
            echo_fitted("\n".join(others))


@click.command()
@click.pass_context
def review(ctx: click.Context) -> None:
    """Cases waiting for you: approve ID sends the notice, waive ID lets it go."""
    config = load(ctx)
    with existing_state(config, read_only=True) as db:
        waiting = views.needing_practitioner(db)
        notices, advice = review_beyond_cases(db, config)
        choices = _choice_lines(config, db, waiting)
    if advice:
        click.echo("Consider ending the working relationship:")
        echo_fitted("\n".join(advice))
    if not waiting and not notices:
        click.echo("Nothing needs you.")
        return
    if waiting:
        print_records(cases_table(waiting, "Waiting for you", reader(config)))
        echo_fitted("\n".join(choices))
    echo_fitted("\n".join(notices))
    echo_fitted(
        "fairwarning approve ID            — send it\n"
        "fairwarning approve ID --gentler  — send a reminder instead of the forfeit\n"
        "fairwarning went-out ID           — it went out: you found it in your Sent folder\n"
        "fairwarning waive ID              — let it go"
    )
    sys.exit(EXIT_ATTENTION)


_CHOICES = {
    "approve": "approve {id}",
    "gentler": "approve {id} --gentler (a reminder instead of the forfeit)",
    "went-out": "went-out {id} (you found it in your Sent folder)",
    "waive": "waive {id}",
}


def _choice_lines(config: Config, db: Connection, waiting: list[dict[str, Any]]) -> list[str]:
    """What you can do with each waiting case, oldest first: `case 12: approve 12 · …`."""
    lines = []
    for case in reversed(waiting):
        desk = desk_for(config, db, case["account"], utcnow())
        choices = [_CHOICES[c].format(id=case["id"]) for c in choices_for(desk, case["id"])]
        if not choices:
            continue
        if case["notice_state"] == "unknown":
            choices[0] += " (send it again)"
        lines.append(f"  case {case['id']}: " + " · ".join(choices))
    return ["What you can do:", *lines] if lines else []


@click.command()
@click.argument("case_id")
@click.option(
    "--gentler",
    is_flag=True,
    help="Send a reminder instead of the forfeit; the forfeit is withdrawn (and any prepaid "
    "session it spent given back), and the reminder counts as a warning.",
)
@click.pass_context
def approve(ctx: click.Context, case_id: str, gentler: bool) -> None:
    """Send the notice for a case in review (or resend one whose send ended unknown).

    CASE_ID is a case number, or a notice reference (FW-…) such as a welcome's. Says when
    it will really go out: quiet hours, a sending pause and whether a service is running to
    send it all decide that. With --gentler, a forfeit goes as a reminder instead.
    """
    if is_notice_ref(case_id):
        act = approve_gentler_notice if gentler else approve_notice
        act_on_notice(ctx, case_id, lambda desk: act(desk, case_id))
        return
    number = case_number(case_id)
    if gentler:
        _act(ctx, lambda desk: approve_gentler(desk, number), number, then=_departure_words)
        return
    _act(ctx, lambda desk: approve_case(desk, number), number, then=_departure_words)


@click.command("went-out")
@click.argument("case_id")
@click.pass_context
def went_out(ctx: click.Context, case_id: str) -> None:
    """It went out: you found the notice whose send ended unknown in your Sent folder.

    The notice is recorded as sent (so it counts as the client's warning) and is never sent
    again. CASE_ID is a case number or a notice reference (FW-…). To send it again instead,
    use `fairwarning approve ID`.
    """
    if is_notice_ref(case_id):
        act_on_notice(ctx, case_id, lambda desk: confirm_sent(desk, case_id))
        return
    number = case_number(case_id)
    _act(ctx, lambda desk: confirm_sent(desk, number), number)


@click.command()
@click.argument("case_id")
@click.option("--reason", default="", help="Why you let it go (kept in the history).")
@click.pass_context
def waive(ctx: click.Context, case_id: str, reason: str) -> None:
    """Let a case go: it sends nothing and no longer counts towards the next step.

    CASE_ID is a case number, or a notice reference (FW-…) such as a welcome's.
    """
    if is_notice_ref(case_id):
        act_on_notice(ctx, case_id, lambda desk: waive_notice(desk, case_id, reason))
        return
    number = case_number(case_id)
    _act(ctx, lambda desk: waive_case(desk, number, reason), number)


Then = Callable[[Config, Departure], str]


def _act(
    ctx: click.Context, action: Callable[[Desk], str], case_id: int, then: Then | None = None
) -> None:
    config = load(ctx)
    with existing_state(config, read_only=False) as db:
        account = views.account_of_case(db, case_id) or config.accounts[0].name
        try:
            with transaction(db):
                said = action(desk_for(config, db, account, utcnow()))
        except FairWarningError as exc:
            fail(exc)
        leaves = departure(db, case_id, config.policy, utcnow()) if then else None
    echo_fitted(then(config, leaves) if then and leaves else said)


def _departure_words(config: Config, leaves: Departure) -> str:
    return departure_words(config, leaves, utcnow())
