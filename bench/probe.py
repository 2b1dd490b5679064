"""One measured run, in a fresh process so its CPU time and RSS are its own.

`python -m bench.probe worker|naive|big --url URL --state DIR ...` prints one JSON object:

- `worker`: the real worker (`worker.wiring.build_worker`: Google calendars, file sender) over N
  accounts: a baseline pass, idle passes (server-side requests, bytes, CPU, wall time), idle
  and peak RSS, a profiled idle pass, then detection latency under the real service loop
  (`worker.service.lifecycle.run`, each account on its own `Schedule`) while the fake declines
  sessions at random moments.
- `naive`: the naive poller over the same calendars, measured the same way.
- `big`: the worker's first sync of one calendar of many events, then a few idle polls.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import os
import pstats
import resource
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.fake import (
    CLIENT_ID,
    CLIENT_SECRET,
    PRACTITIONER,
    REFRESH_PREFIX,
    Control,
    calendar_id,
    rfc3339,
)
from bench.naive import NaivePoller
from worker.config import Config
from worker.pipeline.cycle import AccountReport, Worker
from worker.private_files import write_private
from worker.service.lifecycle import run
from worker.wiring import build_worker, google_token_path


def utc_now() -> datetime:
    """The worker's clock: real time, since the fake stamps declines with real time too."""
    return datetime.now(UTC)


def rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    """The most resident memory this process has had, in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Span:
    """One measured stretch of work: wall and process CPU seconds, and what the fake served."""

    wall: float
    cpu: float
    calendar: int
    token: int
    bytes_down: int
    bytes_up: int
    errors: list[str] = field(default_factory=list)


def measure(control: Control, work: Callable[[], list[str]]) -> Span:
    """Run `work` (which returns error messages) between two readings of the fake's counters."""
    control("/bench/stats/reset")
    wall, cpu = time.perf_counter(), time.process_time()
    errors = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    served = control("/bench/stats")
    return Span(
        wall,
        cpu,
        served["calendar"],
        served["token"],
        served["bytes_down"],
        served["bytes_up"],
        errors[:3],
    )


def practice(
    state: Path, url: str, calendars: list[str], interval: timedelta, *, tokens: bool = True
) -> Config:
    """A configuration with one Google account per calendar, and (with `tokens`) their token
    files.

    The access tokens are already expired, so each account's first poll also refreshes its
    token at the fake's token endpoint.
    """
    accounts = [
        {
            "name": f"acct-{name}",
            "calendar": {"provider": "google", "calendar_id": name, "api_endpoint": url},
            "sender": {"provider": "file", "folder": str(state / "notices")},
        }
        for name in calendars
    ]
    config = Config.model_validate(
        {
            "practitioner": {
                "name": "Dana Rivera",
                "email": PRACTITIONER,
                "time_zone": "Europe/London",
            },
            "policy": {"mode": "auto", "hold": "10m"},
            "accounts": accounts,
            "state_dir": str(state / "state"),
            "poll_interval": f"{int(interval.total_seconds())}s",
        }
    )
    if not tokens:
        return config
    expired = rfc3339(datetime.now(UTC) - timedelta(hours=1))
    for account in config.accounts:
        grant = {
            "type": "authorized_user",
            "token": "ya29.expired",
            "refresh_token": f"{REFRESH_PREFIX}{account.name}",
            "token_uri": f"{url}token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": ["https://www.googleapis.com/auth/calendar.events.readonly"],
            "expiry": expired,
        }
        write_private(google_token_path(config, account.name), json.dumps(grant).encode())
    return config


def passes(worker: Worker) -> Callable[[], list[str]]:
    """One full pass over every account, returning the errors it reported."""

    def work() -> list[str]:
        return [f"{r.account}: {r.error}" for r in worker.cycle() if r.error]

    return work


# Where an idle pass goes, as cumulative time of these functions (file suffix, name).
STAGES = {
    "Google API client: build() and the per-call events() resource": (
        ("googleapiclient/discovery.py", "build"),
        ("googleapiclient/discovery.py", "methodResource"),
    ),
    "HTTP request and JSON answer (execute)": (("googleapiclient/http.py", "execute"),),
    "token file checked (credentials)": (("connectors/google/credentials.py", "credentials"),),
    "diff against the snapshot (observe)": (("worker/pipeline/facts.py", "observe"),),
    "snapshot loaded (sync_state.snapshot)": (("worker/store/sync_state.py", "snapshot"),),
    "SQLite statements (all)": (("~", "<method 'execute' of 'sqlite3.Connection' objects>"),),
    "delivery step (deliver_due)": (("worker/pipeline/delivery.py", "deliver_due"),),
    "alerts step (raise_alerts)": (("worker/pipeline/alerts.py", "raise_alerts"),),
}


def hot_spots(work: Callable[[], object], top: int = 12) -> dict[str, Any]:
    """Profile one run of `work`: the functions with most time of their own, and the stages."""
    profiler = cProfile.Profile()
    profiler.runcall(work)
    stats = pstats.Stats(profiler)
    total: float = stats.total_tt  # type: ignore[attr-defined]
    rows = [
        {"function": f"{_short(path)}:{line}({name})", "calls": calls, "own": own, "total": cum}
        for (path, line, name), (_, calls, own, cum, _) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    stages = {
        stage: sum(
            cum
            for (path, _, name), (_, _, _, cum, _) in stats.stats.items()  # type: ignore[attr-defined]
            if any(path.endswith(suffix) and name == wanted for suffix, wanted in keys)
        )
        / total
        for stage, keys in STAGES.items()
    }
    by_own = sorted(rows, key=lambda r: r["own"], reverse=True)[:top]
    return {
        "total": total,
        "own": [{**r, "share": r["own"] / total} for r in by_own],
        "stages": stages,
    }


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


class Watch:
    """The service loop's `show` hook: notes when each notice is queued, drives the phases.

    Until every account has been polled once since the extra sessions were booked it only
    watches; then it asks the fake to start declining; it stops the loop (SIGTERM to itself,
    which the service takes as "finish this step and exit") once every decline has been
    queued or the deadline passed.
    """

    def __init__(
        self,
        *,
        control: Control,
        db: Path,
        accounts: list[str],
        plan: dict[str, Any],
        deadline: float,
    ) -> None:
        self.control = control
        self.deadline = deadline
        self.db = sqlite3.connect(db)
        self.waiting = set(accounts)
        self.plan = plan
        self.queued: dict[str, float] = {}
        self.states: Counter[str] = Counter()
        # Only notices queued from now on: an earlier phase's rows must not count here.
        self.last_id = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]
        self.started: float | None = None
        self.expected = 0
        self.steps = 0
        self.cpu = 0.0
        self.checked = 0.0

    def __call__(self, reports: list[AccountReport], once: bool) -> None:
        now = time.time()
        rows = self.db.execute(
            "SELECT id, session_key, state FROM outbox WHERE id > ?", (self.last_id,)
        ).fetchall()
        for row_id, key, state in rows:
            self.last_id = max(self.last_id, row_id)
            self.queued.setdefault(key, now)
            self.states[state] += 1
        if self.started is None:
            self.waiting -= {r.account for r in reports}
            if not self.waiting:
                answer = self.control("/bench/declines/start", **self.plan)
                self.started, self.expected = now, int(answer["started"])
                self.cpu = time.process_time()
            return
        self.steps += len(reports)
        if now - self.checked < 0.5:
            return
        self.checked = now
        spread_over = now > self.started + self.plan["over"]
        all_queued = len(self.queued) >= self.expected
        if (spread_over and all_queued) or now > self.started + self.deadline:
            self.cpu = time.process_time() - self.cpu
            os.kill(os.getpid(), signal.SIGTERM)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (0 < share ≤ 1) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]


def detection(
    config: Config, control: Control, args: argparse.Namespace, interval: int
) -> dict[str, Any]:
    """Declines at random moments while the real service loop polls every `interval` s.

    Sessions are booked first; the declines start once every account has been polled since,
    are spread over max(`--over`, two intervals), and the loop stops when every one is queued
    or `--tail` seconds after the spread.
    """
    config = config.model_copy(update={"poll_interval": timedelta(seconds=interval)})
    control("/bench/book", per_calendar=args.book)
    over = max(args.over, 2.0 * interval)
    watch = Watch(
        control=control,
        db=config.state_dir / "fairwarning.sqlite3",
        accounts=[a.name for a in config.accounts],
        plan={"count": args.declines, "over": over, "seed": args.seed},
        deadline=over + args.tail,
    )
    run(config, once=False, clock=utc_now, show=watch)
    watch.db.close()
    started = watch.started or 0.0
    applied = [a for a in control("/bench/declines")["applied"] if a["at"] >= started]
    latencies = [watch.queued[a["event"]] - a["at"] for a in applied if a["event"] in watch.queued]
    return {
        "interval": interval,
        "declines": len(applied),
        "queued": len(latencies),
        "states": dict(watch.states),
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies, default=float("nan")),
        "service_cpu_per_pass": watch.cpu / max(watch.steps, 1) * len(config.accounts),
    }


def worker_probe(args: argparse.Namespace) -> dict[str, Any]:
    """Baseline, idle passes, memory, a profiled pass, then detection latency."""
    control = Control(args.url)
    calendars = [calendar_id(n) for n in range(1, args.calendars + 1)]
    config = practice(args.state, args.url, calendars, timedelta(seconds=60))
    started_rss = rss_mb()
    worker = build_worker(config, clock=utc_now)
    baseline = measure(control, passes(worker))
    idle = [measure(control, passes(worker)) for _ in range(args.cycles)]
    idle_rss = rss_mb()
    hot = hot_spots(passes(worker)) if args.profile else {}
    worker.db.close()
    del worker  # the service loop builds its own; two at once would inflate the peak
    gc.collect()
    latency = [detection(config, control, args, i) for i in args.intervals] if args.declines else []
    return {
        "calendars": args.calendars,
        "imports_rss": started_rss,
        "baseline": asdict(baseline),
        "idle": [asdict(s) for s in idle],
        "idle_rss": idle_rss,
        "peak_rss": peak_mb(),
        "hot": hot,
        "latency": latency,
    }


def naive_probe(args: argparse.Namespace) -> dict[str, Any]:
    """The naive poller over the same calendars: its first pass, then idle passes."""
    control = Control(args.url)
    calendars = args.ids or [calendar_id(n) for n in range(1, args.calendars + 1)]
    config = practice(args.state, args.url, calendars, timedelta(seconds=60))
    pollers = [
        NaivePoller(
            account=a.name,
            token_path=google_token_path(config, a.name),
            calendar_id=name,
            api_endpoint=args.url,
            practitioner_email=PRACTITIONER,
            clock=utc_now,
        )
        for a, name in zip(config.accounts, calendars, strict=True)
    ]

    def work() -> list[str]:
        changed = [key for poller in pollers for key in poller.poll()]
        return [f"{len(changed)} changes seen in an idle pass"] if changed else []

    def first_pass() -> list[str]:
        for poller in pollers:
            poller.poll()
        return []

    first = measure(control, first_pass)
    idle = [measure(control, work) for _ in range(args.cycles)]
    return {
        "calendars": len(calendars),
        "baseline": asdict(first),
        "idle": [asdict(s) for s in idle],
    }


def big_probe(args: argparse.Namespace) -> dict[str, Any]:
    """The first sync of one big calendar: time, memory, what was stored; then idle polls."""
    control = Control(args.url)
    config = practice(args.state, args.url, ["big"], timedelta(seconds=60))
    before = rss_mb()
    worker = build_worker(config, clock=utc_now)
    first = measure(control, passes(worker))
    peak, after = peak_mb(), rss_mb()
    stored = worker.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    idle = [measure(control, passes(worker)) for _ in range(args.cycles)]
    hot = hot_spots(passes(worker)) if args.profile else {}
    worker.db.close()
    return {
        "hot": hot,
        "events": control("/bench/stats")["events"],
        "stored": stored,
        "rss_before": before,
        "first": asdict(first),
        "peak_rss": peak,
        "rss_after": after,
        "idle": [asdict(s) for s in idle],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("mode", choices=["worker", "naive", "big"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--calendars", type=int, default=1)
    parser.add_argument("--ids", nargs="*", default=[])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--intervals", type=int, nargs="+", default=[2])
    parser.add_argument("--book", type=int, default=1)
    parser.add_argument("--declines", type=int, default=0)
    parser.add_argument("--over", type=float, default=30.0)
    parser.add_argument("--tail", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    probes = {"worker": worker_probe, "naive": naive_probe, "big": big_probe}
    print(json.dumps(probes[args.mode](args)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
