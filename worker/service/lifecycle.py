"""The service loop: each account on its own schedule until asked to stop.

- Each account is polled every `poll_interval` (with a little jitter so many accounts do
  not stampede); one whose cycle fails backs off exponentially, never delaying the others.
- The first SIGTERM or SIGINT lets the current account's step finish, then exits 0; a second
  stops at once. Stopping mid-send is safe: `sending` is committed first and becomes `unknown`.
- SIGHUP reloads the configuration and templates; an invalid new configuration is reported
  and the running one kept.
- A heartbeat file in the state directory is touched after every step, for monitors.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from worker.config import Config, load_config
from worker.errors import FairWarningError
from worker.pipeline.cycle import AccountReport, Worker
from worker.private_files import write_private
from worker.wiring import build_worker, only_worker

__all__ = ["AccountReport", "run"]

log = logging.getLogger("fairwarning")
Show = Callable[[list[AccountReport], bool], None]

JITTER = 0.1
LONGEST_BACKOFF = timedelta(hours=1)
HEARTBEAT = "heartbeat"


class _Signals:
    """What the process has been asked to do, set from signal handlers."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.stop = False
        self.reload = False

    def on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop:
            raise SystemExit(128 + signum)
        self.stop = True
        self.wake.set()

    def on_reload(self, signum: int, frame: FrameType | None) -> None:
        self.reload = True
        self.wake.set()

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.on_stop)
            signal.signal(signal.SIGINT, self.on_stop)
            signal.signal(signal.SIGHUP, self.on_reload)


@dataclass
class Schedule:
    """When each account is next due, and how often in a row it has failed."""

    interval: timedelta
    rng: random.Random = field(default_factory=random.Random)
    due: dict[str, datetime] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)

    def start(self, accounts: list[str], now: datetime) -> None:
        self.due = {name: self.due.get(name, now) for name in accounts}

    def next_due(self) -> tuple[str, datetime]:
        return min(self.due.items(), key=lambda item: item[1])

    def record(self, account: str, ok: bool, now: datetime) -> datetime:
        """Schedule the account's next poll after a success or a failure."""
        failures = 0 if ok else self.failures.get(account, 0) + 1
        self.failures[account] = failures
        wait = self.interval if ok else min(self.interval * 2**failures, LONGEST_BACKOFF)
        wait *= 1 + self.rng.uniform(-JITTER, JITTER)
        self.due[account] = now + wait
        return self.due[account]


def run(
    config: Config,
    *,
    once: bool,
    clock: Callable[[], datetime],
    show: Show | None,
    config_path: Path | None = None,
) -> list[AccountReport]:
    """Run until stopped (or one cycle over every account with `once`).

    Returns the reports of the last cycle (for `once`) or of the last step.
    """
    with only_worker(config.state_dir):
        worker = build_worker(config, clock=clock)
        if once:
            try:
                reports = worker.cycle()
                _beat(config, clock())
            finally:
                worker.db.close()
            if show is not None:
                show(reports, True)
            return reports
        return _serve(worker, config, clock, show, config_path)


def _serve(
    worker: Worker,
    config: Config,
    clock: Callable[[], datetime],
    show: Show | None,
    config_path: Path | None,
) -> list[AccountReport]:
    signals = _Signals()
    signals.install()
    schedule = Schedule(config.poll_interval)
    schedule.start([room.name for room in worker.mailrooms], clock())
    reports: list[AccountReport] = []
    log.info("watching %d account(s) every %s", len(worker.mailrooms), config.poll_interval)
    try:
        while not signals.stop:
            if signals.reload:
                signals.reload = False
                worker, config = _reload(worker, config, config_path, clock)
                schedule.interval = config.poll_interval
                schedule.start([room.name for room in worker.mailrooms], clock())
            name, due = schedule.next_due()
            wait = (due - clock()).total_seconds()
            if wait > 0:
                signals.wake.wait(wait)
                signals.wake.clear()
                continue
            reports = [_step(worker, name, schedule, clock)]
            _beat(config, clock())
            if show is not None:
                show(reports, False)
    finally:
        worker.db.close()
    log.info("stopped")
    return reports


def _step(
    worker: Worker, name: str, schedule: Schedule, clock: Callable[[], datetime]
) -> AccountReport:
    room = next(r for r in worker.mailrooms if r.name == name)
    try:
        report = worker.cycle_account(room)
    except Exception as exc:  # one account's failure must never stop the service
        log.exception("account %s: cycle failed; trying again later", name)
        report = AccountReport(name, error=f"unexpected {type(exc).__name__}: {exc}")
    next_at = schedule.record(name, not report.error, clock())
    if report.error:
        log.warning("account %s: %s (next try %s)", name, report.error, f"{next_at:%H:%M:%S}")
    return report


def _reload(
    worker: Worker, config: Config, path: Path | None, clock: Callable[[], datetime]
) -> tuple[Worker, Config]:
    if path is None:
        return worker, config
    try:
        new_config, warnings = load_config(path)
        if new_config.state_dir != config.state_dir:
            raise FairWarningError("state_dir changed: restart the service to move it")
        new_worker = build_worker(new_config, clock=clock)
    except FairWarningError as exc:
        log.error("reload refused, keeping the running configuration: %s", exc.message)
        return worker, config
    for warning in warnings:
        log.warning("%s", warning)
    worker.db.close()
    log.info("configuration and templates reloaded from %s", path)
    return new_worker, new_config


def _beat(config: Config, now: datetime) -> None:
    write_private(config.state_dir / HEARTBEAT, f"{now.isoformat()}\n".encode())


def heartbeat_path(config: Config) -> Path:
    return config.state_dir / HEARTBEAT
