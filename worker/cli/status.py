"""`fairwarning status`: health at a glance, in the practitioner's time zone."""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import NoReturn

import click

from worker.cli.common import EXIT_BROKEN, echo_fitted, load, utcnow
from worker.cli.practices import show_folder
from worker.errors import FairWarningError, NoState
from worker.pipeline.alerts import describe_routes
from worker.service.folders import notices_folder
from worker.service.health import describe, exit_code, health, read_fault, worker_running
from worker.service.lifecycle import fault_path, heartbeat_path
from worker.service.times import local_time
from worker.store.connection import DATABASE_ERRORS
from worker.store.db import database_path, open_existing, utc_text
from worker.store.faults import classify


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (times in UTC).")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Health at a glance: exit 0 healthy, 1 something needs you, 2 broken or not running.

    Not running means the last cycle is older than five poll intervals (at least 5 min); a
    recent `run --once` with no service running is fine, and status says so.
    """
    if ctx.obj.get("practices") is not None and ctx.obj.get("practice") is None:
        show_folder(ctx.obj["practices"])
        return
    config = load(ctx)
    names = [a.name for a in config.accounts]
    recorded = read_fault(fault_path(config.state_dir))
    now = utcnow()
    try:
        db = open_existing(config.state_dir, read_only=True, state=config.state)
    except NoState:
        db = None
    except FairWarningError as exc:  # the database cannot even be read: that is the answer
        _say_broken(exc, as_json)
    try:
        args = (names, now, config.poll_interval, heartbeat_path(config), recorded)
        report = health(db, *args, running=worker_running(config.state_dir))
    except DATABASE_ERRORS as exc:
        _say_broken(classify(exc, database_path(config.state_dir), reading=True), as_json)
    finally:
        if db is not None:
            db.close()
    route, warning = describe_routes(config)
    report["alerts"] = {"route": route, "warning": warning}
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        zone = config.practitioner.time_zone
        files = [name for name in names if notices_folder(config, name) is not None]
        echo_fitted(
            describe(report, when=partial(local_time, zone=zone, now=now), now=now, to_files=files)
        )
    sys.exit(exit_code(report))


def _say_broken(error: FairWarningError, as_json: bool) -> NoReturn:
    fault = {"since": utc_text(utcnow()), "message": error.message}
    if as_json:
        click.echo(json.dumps({"health": "broken", "state": "faulty", "fault": fault}, indent=2))
    else:
        echo_fitted(f"BROKEN: {error.message}")
    sys.exit(EXIT_BROKEN)
