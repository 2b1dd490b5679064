"""Three workers on PostgreSQL over 3,000 Google calendars at 100 ms per answer.

`python -m bench.fleet` (also part of `make bench`) starts its own PostgreSQL cluster (durable:
fsync on, as a real server; `pg_stat_statements` loaded to count what the workers ask it) and
a fake Google with every answer delayed 100 ms, then three `fairwarning run` service loops in
their own processes, sharing the accounts through leases. Once every calendar has had its
first poll it measures, over two intervals of 60 s:

- requests per idle poll per calendar (the fake's counters over the polls the database saw);
- database round-trips per account poll (every statement `pg_stat_statements` counted);
- CPU per worker, as a share of one core;

then books a session on every calendar, declines some at random moments and times how long
each takes to be queued (detection p50/p95). It rewrites only its own section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench import report
from bench.fake import Control, calendar_id
from bench.probe import percentile, practice, utc_now
from tests.servers.postgres import start_postgres, stop_postgres
from worker.config import WorkerSettings
from worker.config.state import StateSettings
from worker.service.lifecycle import run as serve

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "benchmarks.md"
WORKERS = 3
CALENDARS = 3000
DELAY = 0.1
POLLERS = 8
INTERVAL = 60
DECLINES = 200
TARGET_REQUESTS, TARGET_P95 = 1.0, 61.0
# What a small production server runs with: commits reach the disk.
DURABLE = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_preload_libraries": "pg_stat_statements",
}
POLL_STATEMENT = "UPDATE accounts SET cursor"  # one per successful poll (`record_poll`)


def worker_main(args: argparse.Namespace) -> None:
    """One service loop, as `fairwarning run` runs it, on the shared PostgreSQL state."""
    calendars = [calendar_id(n) for n in range(1, args.calendars + 1)]
    interval = timedelta(seconds=args.interval)
    config = practice(args.state, args.url, calendars, interval, tokens=False)
    config = config.model_copy(
        update={
            "state": StateSettings(database=args.database),
            "workers": WorkerSettings(pollers=args.pollers),
        }
    )
    serve(config, once=False, clock=utc_now, show=None)


@dataclass
class Fleet:
    """The running workers and what the driver reads from the database."""

    driver: psycopg.Connection[Any]  # the benchmark's own connection, for its readings
    workers: list[subprocess.Popen[bytes]]
    calendars: int
    interval: int

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return list(self.driver.execute(sql, params).fetchall())

    def count(self, sql: str, *params: object) -> int:
        return int(self.query(sql, *params)[0][0] or 0)

    def polled_since(self, moment: datetime) -> int:
        """Accounts whose last successful poll began at `moment` or later (0 before the first
        worker has made the tables)."""
        try:
            return self._polled_since(moment)
        except psycopg.errors.UndefinedTable:
            return 0

    def _polled_since(self, moment: datetime) -> int:
        return self.count(
            "SELECT count(*) FROM accounts WHERE last_success_at >= %s",
            moment.isoformat(timespec="seconds"),
        )

    def cpu_seconds(self) -> list[float]:
        """User + system CPU of each worker so far (from /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        seconds = []
        for worker in self.workers:
            fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds.append((int(fields[11]) + int(fields[12])) / tick)
        return seconds

    def alive(self) -> None:
        for worker in self.workers:
            if worker.poll() is not None:
                raise SystemExit(f"a worker stopped (exit {worker.returncode}) during the run")


def wait_until(what: str, done: Callable[[], bool], limit: float, fleet: Fleet) -> float:
    began = time.monotonic()
    while not done():
        fleet.alive()
        if time.monotonic() - began > limit:
            raise SystemExit(f"gave up waiting for {what} after {limit:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - began


def idle(fleet: Fleet, control: Control, window: float) -> dict[str, Any]:
    """Requests, statements and CPU over `window` seconds of idle polling."""
    fleet.query("SELECT pg_stat_statements_reset()")
    control("/bench/stats/reset")
    cpu_before = fleet.cpu_seconds()
    gaps = poll_gaps(fleet, window)
    fleet.alive()
    cpu = [after - before for before, after in zip(cpu_before, fleet.cpu_seconds(), strict=True)]
    served = control("/bench/stats")
    statements = fleet.query(
        "SELECT query, calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
        " WHERE d.datname = current_database()"
    )
    polls = sum(calls for query, calls in statements if query.startswith(POLL_STATEMENT))
    return {
        "window": window,
        "polls": polls,
        "calendar_requests": served["calendar"],
        "token_requests": served["token"],
        "statements": sum(calls for _, calls in statements),
        "busiest": sorted(statements, key=lambda s: -s[1])[:5],
        "gap_p50": percentile(gaps, 0.50),
        "gap_p95": percentile(gaps, 0.95),
        "gap_max": max(gaps, default=float("nan")),
        "cpu": cpu,
    }


def poll_gaps(fleet: Fleet, window: float) -> list[float]:
    """For `window` seconds, every second: each account's last successful poll; returns the
    seconds between one poll of an account and its next, as seen in that time."""
    last: dict[str, datetime] = {}
    gaps: list[float] = []
    ends = time.monotonic() + window
    while time.monotonic() < ends:
        for name, polled in fleet.query("SELECT name, last_success_at FROM accounts"):
            at = datetime.fromisoformat(polled) if polled else None
            if at is None:
                continue
            if name in last and at > last[name]:
                gaps.append((at - last[name]).total_seconds())
            last[name] = at
        time.sleep(1.0)
    return gaps


def detection(
    fleet: Fleet, control: Control, declines: int, over: float, tail: float
) -> dict[str, Any]:
    """Book a session on every calendar, then decline some at random moments; time each."""
    control("/bench/book", per_calendar=1)
    booked = datetime.now(UTC)
    wait_until(
        "every calendar polled after booking",
        lambda: fleet.polled_since(booked) >= fleet.calendars,
        3 * fleet.interval,
        fleet,
    )
    last_id = fleet.count("SELECT COALESCE(MAX(id), 0) FROM outbox")
    answer = control("/bench/declines/start", count=declines, over=over, seed=15)
    expected, started = int(answer["started"]), time.time()
    queued: dict[str, float] = {}
    while len(queued) < expected and time.time() < started + over + tail:
        fleet.alive()
        for row_id, key in fleet.query(
            "SELECT id, session_key FROM outbox WHERE id > %s ORDER BY id", last_id
        ):
            last_id = max(last_id, row_id)
            queued.setdefault(key, time.time())
        time.sleep(0.25)
    applied = control("/bench/declines")["applied"]
    latencies = [queued[a["event"]] - a["at"] for a in applied if a["event"] in queued]
    return {
        "declines": len(applied),
        "queued": len(latencies),
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies, default=float("nan")),
    }


@contextmanager
def postgres() -> Iterator[str]:
    server, process = start_postgres(DURABLE)
    try:
        database = server.new_database()
        with psycopg.connect(database, autocommit=True) as db:
            db.execute("CREATE EXTENSION pg_stat_statements")
        yield database
    finally:
        stop_postgres(server, process)


@contextmanager
def fleet_of(database: str, url: str, folder: Path, shape: argparse.Namespace) -> Iterator[Fleet]:
    # Workers on one machine share a state directory, and so the accounts' tokens: a worker
    # taking over an account uses the access token another one refreshed.
    calendars = [calendar_id(n) for n in range(1, shape.calendars + 1)]
    practice(folder, url, calendars, timedelta(seconds=shape.interval))
    workers = []
    for number in range(1, shape.workers + 1):
        command = [sys.executable, "-m", "bench.fleet", "worker", "--url", url]
        command += ["--state", str(folder), "--database", database]
        command += ["--calendars", str(shape.calendars), "--pollers", str(shape.pollers)]
        command += ["--interval", str(shape.interval)]
        log = (folder / f"worker{number}.log").open("wb")
        workers.append(subprocess.Popen(command, cwd=ROOT, stderr=log, stdout=log))  # noqa: S603
    try:
        with psycopg.connect(database, autocommit=True) as driver:
            yield Fleet(driver, workers, shape.calendars, shape.interval)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()


def measure(shape: argparse.Namespace, say: Callable[[str], object]) -> dict[str, Any]:
    from bench.__main__ import fake_google

    n, interval = shape.calendars, shape.interval
    arguments = ("--calendars", str(n), "--sessions", "5", "--delay", str(DELAY))
    with (
        tempfile.TemporaryDirectory(prefix="fairwarning-bench-fleet-") as folder,
        postgres() as database,
        fake_google(*arguments) as url,
    ):
        control = Control(url)
        started = datetime.now(UTC).replace(microsecond=0)
        say(f"{shape.workers} workers on PostgreSQL over {n:,} calendars: first polls")
        with fleet_of(database, url, Path(folder), shape) as fleet:
            first = wait_until(
                "every calendar's first poll",
                lambda: fleet.polled_since(started) >= n,
                10 * interval,
                fleet,
            )
            # The first polls (full syncs, token refreshes) bunch up; one interval spreads them.
            say(f"first polls done in {first:.0f} s; settling for {interval} s")
            time.sleep(interval)
            say(f"idle polling for {2 * interval} s")
            quiet = idle(fleet, control, 2.0 * interval)
            say("declines at random moments: detection")
            found = detection(fleet, control, shape.declines, 2.0 * interval, interval)
    return {"shape": vars(shape), "first": first, "idle": quiet, "detection": found}


def markdown(raw: dict[str, Any], measured: str, single: dict[str, Any] | None = None) -> str:
    quiet, found, shape = raw["idle"], raw["detection"], raw["shape"]
    interval = shape["interval"]
    polls = max(quiet["polls"], 1)
    requests = quiet["calendar_requests"] / polls
    statements = quiet["statements"] / polls
    shares = [100 * c / quiet["window"] for c in quiet["cpu"]]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on commit {measured} (`python -m bench.fleet`): {shape['workers']} "
        f"workers (`fairwarning run`, {shape['pollers']} pollers each) sharing one PostgreSQL "
        f"database (on the same machine, fsync on) over {shape['calendars']:,} Google "
        f"calendars, every answer delayed {DELAY * 1000:.0f} ms, polled every {interval} s. "
        f"Every calendar's first poll took "
        f"{raw['first']:.0f} s. Over {quiet['window']:.0f} s of idle polling the database saw "
        f"{quiet['polls']:,} account polls.",
        "",
        "| what | measured |",
        "|---|---:|",
        f"| calendar requests per idle poll | {requests:.2f} |",
        f"| token refreshes in the idle window | {quiet['token_requests']:,} |",
        f"| database round-trips per account poll | {statements:.1f} |",
        f"| seconds between two polls of an account, p50 / p95 / max | {quiet['gap_p50']:.1f} / "
        f"{quiet['gap_p95']:.1f} / {quiet['gap_max']:.1f} |",
        "| CPU per worker | " + ", ".join(f"{s:.1f} %" for s in shares) + " of a core |",
        f"| detection p50 / p95 / max ({found['queued']} of {found['declines']} declines "
        f"queued) | {found['p50']:.1f} / {found['p95']:.1f} / {found['max']:.1f} s |",
        "",
        *_beside(raw, single),
        "The statements asked most often per account poll:",
        "",
        "| calls per poll | statement |",
        "|---:|---|",
        *(f"| {calls / polls:.1f} | `{_one_line(query)}` |" for query, calls in quiet["busiest"]),
        "",
        "| what | target | measured | verdict |",
        "|---|---|---:|---|",
        # A poll whose request fell just inside the window but whose answer was filed after
        # it counts a request without a poll: the ratio is judged to two decimals.
        _target("requests per idle poll per calendar", round(requests, 2), TARGET_REQUESTS, ""),
        _target(f"detection p95 at a {interval} s interval", found["p95"], TARGET_P95, "s"),
    ]
    return "\n".join(lines) + "\n"


def _beside(raw: dict[str, Any], single: dict[str, Any] | None) -> list[str]:
    """Per worker, the fleet next to one worker on SQLite (bench.pollers, same run)."""
    if single is None:
        return ["(One worker on SQLite: the pool of pollers in the section above.)", ""]
    quiet, shape = raw["idle"], raw["shape"]
    pool = single["pool"]
    n = single["calendars"]
    one_cpu = sum(p["cpu"] for p in pool) / len(pool)
    one_requests = sum(p["calendar"] for p in pool) / (len(pool) * n)
    share = [100 * c / quiet["window"] for c in quiet["cpu"]]
    polls_per_worker = quiet["polls"] / shape["workers"] / (quiet["window"] / shape["interval"])
    return [
        "Beside one worker on SQLite, measured in the same run (bench.pollers):",
        "",
        "| per worker, idle, 60 s interval | calendars | CPU | requests / poll |",
        "|---|---:|---:|---:|",
        f"| one worker, SQLite | {n:,} | {100 * one_cpu / 60:.1f} % of a core | "
        f"{one_requests:.2f} |",
        f"| one of {shape['workers']} workers, PostgreSQL | about {polls_per_worker:,.0f} | "
        f"{sum(share) / len(share):.1f} % of a core (mean) | "
        f"{quiet['calendar_requests'] / max(quiet['polls'], 1):.2f} |",
        "",
    ]


def _one_line(query: str, most: int = 90) -> str:
    text = " ".join(query.split()).replace("|", "\\|").replace("`", "'")
    return text if len(text) <= most else text[: most - 1] + "…"


def _target(what: str, value: float, limit: float, unit: str) -> str:
    verdict = "met" if value <= limit else f"MISSED by {value - limit:.2f} {unit}".rstrip()
    return f"| {what} | ≤ {limit:g} {unit} | {value:.2f} {unit} | {verdict} |"


def write(document: Path, section: str) -> None:
    report.write_section(document, "fleet", "### Several workers on PostgreSQL", section)


def run(
    say: Callable[[str], object] = print,
    argv: list[str] | None = None,
    single: dict[str, Any] | None = None,
) -> str:
    """The section; `single` is bench.pollers' one worker on SQLite, shown beside the fleet."""
    from bench.__main__ import revision

    measured = revision()
    return markdown(measure(_shape().parse_args(argv or []), say), measured, single)


def _shape(prog: str = "python -m bench.fleet") -> argparse.ArgumentParser:
    """The fleet's size; the defaults are the published measurement."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--calendars", type=int, default=CALENDARS)
    parser.add_argument("--pollers", type=int, default=POLLERS)
    parser.add_argument("--interval", type=int, default=INTERVAL)
    parser.add_argument("--declines", type=int, default=DECLINES)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write the doc")
    return parser


def main(argv: list[str]) -> None:
    if argv and argv[0] == "worker":
        parser = _shape("python -m bench.fleet worker")
        parser.add_argument("--url", required=True)
        parser.add_argument("--state", type=Path, required=True)
        parser.add_argument("--database", required=True)
        worker_main(parser.parse_args(argv[1:]))
        return
    shape = _shape().parse_args(argv)
    section = run(lambda text: print(text, file=sys.stderr, flush=True), argv)
    print(section)
    if not shape.dry_run:
        write(DOCUMENT, section)


if __name__ == "__main__":
    main(sys.argv[1:])
