"""Today: health as `status` tells it, in the practitioner's zone."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from worker.pipeline.alerts import describe_routes
from worker.pipeline.delivery import departure
from worker.service.departures import departure_words
from worker.service.folders import notices_folder
from worker.service.health import describe, health, read_fault, worker_running
from worker.service.lifecycle import fault_path, heartbeat_path
from worker.store import views
from worker.web.console import Console, console_of
from worker.web.guard import logged_in


def _report(console: Console) -> dict[str, Any]:
    config = console.config
    names = [a.name for a in config.accounts]
    now = console.clock()
    with console.reading() as db:
        report = health(
            db,
            names,
            now,
            config.poll_interval,
            heartbeat_path(config),
            read_fault(fault_path(config.state_dir)),
            running=worker_running(config.state_dir),
        )
    files = [name for name in names if notices_folder(config, name) is not None]
    lines = describe(report, when=console.when, now=now, to_files=files)
    report["lines"] = lines.splitlines()
    report["leaving"] = _leaving(console) if report["state"] != "none" else []
    report["alert_route"], report["alert_warning"] = describe_routes(config)
    return report


def _leaving(console: Console) -> list[str]:
    """Each queued notice of a case and when it will really go, as `approve` says it."""
    config, now = console.config, console.clock()
    with console.connected() as db:
        leaves = [departure(db, case, config.policy, now) for case in views.queued_cases(db)]
    return [departure_words(config, one, now) for one in leaves if one is not None]


@logged_in
async def today(request: Request) -> Response:
    console = console_of(request)
    report = await run_in_threadpool(_report, console)
    return console.render(request, "today.html", report=report)


ROUTES = [Route("/", today)]
