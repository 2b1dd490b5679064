"""The crash test for several workers: three `fairwarning run` services on one PostgreSQL
database share 300 accounts through leases while one of them is SIGKILLed at random moments.

Each account is a practitioner's calendar (a folder of .ics files) with one client session a
few hours away. Once every account has had its silent first look, clients decline late, a
few accounts each round, while a random worker is killed (power cut, OOM kill) and started
again, round after round; then the clients stop, the workers are let finish and stopped
with SIGTERM. Each incarnation of a worker writes its notices into a folder of its own, so a
notice sent twice is two files whoever sent it. Then:

- no notice was written twice (counted by its reference header across every folder);
- every late decline has one decision, and its notice is `sent` (with its file) or
  `unknown` (a kill between `sending` and the write), none left `queued` or `sending`;
- after every kill, every account was polled again within two poll intervals: the dead
  worker's accounts were taken over once their leases ran out;
- after the clean stop no lease is held.

The seed is printed in every failure; FAIRWARNING_CRASH_SEED=<seed> replays one.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import psycopg
import pytest

from tests.cli.practice import environment
from worker.cli.demo import DemoSession, session_ics
from worker.config.state import StateSettings
from worker.model import REF_HEADER
from worker.store.db import open_database

pytestmark = pytest.mark.slow

FAIRWARNING = Path(sys.executable).with_name("fairwarning")
ACCOUNTS = 300
WORKERS = 3
ROUNDS = 50
# 300 accounts every 10 s is about what three workers manage on two busy cores (a step costs
# ~20 ms of CPU on PostgreSQL); a shorter interval would measure the machine, not the leases.
INTERVAL = timedelta(seconds=10)
LEASE = "3s"
POLLERS = 4
PAUSES = (0.2, 1.2)  # seconds between one kill and the next, drawn at random
TAKEN = "was taken over by another worker while this one was polling it"
SEED = int(os.environ.get("FAIRWARNING_CRASH_SEED") or random.SystemRandom().randrange(10**6))

CONFIG_HEAD = """\
state_dir = "state"
poll_interval = "{interval}s"

[state]
database = "{url}"

[workers]
pollers = {pollers}
lease = "{lease}"

[practitioner]
name = "Dana Rivera"
email = "dana@riveracoaching.example"
time_zone = "Europe/London"

[policy]
mode = "auto"
late_window = "24h"
hold = "0m"
"""
ACCOUNT = """
[[accounts]]
name = "{name}"
calendar = {{ provider = "local", path = "calendars/{name}" }}
sender = {{ provider = "file", folder = "{outbox}" }}
"""


def _name(number: int) -> str:
    return f"p{number:03d}"


def _session(number: int) -> DemoSession:
    return DemoSession(
        uid=f"{_name(number)}-1",
        title=f"Coaching: Client {number:03d}",
        client=f"client{number:03d}@example.org",
        client_name=f"Client {number:03d}",
        starts_in=timedelta(hours=3),
        action="decline",
        acted_ago=timedelta(minutes=1),
    )


@dataclass
class Practices:
    """The folder every worker shares: calendars/, state/, one outbox folder per incarnation."""

    folder: Path
    url: str
    now: datetime
    env: dict[str, str]
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: int = 0

    def write_calendars(self) -> None:
        for number in range(ACCOUNTS):
            folder = self.folder / "calendars" / _name(number)
            folder.mkdir(parents=True)
            self._write(number, acted=False)

    def decline(self, number: int) -> None:
        self._write(number, acted=True)

    def _write(self, number: int, *, acted: bool) -> None:
        session = _session(number)
        path = self.folder / "calendars" / _name(number) / f"{session.uid}.ics"
        temporary = path.with_suffix(".tmp")  # a calendar app replaces the file whole
        temporary.write_text(session_ics(session, self.now, acted=acted), encoding="utf-8")
        temporary.replace(path)

    def start(self, slot: int) -> None:
        """Start worker `slot` again, with a config naming an outbox folder of its own."""
        self.started += 1
        outbox = f"outbox/{self.started:03d}-worker{slot}"
        text = CONFIG_HEAD.format(
            interval=int(INTERVAL.total_seconds()), url=self.url, pollers=POLLERS, lease=LEASE
        )
        text += "".join(ACCOUNT.format(name=_name(n), outbox=outbox) for n in range(ACCOUNTS))
        config = self.folder / f"config-{self.started:03d}.toml"
        config.write_text(text, encoding="utf-8")
        log = (self.folder / f"worker-{self.started:03d}.log").open("wb")
        with log:
            self.processes[slot] = subprocess.Popen(
                [str(FAIRWARNING), "--config", str(config), "run"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def kill(self, slot: int) -> list[str]:
        """SIGKILL worker `slot`; returns the accounts it held leases on as it died."""
        process = self.processes[slot]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        holder = f"{socket.gethostname()}:{process.pid}:%"  # leases.holder_name()
        with psycopg.connect(self.url, autocommit=True) as db:
            rows = db.execute(
                "SELECT account FROM account_leases WHERE holder LIKE %s", (holder,)
            ).fetchall()
        return [row[0] for row in rows]

    def stop(self) -> dict[int, int]:
        """SIGTERM every worker (the step in hand finishes) and their exit codes."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        return {slot: process.wait(timeout=60) for slot, process in self.processes.items()}

    def last_log(self) -> str:
        logs = sorted(self.folder.glob("worker-*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in logs[-WORKERS:])


class Polls:
    """Every account's poll times, read from `accounts.last_success_at` several times a second
    on a connection of its own (seconds: each poll is known to within one)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: dict[str, set[datetime]] = collections.defaultdict(set)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Polls:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as db:
            while not self._stop.wait(0.2):
                rows = db.execute("SELECT name, last_success_at FROM accounts").fetchall()
                for name, at in rows:
                    if at is not None:
                        self.seen[name].add(datetime.fromisoformat(at))

    def late_after(self, moment: datetime, within: timedelta, accounts: list[str]) -> list[str]:
        """Those of `accounts` with no poll in (moment, moment + within]."""
        return sorted(
            name
            for name in accounts
            if not any(moment < at <= moment + within for at in self.seen[name])
        )

    def longest_gap(self) -> timedelta:
        """The longest wait of any account between two polls (for the record)."""
        gaps = [b - a for seen in self.seen.values() for a, b in itertools.pairwise(sorted(seen))]
        return max(gaps, default=timedelta(0))


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _wait_for(url: str, sql: str, expected: int, seconds: float, why: str) -> None:
    deadline = time.monotonic() + seconds
    while _count(url, sql) != expected:
        assert time.monotonic() < deadline, f"seed {SEED}: {why} not reached in {seconds} s"
        time.sleep(0.5)


def _refs_on_disk(folder: Path) -> collections.Counter[str]:
    refs = (
        str(message_from_bytes(path.read_bytes(), policy=email_policy.default)[REF_HEADER])
        for path in folder.glob("outbox/*/*.eml")
    )
    return collections.Counter(ref for ref in refs if not ref.startswith("ALERT-"))


@pytest.fixture
def practices(tmp_path: Path, postgres_url: str) -> Iterator[Practices]:
    shared = Practices(tmp_path, postgres_url, datetime.now(UTC), environment(tmp_path / "home"))
    try:
        yield shared
    finally:
        for process in shared.processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout=30)


def test_three_workers_killed_at_random_share_300_accounts_and_send_each_notice_once(
    practices: Practices,
) -> None:
    rng = random.Random(SEED)
    url = practices.url
    began = time.monotonic()
    practices.write_calendars()
    open_database(practices.folder / "state", StateSettings(database=url)).close()  # migrated
    with Polls(url) as polls:
        for slot in range(WORKERS):
            practices.start(slot)
        _wait_for(
            url,
            "SELECT COUNT(*) FROM accounts WHERE baselined = 1",
            ACCOUNTS,
            90,
            "every account's first look",
        )
        kills: list[tuple[datetime, list[str]]] = []
        declined = 0
        for round_ in range(ROUNDS):
            while declined < (round_ + 1) * ACCOUNTS // ROUNDS:
                practices.decline(declined)
                declined += 1
            time.sleep(rng.uniform(*PAUSES))
            slot = rng.randrange(WORKERS)
            died = datetime.now(UTC)
            kills.append((died, practices.kill(slot)))
            practices.start(slot)
        _wait_for(
            url,
            "SELECT COUNT(*) FROM outbox WHERE state IN ('sent', 'unknown')",
            ACCOUNTS,
            60,
            "every notice settled",
        )
        deadline = time.monotonic() + 2 * INTERVAL.total_seconds() + 1
        while polls.late_after(*kills[-1][:1], 2 * INTERVAL, kills[-1][1]):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)  # until the last kill's accounts were taken over
    codes = practices.stop()
    took = time.monotonic() - began
    orphans = sum(len(held) for _, held in kills)
    said = (
        f"seed {SEED}, {len(kills)} kills leaving {orphans} leases, {took:.0f} s, longest wait "
        f"between polls {polls.longest_gap()}\n{practices.last_log()}"
    )

    assert set(codes.values()) == {0}, said
    twice = {ref: n for ref, n in _refs_on_disk(practices.folder).items() if n > 1}
    assert not twice, f"written more than once: {twice}; {said}"
    with psycopg.connect(url, autocommit=True) as db:
        cases = db.execute(
            "SELECT d.account, d.verdict, o.ref, o.state, o.written_to FROM decisions d"
            " LEFT JOIN outbox o ON o.decision_id = d.id"
            " WHERE d.verdict IN ('reminder', 'forfeit') ORDER BY d.account"
        ).fetchall()
        held = db.execute("SELECT account FROM account_leases WHERE holder IS NOT NULL")
        still_held = held.fetchall()
    assert [case[0] for case in cases] == [_name(n) for n in range(ACCOUNTS)], said
    unsettled = [case for case in cases if case[3] not in ("sent", "unknown")]
    assert not unsettled, f"{unsettled}; {said}"
    on_disk = _refs_on_disk(practices.folder)
    unwritten = [case for case in cases if case[3] == "sent" and case[2] not in on_disk]
    assert not unwritten, f"sent but no file: {unwritten}; {said}"
    assert not still_held, f"leases left after a clean stop: {still_held}; {said}"
    assert orphans, f"no kill hit a worker holding a lease; {said}"
    robbed = [log.name for log in practices.folder.glob("*.log") if TAKEN in log.read_text()]
    assert not robbed, f"a live worker's lease was taken: {robbed}; {said}"
    for died, held in kills:
        late = polls.late_after(died, 2 * INTERVAL, held)
        assert not late, (
            f"unpolled for two intervals after their worker died at {died}: {late}; {said}"
        )
    print(f"crash test: {said.splitlines()[0]}, {len(on_disk)} notices")
