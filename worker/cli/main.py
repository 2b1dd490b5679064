"""The `fairwarning` command: thin wiring from options to the worker.

Exit codes (README, "Commands and exit codes"): 0 all well; 1 something needs the practitioner
(a case put in review, an unknown or rejected send, a skipped calendar file, a paused account, a
problem found by `check`); 2 broken (bad configuration, a state database fault, no state yet,
wrong usage). `run` without `--once` ends 0 when stopped by SIGTERM or SIGINT.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import click

from worker.cli import checks, demo, starter
from worker.cli.alerts import alerts_group
from worker.cli.auth import auth_group
from worker.cli.common import (
    EXIT_ATTENTION,
    EXIT_BROKEN,
    existing_state,
    fail,
    load,
    load_warned,
    utcnow,
)
from worker.cli.reports import cases_table, cycle_table, print_table
from worker.cli.service import service_group
from worker.config import default_config_path, json_schema, load_config
from worker.errors import FairWarningError, NoState
from worker.notices.preview import render_preview
from worker.notices.templates import KINDS
from worker.pipeline.alerts import describe_routes
from worker.pipeline.casework import Desk
from worker.pipeline.casework import approve as approve_case
from worker.pipeline.casework import waive as waive_case
from worker.service import lifecycle
from worker.service.health import (
    cycle_attention,
    describe,
    exit_code,
    health,
    read_fault,
    state_attention,
)
from worker.service.lifecycle import fault_path, heartbeat_path
from worker.service.logs import TEXT_LOG, JsonLines
from worker.store import views
from worker.store.db import database_path, open_existing, transaction, utc_text
from worker.store.faults import classify
from worker.wiring import desk_for

log = logging.getLogger("fairwarning")


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file (default: $FAIRWARNING_CONFIG, else ~/.config/fairwarning/).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every step to stderr.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text suits journald; json suits log shippers.",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: bool, log_format: str) -> None:
    """Fair Warning: kind reminders and forfeiture notices for late cancellations."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_LOG))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    ctx.obj = {"config_path": config_path or default_config_path()}


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write a commented configuration and copy the templates; never overwrites."""
    for line in starter.write_starter(ctx.obj["config_path"]):
        click.echo(line)


@main.command()
@click.option("--strict", is_flag=True, help="Unknown keys count as problems (exit 1).")
@click.pass_context
def check(ctx: click.Context, strict: bool) -> None:
    """Check the configuration, every template in every language, and the state directory."""
    config, warnings = load_warned(ctx)
    problems = checks.check_all(config, utcnow(), ctx.obj["config_path"])
    for problem in problems:
        click.echo(f"problem: {problem}")
    click.echo(f"templates: {checks.template_style(config)}")
    route, warning = describe_routes(config)
    click.echo(route)
    if warning:
        click.echo(f"warning: {warning}")
    if problems or (strict and warnings):
        sys.exit(EXIT_ATTENTION)
    click.echo(f"ok: {ctx.obj['config_path']} and all templates check out")


@main.command()
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Watch the calendars and send notices (loops at poll_interval).

    With --once: exit 1 when the cycle left something for you (README's exit-code table).
    Without: runs until SIGTERM or SIGINT, then exits 0 however the last step went.
    """
    config = load(ctx)
    try:
        reports = lifecycle.run(
            config, once=once, clock=utcnow, show=_show_cycle, config_path=ctx.obj["config_path"]
        )
    except FairWarningError as exc:
        fail(exc)
    if not once:
        return
    waiting = cycle_attention(reports, config.policy.mode)
    with existing_state(config, read_only=True) as db:
        waiting += state_attention(db, [a.name for a in config.accounts], utcnow())
    for line in waiting:
        click.echo(f"needs you: {line}")
    if waiting:
        sys.exit(EXIT_ATTENTION)


def _show_cycle(reports: list[lifecycle.AccountReport], once: bool) -> None:
    table = cycle_table(reports)
    if once and table.row_count:
        print_table(table)
    elif once:
        click.echo("Nothing new this cycle: no decisions, no notices.")
    for report in reports:
        for problem in report.sync.problems if report.sync else ():
            log.warning("account %s: skipped: %s", report.account, problem)
        if report.error and once:  # the service loop logs its own failures, once each
            log.warning("account %s: %s", report.account, report.error)
        for sent in report.sent:
            log.info("account %s: %s %s → %s", report.account, sent.kind, sent.ref, sent.outcome)


@main.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--lang", help="Template language (default: the client's, else yours).")
@click.option("--client", "client_email", help="Preview as this client from the directory.")
@click.option("--html", "html_file", type=click.Path(path_type=Path), help="Write the HTML here.")
@click.pass_context
def preview(
    ctx: click.Context,
    kind: str,
    lang: str | None,
    client_email: str | None,
    html_file: Path | None,
) -> None:
    """Show a notice exactly as a client would get it, with sample session details."""
    config = load(ctx)
    try:
        message, html = render_preview(config, kind, lang, client_email, utcnow())
    except FairWarningError as exc:
        fail(exc)
    click.echo(message)
    if html_file is not None:
        try:
            html_file.write_text(html or "(this notice has no HTML part)\n", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {html_file}: {exc.strerror or exc}")
        click.echo(f"HTML written to {html_file}")


@main.command()
@click.option("--client", "client_email", help="Only this client's cases.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def history(ctx: click.Context, client_email: str | None, as_json: bool) -> None:
    """Every case the worker judged, with its reasons and what was sent."""
    config = load(ctx)
    with existing_state(config, read_only=True) as db:
        cases = views.cases(db, client=client_email.lower() if client_email else None)
    if as_json:
        click.echo(json.dumps(cases, indent=2))
    else:
        print_table(cases_table(cases, "History"))


@main.command()
@click.pass_context
def review(ctx: click.Context) -> None:
    """Cases waiting for you: approve ID sends the notice, waive ID lets it go."""
    config = load(ctx)
    with existing_state(config, read_only=True) as db:
        waiting = views.needing_practitioner(db)
    if not waiting:
        click.echo("Nothing needs you.")
        return
    print_table(cases_table(waiting, "Waiting for you"))
    click.echo("fairwarning approve ID  — send it\nfairwarning waive ID    — let it go")
    sys.exit(EXIT_ATTENTION)


@main.command()
@click.argument("case_id", type=int)
@click.pass_context
def approve(ctx: click.Context, case_id: int) -> None:
    """Send the notice for a case in review (or resend one whose send ended unknown)."""
    _act(ctx, lambda desk: approve_case(desk, case_id), case_id)


@main.command()
@click.argument("case_id", type=int)
@click.option("--reason", default="", help="Why you let it go (kept in the history).")
@click.pass_context
def waive(ctx: click.Context, case_id: int, reason: str) -> None:
    """Let a case go: it sends nothing and no longer counts towards the next step."""
    _act(ctx, lambda desk: waive_case(desk, case_id, reason), case_id)


def _act(ctx: click.Context, action: Callable[[Desk], str], case_id: int) -> None:
    config = load(ctx)
    with existing_state(config, read_only=False) as db:
        row = db.execute("SELECT account FROM decisions WHERE id = ?", (case_id,)).fetchone()
        account = row["account"] if row else config.accounts[0].name
        try:
            with transaction(db):
                said = action(desk_for(config, db, account, utcnow()))
        except FairWarningError as exc:
            fail(exc)
    click.echo(said)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Health at a glance; exit 0 healthy, 1 something needs you, 2 broken or not running."""
    config = load(ctx)
    names = [a.name for a in config.accounts]
    recorded = read_fault(fault_path(config.state_dir))
    try:
        db = open_existing(config.state_dir, read_only=True)
    except NoState:
        db = None
    except FairWarningError as exc:  # the database cannot even be read: that is the answer
        _say_broken(exc, as_json)
    try:
        args = (names, utcnow(), config.poll_interval, heartbeat_path(config), recorded)
        report = health(db, *args)
    except sqlite3.Error as exc:
        _say_broken(classify(exc, database_path(config.state_dir), reading=True), as_json)
    finally:
        if db is not None:
            db.close()
    route, warning = describe_routes(config)
    report["alerts"] = {"route": route, "warning": warning}
    click.echo(json.dumps(report, indent=2) if as_json else describe(report))
    sys.exit(exit_code(report))


def _say_broken(error: FairWarningError, as_json: bool) -> NoReturn:
    fault = {"since": utc_text(utcnow()), "message": error.message}
    if as_json:
        click.echo(json.dumps({"health": "broken", "state": "faulty", "fault": fault}, indent=2))
    else:
        click.echo(f"BROKEN: {error.message}")
    sys.exit(EXIT_BROKEN)


@main.group("config")
def config_group() -> None:
    """Configuration helpers."""


@config_group.command("schema")
def schema() -> None:
    """Print the JSON schema of the configuration file (for editors)."""
    click.echo(json.dumps(json_schema(), indent=2))


@main.command("demo")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("demo"))
def demo_command(folder: Path) -> None:
    """Run the built-in demo in FOLDER (created with sample data on first use)."""
    config_path = folder / "config.toml"
    first = not config_path.exists()
    now = utcnow()
    if first:
        demo.write_config(folder)
        demo.write_calendar(folder / "calendar", now, acted=False)
    config, _ = load_config(config_path)
    try:
        if first:
            lifecycle.run(config, once=True, clock=lambda: now - timedelta(hours=3), show=None)
            demo.write_calendar(folder / "calendar", now, acted=True)
            click.echo("Sample calendar written; the clients have just cancelled. One cycle:\n")
        else:
            click.echo("Demo already set up: running one more cycle (nothing should be new).\n")
        lifecycle.run(config, once=True, clock=utcnow, show=_show_cycle)
    except FairWarningError as exc:
        fail(exc)
    written = sorted((folder / "outbox").glob("*.eml")) if (folder / "outbox").exists() else []
    notices = [p for p in written if not p.name.startswith("ALERT-")]
    click.echo(f"\nNotices written so far ({len(notices)}), open the .html in a browser:")
    for path in notices:
        click.echo(f"  {path}  ·  {path.with_suffix('.html')}")
    for path in written:
        if path.name.startswith("ALERT-"):
            click.echo(f"  alert to Dana herself: {path}")
    click.echo(f"\nTry: {sys.argv[0]} --config {config_path} review   (or history, status)")


main.add_command(alerts_group)
main.add_command(auth_group)
main.add_command(service_group)
