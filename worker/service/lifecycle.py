"""The service loop: each account on its own schedule until asked to stop.

- Each account is polled every `poll_interval` (with a little jitter so many accounts do
  not stampede); one whose cycle fails backs off exponentially, never delaying the others.
- The first SIGTERM or SIGINT lets the current account's step finish, then exits 0; a second
  stops at once. Stopping mid-send is safe: `sending` is committed first and becomes `unknown`.
- SIGHUP reloads the configuration and templates; an invalid new configuration is reported
  and the running one kept.
- A heartbeat file in the state directory is touched after every step, for monitors.
- A state database fault (read-only, locked, full, damaged) never crashes the loop: it is
  logged once per condition, written to `<state_dir>/database-fault` for `status`, and the
  database is reopened on every retry (with the account's back-off) until it works again.
  A database that cannot be opened at start is retried the same way, never a crash loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from worker.config import Config, load_config
from worker.errors import DatabaseFault, FairWarningError
from worker.notices.templates import TemplateLibrary
from worker.pipeline.alerts import alert_without_state
from worker.pipeline.cycle import AccountReport, Worker
from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.db import check_writable, database_path, open_database
from worker.store.faults import classify
from worker.store.lock import only_worker
from worker.wiring import build_worker, fault_alert_routes

__all__ = ["AccountReport", "run"]

log = logging.getLogger("fairwarning")
# The state database is unusable: a fault already put into words, or a driver's own error.
STATE_FAILURES: tuple[type[Exception], ...] = (DatabaseFault, *DATABASE_ERRORS)
Show = Callable[[list[AccountReport], bool], None]

JITTER = 0.1
LONGEST_BACKOFF = timedelta(hours=1)
HEARTBEAT = "heartbeat"
FAULT = "database-fault"


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

    Returns the reports of the last cycle (for `once`) or of the last step. With `once`, a
    state database fault is raised as one `DatabaseFault` (and recorded for `status`).
    """
    with only_worker(config.state_dir):
        if once:
            return _once(config, clock, show)
        return _serve(config, clock, show, config_path)


def _once(config: Config, clock: Callable[[], datetime], show: Show | None) -> list[AccountReport]:
    guard = _Guard(config, say=False)
    try:
        worker = build_worker(config, clock=clock)
    except DatabaseFault as fault:
        guard.failed(None, fault, clock())
        raise
    try:
        try:
            reports = worker.cycle()
            check_writable(worker.db)
        except DATABASE_ERRORS as exc:
            raise guard.failed(worker, exc, clock()) from exc
        guard.recovered()
        guard.beat(clock())
    finally:
        _close(worker.db)
    if show is not None:
        show(reports, True)
    return reports


def _serve(
    config: Config,
    clock: Callable[[], datetime],
    show: Show | None,
    config_path: Path | None,
) -> list[AccountReport]:
    signals = _Signals()
    signals.install()
    guard = _Guard(config, clock=clock)
    worker = _start(config, clock, signals, guard)
    schedule = Schedule(config.poll_interval)
    reports: list[AccountReport] = []
    if worker is None:
        log.info("stopped")
        return reports
    schedule.start([room.name for room in worker.mailrooms], clock())
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
            reports = [_step(worker, name, schedule, clock, guard)]
            guard.beat(clock())
            if show is not None:
                show(reports, False)
    finally:
        _close(worker.db)
    log.info("stopped")
    return reports


def _start(
    config: Config, clock: Callable[[], datetime], signals: _Signals, guard: _Guard
) -> Worker | None:
    """The worker, once its database opens; None if asked to stop while waiting for that."""
    failures = 0
    while not signals.stop:
        try:
            worker = build_worker(config, clock=clock)
        except DatabaseFault as fault:
            guard.failed(None, fault, clock())
            guard.beat(clock())
            failures += 1
            wait = min(config.poll_interval * 2**failures, LONGEST_BACKOFF)
            signals.wake.wait(wait.total_seconds())
            signals.wake.clear()
            continue
        guard.recovered()
        return worker
    return None


def _step(
    worker: Worker,
    name: str,
    schedule: Schedule,
    clock: Callable[[], datetime],
    guard: _Guard,
) -> AccountReport:
    room = next(r for r in worker.mailrooms if r.name == name)
    try:
        guard.ready(worker, clock())
        report = worker.cycle_account(room)
    except STATE_FAILURES as exc:
        fault = guard.failed(worker, exc, clock())
        next_at = schedule.record(name, False, clock())
        log.debug("account %s: state database unusable; next try %s", name, next_at)
        return AccountReport(name, error=fault.message)
    except Exception as exc:  # one account's failure must never stop the service
        log.exception("account %s: cycle failed; trying again later", name)
        report = AccountReport(name, error=f"unexpected {type(exc).__name__}: {exc}")
    else:
        guard.recovered()
    next_at = schedule.record(name, not report.error, clock())
    if report.error:
        log.warning("account %s: %s (next try %s)", name, report.error, f"{next_at:%H:%M:%S}")
    return report


class _Guard:
    """The state database as the loop sees it: each fault condition is logged once.

    After a fault the database is reopened before every retry: a file that was read-only
    when it was opened stays read-only in that connection even once it has been fixed.
    """

    def __init__(
        self,
        config: Config,
        *,
        say: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.say = say  # `run --once` says it on stderr, as its last words, instead
        self.config = config
        self.clock = clock  # with a clock, a new fault is also sent as an alert
        self.state_dir = config.state_dir
        self.interval = config.poll_interval
        self.fault: DatabaseFault | None = None
        self.checked: datetime | None = None
        self.unbeaten = ""

    def ready(self, worker: Worker, now: datetime) -> None:
        """Reopen after a fault; otherwise prove, once per interval, that a commit still works."""
        if self.fault is not None:
            _close(worker.db)
            worker.db = open_database(self.state_dir, self.config.state)
        elif self.checked is None or now - self.checked >= self.interval:
            check_writable(worker.db)
        self.checked = now

    def failed(self, worker: Worker | None, exc: Exception, now: datetime) -> DatabaseFault:
        """Name the fault (logging it if it is new) and record it for `status`."""
        fault = exc if isinstance(exc, DatabaseFault) else self._diagnose(worker, exc)
        if self.say and (self.fault is None or fault.message != self.fault.message):
            log.error("%s", fault.message)
        if self.fault is None or fault.message != self.fault.message:
            with contextlib.suppress(OSError):
                _write_plain(fault_path(self.state_dir), f"{now.isoformat()}\n{fault.message}\n")
            self._alert(worker, fault, now)
        self.fault = fault
        return fault

    def _alert(self, worker: Worker | None, fault: DatabaseFault, now: datetime) -> None:
        """The practitioner hears of it through the relay or any mailbox: none needs the state."""
        if self.clock is None:
            return
        try:
            routes = fault_alert_routes(self.config, self.clock, worker)
            took = alert_without_state(
                self.config,
                routes,
                TemplateLibrary(user_dir=self.config.templates_dir),
                fault.message,
                now,
            )
        except FairWarningError as exc:
            took, why = "", exc.message
        else:
            why = "no route took it"
        if took:
            log.info("told the practitioner about it through %s", took)
        else:
            log.warning("could not alert the practitioner about it (%s)", why)

    def _diagnose(self, worker: Worker | None, exc: Exception) -> DatabaseFault:
        """Reopening names a fault best: a file that turned read-only reopens read-only."""
        first = classify(exc, database_path(self.state_dir))
        if worker is None or first.kind == "locked":  # reopening would only wait again
            return first
        _close(worker.db)
        try:
            worker.db = open_database(self.state_dir, self.config.state)
        except DatabaseFault as fault:
            return fault
        return first

    def recovered(self) -> None:
        if self.fault is not None:
            log.info("the state database %s works again", database_path(self.state_dir))
            self.fault = None
        with contextlib.suppress(OSError):
            fault_path(self.state_dir).unlink(missing_ok=True)

    def beat(self, now: datetime) -> None:
        """Touch the heartbeat; a failure to is logged once, never fatal."""
        path = self.state_dir / HEARTBEAT
        try:
            _write_plain(path, f"{now.isoformat()}\n")
        except OSError as exc:
            said = f"cannot write the heartbeat {path}: {exc.strerror or exc}"
            if said != self.unbeaten:
                log.error("%s; `fairwarning status` will say the worker is not running", said)
            self.unbeaten = said
        else:
            self.unbeaten = ""


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
    _close(worker.db)
    log.info("configuration and templates reloaded from %s", path)
    return new_worker, new_config


def _close(db: Connection) -> None:
    with contextlib.suppress(*DATABASE_ERRORS):
        db.close()


def _write_plain(path: Path, text: str) -> None:
    """Atomically replace `path`, mode 0600, unencrypted: monitors read it without the key."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def heartbeat_path(config: Config) -> Path:
    return config.state_dir / HEARTBEAT


def fault_path(state_dir: Path) -> Path:
    """Where the worker records a state database fault for `status` (gone once it works)."""
    return state_dir / FAULT
