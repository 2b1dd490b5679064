"""The service loop: each account on its own schedule until asked to stop.

- Each account is polled every `poll_interval` (up to 10 % sooner so many accounts do not
  stampede); one whose cycle fails backs off exponentially, never delaying the others.
- The first SIGTERM or SIGINT lets the current account's step finish, then exits 0; a second
  stops at once. Stopping mid-send is safe: `sending` is committed first and becomes `unknown`.
- SIGHUP reloads the configuration and templates; an invalid new configuration is reported
  and the running one kept.
- A heartbeat file in the state directory is touched after every step, for monitors.
- On SQLite one worker owns the state directory (a flock). On PostgreSQL several workers may
  share the database, and a state directory: the accounts' schedule is then the shared lease
  table (worker/service/leased.py) instead of this process's `Schedule`.
- A state database fault (read-only, locked, full, damaged) never crashes the loop: it is
  logged once per condition, written to `<state_dir>/database-fault` for `status`, and the
  database is reopened on every retry (with the account's back-off) until it works again.
  A database that cannot be opened at start is retried the same way, never a crash loop.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType

from worker.config import Config, load_config
from worker.errors import DatabaseFault, FairWarningError, Recoverable
from worker.pipeline.cycle import AccountReport, Ticket, Worker
from worker.pipeline.pollers import Polled, Pollers
from worker.service.guard import Guard, close_database, fault_path, heartbeat_path
from worker.service.leased import LeasedSchedule, free_rooms, leased_schedule, noticing
from worker.service.pacing import LONGEST_BACKOFF, Schedule
from worker.store.connection import DATABASE_ERRORS
from worker.store.db import check_writable, postgres_url
from worker.store.lock import only_worker
from worker.wiring import build_worker

__all__ = [
    "LONGEST_BACKOFF",
    "AccountReport",
    "Schedule",
    "Signals",
    "fault_path",
    "heartbeat_path",
    "run",
]

log = logging.getLogger("fairwarning")
# The state database is unusable: a fault already put into words, or a driver's own error.
STATE_FAILURES: tuple[type[Exception], ...] = (DatabaseFault, *DATABASE_ERRORS)
Show = Callable[[list[AccountReport], bool], None]
Load = Callable[[Path], tuple[Config, list[str]]]


class Signals:
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


Plan = Schedule | LeasedSchedule


def run(
    config: Config,
    *,
    once: bool,
    clock: Callable[[], datetime],
    show: Show | None,
    config_path: Path | None = None,
    signals: Signals | None = None,
    load: Load = load_config,
) -> list[AccountReport]:
    """Run until stopped (or one cycle over every account with `once`).

    Returns the reports of the last cycle (for `once`) or of the last step. With `once`, a
    state database fault is raised as one `DatabaseFault` (and recorded for `status`).
    `signals` given means someone else installed the handlers and sets its flags (a practice
    served beside others); `load` rereads `config_path` on SIGHUP.
    """
    with only_worker(config.state_dir, shared=postgres_url(config.state) is not None):
        if once:
            return _once(config, clock, show)
        return _serve(config, clock, show, config_path, signals, load)


def _once(config: Config, clock: Callable[[], datetime], show: Show | None) -> list[AccountReport]:
    guard = Guard(config, say=False)
    try:
        worker = build_worker(config, clock=clock)
    except DatabaseFault as fault:
        guard.failed(None, fault, clock())
        raise
    shared = leased_schedule(config, clock) if postgres_url(config.state) else None
    reports: list[AccountReport] = []
    try:
        try:
            reports = worker.cycle(free_rooms(worker, shared, clock()))
            check_writable(worker.db)
        except DATABASE_ERRORS as exc:
            raise guard.failed(worker, exc, clock()) from exc
        guard.recovered()
        guard.beat(clock())
    finally:
        worker.close_pool()
        if shared is not None:
            for report in reports:
                shared.record(report.account, not report.error, clock())
            shared.close()
        close_database(worker.db)
    if show is not None:
        show(reports, True)
    return reports


def _serve(
    config: Config,
    clock: Callable[[], datetime],
    show: Show | None,
    config_path: Path | None,
    signals: Signals | None = None,
    load: Load = load_config,
) -> list[AccountReport]:
    if signals is None:
        signals = Signals()
        signals.install()
    guard = Guard(config, clock=clock)
    worker = _start(config, clock, signals, guard)
    reports: list[AccountReport] = []
    if worker is None:
        log.info("stopped")
        return reports
    schedule = _plan(config, worker, clock)
    schedule.start([room.name for room in worker.mailrooms], clock())
    log.info("watching %d account(s) every %s", len(worker.mailrooms), config.poll_interval)
    rounds = _Rounds(worker, schedule, clock, guard, signals)
    schedule.noticed = noticing(lambda: rounds.worker, guard, clock)
    try:
        while not signals.stop:
            if signals.reload:
                signals.reload = False
                rounds.drain(show)  # polls in flight are filed by the worker that sent them
                worker, config = _reload(worker, config, config_path, clock, load)
                worker.holder = schedule.holder
                rounds.worker = worker
                schedule.interval = config.poll_interval
                schedule.start([room.name for room in worker.mailrooms], clock())
            if worker.pollers > 1:
                reports = rounds.turn()
            else:
                reports = _sequential_turn(worker, schedule, clock, guard, signals)
            if reports:
                guard.beat(clock())
                if show is not None:
                    show(reports, False)
    finally:
        worker.close_pool()  # polls still running wrote nothing: the next start polls again
        schedule.close()  # with leases, those accounts are due at once for the other workers
        close_database(worker.db)
    log.info("stopped")
    return reports


def _plan(config: Config, worker: Worker, clock: Callable[[], datetime]) -> Plan:
    """The SQLite worker's own schedule, or on PostgreSQL the leases it shares with others."""
    schedule: Plan = Schedule(config.poll_interval)
    if postgres_url(config.state) is not None:
        schedule = leased_schedule(config, clock)
        log.info("sharing the accounts with other workers as %s", schedule.holder)
    worker.holder = schedule.holder
    return schedule


def _sequential_turn(
    worker: Worker,
    schedule: Plan,
    clock: Callable[[], datetime],
    guard: Guard,
    signals: Signals,
) -> list[AccountReport]:
    """With one poller: the next due account's whole step, or a wait until it is due."""
    taken = schedule.take(clock(), 1)
    if not taken:
        _, due = schedule.next_due()
        wait = (due - clock()).total_seconds()
        if wait > 0:
            signals.wake.wait(wait)
            signals.wake.clear()
        return []
    name = taken[0]
    room = next(r for r in worker.mailrooms if r.name == name)

    def step() -> AccountReport:
        guard.ready(worker, clock())
        return worker.cycle_account(room)

    report = _attempt(worker, name, schedule, clock, guard, step)
    assert report is not None
    return [report]


class _Rounds:
    """The service loop with a pool of pollers: due accounts begin and their polls go out;
    answers are filed as they come back, each account's step in its usual order."""

    def __init__(
        self,
        worker: Worker,
        schedule: Plan,
        clock: Callable[[], datetime],
        guard: Guard,
        signals: Signals,
    ) -> None:
        self.worker = worker
        self.schedule = schedule
        self.clock = clock
        self.guard = guard
        self.signals = signals
        self.tickets: dict[str, Ticket] = {}

    def pool(self) -> Pollers:
        """The worker's pool, which wakes the loop as soon as a poll is back."""
        return self.worker.pool(ready=self.signals.wake.set)

    def turn(self) -> list[AccountReport]:
        """Start what is due, file what came back; wait for either when there is neither."""
        pool = self.pool()
        reports = [r for r in map(self._begin, self._due(pool)) if r is not None]
        reports += [self._finish(polled) for polled in pool.collect(timeout=0)]
        if not reports:
            self._wait(pool)
        return reports

    def drain(self, show: Show | None) -> None:
        """File every poll still in flight (each within its budget)."""
        while self.tickets:
            reports = [self._finish(polled) for polled in self.pool().collect()]
            if not reports and not self.pool().in_flight:
                break
            if show is not None and reports:
                show(reports, False)
        for name in self.tickets:  # none should be left; if any are, they are simply due
            self.schedule.again(name, self.clock())
        self.tickets.clear()

    def _due(self, pool: Pollers) -> list[str]:
        room_for = 2 * pool.size - len(self.tickets)  # a few queued ahead keep pollers busy
        return self.schedule.take(self.clock(), room_for) if room_for > 0 else []

    def _begin(self, name: str) -> AccountReport | None:
        room = next(r for r in self.worker.mailrooms if r.name == name)

        def begin() -> AccountReport | None:
            self.guard.ready(self.worker, self.clock())
            ticket = self.worker.begin(room)
            pool = self.pool()
            if ticket.paused:
                return self.worker.finish(ticket, None)
            if pool.busy(name):
                return self.worker.finish(ticket, Polled(name, error=_still_running(name)))
            budget = room.poll_budget.total_seconds()
            pool.submit(name, room.calendar, ticket.cursor, budget=budget)
            self.tickets[name] = ticket
            return None

        return _attempt(self.worker, name, self.schedule, self.clock, self.guard, begin)

    def _finish(self, polled: Polled) -> AccountReport:
        ticket = self.tickets.pop(polled.account)

        def finish() -> AccountReport:
            self.guard.ready(self.worker, self.clock())
            return self.worker.finish(ticket, polled)

        report = _attempt(
            self.worker, polled.account, self.schedule, self.clock, self.guard, finish
        )
        assert report is not None
        return report

    def _wait(self, pool: Pollers) -> None:
        _, due = self.schedule.next_due()  # IN_FLIGHT when every account is being polled
        waits = [(due - self.clock()).total_seconds(), self.schedule.interval.total_seconds()]
        deadline = pool.next_deadline()
        if deadline is not None:
            waits.append(deadline - time.monotonic())
        wait = min(waits)
        if wait > 0:
            self.signals.wake.wait(wait)
            self.signals.wake.clear()


def _still_running(account: str) -> Recoverable:
    return Recoverable(
        f"the last poll of account {account}'s calendar overran and is still running",
        account=account,
    )


def _start(
    config: Config, clock: Callable[[], datetime], signals: Signals, guard: Guard
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


def _attempt(
    worker: Worker,
    name: str,
    schedule: Plan,
    clock: Callable[[], datetime],
    guard: Guard,
    work: Callable[[], AccountReport | None],
) -> AccountReport | None:
    """Run one part of an account's step; a finished step (a report) schedules the next.

    None means the account's poll went out: it is scheduled once its answer is filed.
    """
    try:
        report = work()
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
        if report is None:
            return None
    next_at = schedule.record(name, not report.error, clock())
    if report.error:
        log.warning("account %s: %s (next try %s)", name, report.error, f"{next_at:%H:%M:%S}")
    return report


def _reload(
    worker: Worker,
    config: Config,
    path: Path | None,
    clock: Callable[[], datetime],
    load: Load = load_config,
) -> tuple[Worker, Config]:
    if path is None:
        return worker, config
    try:
        new_config, warnings = load(path)
        if new_config.state_dir != config.state_dir:
            raise FairWarningError("state_dir changed: restart the service to move it")
        new_worker = build_worker(new_config, clock=clock)
    except FairWarningError as exc:
        log.error("reload refused, keeping the running configuration: %s", exc.message)
        return worker, config
    for warning in warnings:
        log.warning("%s", warning)
    close_database(worker.db)
    log.info("configuration and templates reloaded from %s", path)
    return new_worker, new_config
