"""The service's shared schedule on a real PostgreSQL: claimed, renewed while a poll is slow,
released with the next due time; `run --once` leaves alone what another worker holds."""

from __future__ import annotations

import fcntl
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.practice import SAM, Practice, config_for
from worker.config.state import StateSettings
from worker.errors import StateError
from worker.pipeline.pollers import poll_here
from worker.service.guard import fault_path
from worker.service.health import worker_running
from worker.service.leased import LeasedSchedule
from worker.service.lifecycle import Signals, run
from worker.store import leases
from worker.store.connection import Connection
from worker.store.db import open_database
from worker.store.lock import only_worker
from worker.store.postgres import connect

INTERVAL = timedelta(seconds=60)
LEASE = timedelta(seconds=2)  # renewed every 0.67 s: a stall of over a second still keeps it


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def db(tmp_path: Path, postgres_url: str) -> Iterator[Connection]:
    connection = open_database(tmp_path / "state", StateSettings(database=postgres_url))
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def schedule(db: Connection, postgres_url: str) -> Iterator[LeasedSchedule]:
    shared = LeasedSchedule(
        interval=INTERVAL,
        lease=LEASE,
        connect=lambda: connect(postgres_url),
        clock=_now,
        rng=random.Random(3),
    )
    shared.start(["anna", "ben"], _now())
    try:
        yield shared
    finally:
        shared.close()


def test_a_lease_outlives_a_poll_far_longer_than_itself(
    db: Connection, schedule: LeasedSchedule
) -> None:
    assert schedule.take(_now(), 1) == ["anna"]
    time.sleep(2.5 * LEASE.total_seconds())  # a slow poll
    assert leases.holds(db, schedule.holder, "anna", _now())
    assert leases.claim(db, "other:1:x", ["anna"], _now(), length=INTERVAL, most=1) == []


def test_a_step_done_releases_the_account_until_its_next_interval(
    db: Connection, schedule: LeasedSchedule
) -> None:
    now = _now()
    assert schedule.take(now, 5) == ["anna", "ben"]
    next_due = schedule.record("anna", True, now)
    assert INTERVAL * 0.9 <= next_due - now <= INTERVAL
    assert schedule.take(_now(), 5) == []
    assert schedule.held() == ["ben"]
    _, due = schedule.next_due()
    assert due <= _now() + LEASE, "ben's lease runs out first"
    schedule.again("ben", _now())
    assert leases.claim(db, "other:1:x", ["ben"], _now(), length=INTERVAL, most=1)


def test_failures_back_off_for_whichever_worker_takes_the_account_next(
    db: Connection, schedule: LeasedSchedule
) -> None:
    now = _now()
    schedule.take(now, 1)
    next_due = schedule.record("anna", False, now)
    assert next_due - now >= INTERVAL * 2 * 0.9
    [lease] = leases.claim(db, "other:1:x", ["anna"], next_due, length=INTERVAL, most=1)
    assert lease.failures == 1


def test_a_clean_stop_leaves_no_lease_held(db: Connection, schedule: LeasedSchedule) -> None:
    schedule.take(_now(), 5)
    schedule.close()
    row = db.execute("SELECT COUNT(*) FROM account_leases WHERE holder IS NOT NULL").fetchone()
    assert row[0] == 0


def test_run_once_leaves_an_account_another_worker_holds_alone(
    tmp_path: Path, postgres_url: str
) -> None:
    config = config_for(tmp_path, postgres_url)
    db = open_database(config.state_dir, config.state)
    try:
        leases.enrol(db, ["main"], _now())
        leases.claim(db, "other:1:x", ["main"], _now(), length=timedelta(minutes=5), most=1)
        assert run(config, once=True, clock=_now, show=None) == []
        leases.release(db, "other:1:x", "main", next_due=_now() + INTERVAL, failures=0)
        [report] = run(config, once=True, clock=_now, show=None)
        assert (report.account, report.error) == ("main", "")
        held = db.execute("SELECT holder FROM account_leases").fetchone()[0]
        assert held is None, "released again after the cycle"
    finally:
        db.close()


def test_workers_on_postgresql_share_a_state_directory_and_status_sees_them(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    with only_worker(state, shared=True), only_worker(state, shared=True):
        assert worker_running(state) is True
        with pytest.raises(StateError, match="already running"), only_worker(state):
            pass  # a worker on the SQLite file there is kept out
    assert worker_running(state) is False


def test_a_worker_whose_lease_was_taken_while_it_polled_files_and_sends_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    practice = Practice(tmp_path, database=postgres_url, policy={"hold": "0m"})
    try:
        practice.book("s1", SAM, timedelta(hours=5))
        practice.baseline()
        practice.calendar.decline("s1", SAM)
        worker, now = practice.worker, practice.clock()
        worker.holder = "slow:1:x"
        leases.enrol(practice.db, ["main"], now)
        leases.claim(practice.db, worker.holder, ["main"], now, length=INTERVAL, most=1)
        ticket = worker.begin(worker.mailrooms[0])
        practice.clock.advance(2 * INTERVAL)  # the poll overran its lease; another took over
        later = practice.clock()
        leases.claim(practice.db, "quick:2:y", ["main"], later, length=INTERVAL, most=1)
        report = worker.finish(ticket, poll_here("main", practice.calendar, ticket.cursor))
        assert "taken over by another worker" in report.error
        assert (report.sync, report.sent) == (None, [])
        assert practice.query("SELECT * FROM facts") == []
        assert practice.notices() == []
    finally:
        practice.db.close()


def test_a_worker_starting_while_status_looks_at_the_lock_still_starts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    with only_worker(state, shared=True):
        pass  # the lock file exists, as after any earlier run
    looking = os.open(state / "worker.lock", os.O_RDONLY)
    fcntl.flock(looking, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what `status` does, for an instant
    threading.Timer(0.15, os.close, (looking,)).start()

    with only_worker(state, shared=True):
        assert worker_running(state)


def test_a_shared_schedule_that_cannot_be_read_is_a_fault_status_shows_until_it_works(
    tmp_path: Path, postgres_url: str
) -> None:
    config = config_for(tmp_path, postgres_url)
    fault = fault_path(config.state_dir)
    assert run(config, once=True, clock=_now, show=None)  # the tables exist
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE account_leases RENAME TO account_leases_away")
        signals = Signals()
        serving = threading.Thread(
            target=run,
            args=(config,),
            kwargs={"once": False, "clock": _now, "show": None, "signals": signals},
        )
        serving.start()
        try:
            assert _eventually(fault.exists), "polling nothing must not look like quiet"
            assert "account_leases" in fault.read_text()
            admin.execute("ALTER TABLE account_leases_away RENAME TO account_leases")
            assert _eventually(lambda: not fault.exists()), "cleared once it works again"
        finally:
            signals.stop = True
            signals.wake.set()
            serving.join(timeout=30)
    assert not serving.is_alive()


def _eventually(done: Callable[[], bool], within: float = 20.0) -> bool:
    ends = time.monotonic() + within
    while time.monotonic() < ends:
        if done():
            return True
        time.sleep(0.1)
    return False
