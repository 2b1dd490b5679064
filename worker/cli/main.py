"""The `fairwarning` command: thin wiring from options to the worker.

Exit codes (README, "Commands and exit codes"): 0 all well; 1 something needs the practitioner
(a case put in review, an unknown or rejected send, a skipped calendar file, a paused account, a
problem found by `check`); 2 broken (bad configuration, a state database fault, no state yet,
wrong usage). `run` without `--once` ends 0 when stopped by SIGTERM or SIGINT.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
from datetime import timedelta
from pathlib import Path

import click
from click.core import ParameterSource

from worker.cli import checks, clients, demo, practices, review, starter
from worker.cli.alerts import alerts_group
from worker.cli.auth import auth_group
from worker.cli.common import (
    EXIT_ATTENTION,
    existing_state,
    fail,
    load,
    load_warned,
    reader,
    require_practice,
    utcnow,
)
from worker.cli.packages import clients_group
from worker.cli.report import report as report_command
from worker.cli.reports import cycle_table, notice_words, print_records
from worker.cli.service import service_group
from worker.cli.state import state_group
from worker.cli.status import status
from worker.cli.testsend import test_send
from worker.cli.web import demo_password
from worker.cli.web import web as web_group
from worker.config import Config, default_config_path, json_schema, load_config
from worker.config.folder import loader
from worker.errors import FairWarningError
from worker.notices.courtesy import COURTESY_KINDS
from worker.notices.preview import render_preview
from worker.notices.templates import KINDS
from worker.pipeline.alerts import describe_routes
from worker.service import lifecycle
from worker.service.health import cycle_attention, state_attention
from worker.service.logs import TEXT_LOG, JsonLines

log = logging.getLogger("fairwarning")


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file (default: $FAIRWARNING_CONFIG, else ~/.config/fairwarning/).",
)
@click.option(
    "--practices",
    "practices_dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="FAIRWARNING_PRACTICES",
    help="A folder of practices, one NAME.toml each (default: $FAIRWARNING_PRACTICES).",
)
@click.option(
    "--practice",
    metavar="NAME",
    help="The practice in --practices this command works on (run without it: every one).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every step to stderr.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text suits journald; json suits log shippers.",
)
@click.pass_context
def main(
    ctx: click.Context,
    config_path: Path | None,
    practices_dir: Path | None,
    practice: str | None,
    verbose: bool,
    log_format: str,
) -> None:
    """Fair Warning: kind reminders and forfeiture notices for late cancellations."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_LOG))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    ctx.obj = {"config_path": config_path or default_config_path()}
    # An explicit --config wins over a folder that only comes from the environment.
    from_env = ctx.get_parameter_source("practices_dir") is ParameterSource.ENVIRONMENT
    if config_path is not None and practices_dir is not None and not from_env:
        raise click.UsageError("give either --config FILE or --practices DIR, not both")
    chosen = practices.choose(
        practices_dir, practice, config_path is not None, ctx.invoked_subcommand
    )
    ctx.obj.update(chosen)


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write a commented configuration and copy the templates; never overwrites."""
    require_practice(ctx)
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
    With --practices DIR and no --practice: every practice of the folder (README,
    "Several practices in one deployment").
    """
    if ctx.obj.get("practices") is not None and ctx.obj.get("practice") is None:
        practices.run_every_practice(ctx.obj["practices"], once, _cycle_shower)
        return
    config = load(ctx)
    show = _cycle_shower(config)
    try:
        reports = lifecycle.run(
            config,
            once=once,
            clock=utcnow,
            show=show,
            config_path=ctx.obj["config_path"],
            load=loader(ctx.obj.get("practice")),
        )
    except FairWarningError as exc:
        fail(exc)
    if not once:
        return
    waiting = cycle_attention(reports, config.policy.mode)
    with existing_state(config, read_only=True) as db:
        waiting += state_attention(db, [a.name for a in config.accounts], utcnow())
    for line in waiting:  # one line each, whatever the width: scripts look for them
        click.echo(f"needs you: {line}")
    if waiting:
        sys.exit(EXIT_ATTENTION)


def _cycle_shower(config: Config) -> lifecycle.Show:
    """What a cycle did: a table for `run --once`, and a log line per notice either way."""

    def show(reports: list[lifecycle.AccountReport], once: bool) -> None:
        records = cycle_table(reports, reader(config))
        if once and records.rows:
            print_records(records)
        elif once:
            click.echo("Nothing new this cycle: no decisions, no notices.")
        for report in reports:
            for problem in report.sync.problems if report.sync else ():
                log.warning("account %s: skipped: %s", report.account, problem)
            if report.error and once:  # the service loop logs its own failures, once each
                log.warning("account %s: %s", report.account, report.error)
            for sent in report.sent:
                log.info("account %s: %s %s", report.account, sent.kind, notice_words(sent))

    return show


@main.command()
@click.argument("kind", type=click.Choice((*KINDS, *COURTESY_KINDS)))
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
            before = now - demo.EARLIER - timedelta(hours=3)
            lifecycle.run(config, once=True, clock=lambda: before, show=None)
            demo.write_calendar(folder / "calendar", now, acted=True, through_day=1)
            day_one = now - demo.EARLIER
            lifecycle.run(config, once=True, clock=lambda: day_one, show=None)
            # Watched all along: a quiet look this morning, so nothing reads as a gap.
            lifecycle.run(config, once=True, clock=lambda: now - timedelta(hours=3), show=None)
            demo.write_calendar(folder / "calendar", now, acted=True)
            click.echo(
                "Sample calendar written; two days ago Ben and Maya cancelled late and got their "
                "reminder. Today's cancellations, in one cycle:\n"
            )
        else:
            click.echo("Demo already set up: running one more cycle (nothing should be new).\n")
        lifecycle.run(config, once=True, clock=utcnow, show=_cycle_shower(config))
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
    command = f"{this_command()} --config {shlex.quote(str(config_path))}"
    click.echo(f"\nThen look around (from this folder):\n  {command} review")
    click.echo(f"  {command} history\n  {command} status")
    address = f"http://{config.web.host}:{config.web.port}"
    click.echo(
        f"\nOr in a browser: {command} web\n  then open {address} and log in with the demo "
        f"password {demo_password(config.state_dir)}"
    )


def this_command(argv0: str | None = None) -> str:
    """How to run this `fairwarning` again from here, to paste: its bare name when PATH finds
    this very script, else its path (relative when below the current folder)."""
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name != "fairwarning":  # python -m, a test runner: the script beside Python
        script = Path(sys.executable).with_name("fairwarning")
    on_path = shutil.which("fairwarning")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "fairwarning"
    if script.is_absolute() and script.is_relative_to(Path.cwd()):
        script = script.relative_to(Path.cwd())
    shown = str(script)
    if os.sep not in shown:  # a bare name the shell would look up on PATH
        shown = f".{os.sep}{shown}"
    return shlex.quote(shown)


COMMANDS = (review.history, review.review, review.approve, review.waive, review.went_out)
for command in (*COMMANDS, status, test_send):
    main.add_command(command)
for command in (clients.welcome, clients.close_client_command, clients.reopen_client_command):
    main.add_command(command)
main.add_command(report_command)
main.add_command(clients_group)
main.add_command(alerts_group)
main.add_command(auth_group)
main.add_command(service_group)
main.add_command(web_group)
main.add_command(state_group)
