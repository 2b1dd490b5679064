"""`python -m bench` (`make bench`): every scenario, each probe in a fresh process.

For N in 1, 100, 1,000 calendars a fake Google is started in its own process, the naive
poller is measured against it, then the worker (baseline, idle passes, detection latency under
the service loop). Then 100 calendars are polled with Google's response time simulated, and
one calendar of 10,000 events is synced for the first time, and last the requests per idle
CalDAV poll are counted by a real Radicale (bench/caldav.py), one pass over 1,000 calendars at
100 ms per answer is timed with a pool of pollers and with one (bench/pollers.py), three
workers share 3,000 calendars on PostgreSQL (bench/fleet.py), and the
console's pages are timed over a practice of 10,000 cases (bench/console.py). The tables are
printed and the results sections of docs/benchmarks.md are rewritten.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import caldav, console, fleet, pollers, report

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "benchmarks.md"
SESSIONS = 5  # a few sessions with the client on every calendar
BIG = 10_000


@dataclass(frozen=True, slots=True)
class Scenario:
    """One N: how many idle passes, and how many declines over how long for the latency."""

    calendars: int
    cycles: int
    book: int  # sessions booked per calendar before declining (one decline each at most)
    declines: int
    over: float  # seconds over which the declines are spread (at least two intervals)
    intervals: tuple[int, ...] = (2,)  # poll intervals at which latency is measured


# The 1,000-calendar run does 3 idle passes rather than more to stay well inside 10 minutes.
# Its pass takes longer than 2 s, so its latency is also measured at 20 s, where a pass fits.
SCENARIOS = (
    Scenario(1, cycles=20, book=30, declines=30, over=45),
    Scenario(100, cycles=5, book=1, declines=60, over=30),
    Scenario(1000, cycles=5, book=1, declines=100, over=30, intervals=(2, 20)),
)
# Loopback answers in well under a millisecond; Google takes a round trip over the internet.
# 100 calendars are polled with every calendar answer delayed this much, to see what a
# sequential pass costs in wall time once the network is in it.
GOOGLE_DELAY = 0.1
SLOW_CALENDARS = 100
TAIL = 40  # seconds after the last decline before a latency phase gives up waiting


def _environment() -> dict[str, str]:
    """The probes' environment: no token encryption key, so token files are plain JSON."""
    drop = {"FAIRWARNING_KEY", "CREDENTIALS_DIRECTORY"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@contextmanager
def fake_google(*arguments: str) -> Iterator[str]:
    """A fake Google in its own process; yields its root URL and stops it afterwards."""
    command = [sys.executable, "-m", "bench.fake", *arguments]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        if not port.isdigit():
            raise SystemExit(f"the fake Google did not start ({port!r})")
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)


def probe(mode: str, url: str, state: Path, *arguments: object) -> dict[str, Any]:
    """Run one probe in a fresh process and return its JSON."""
    command = [sys.executable, "-m", "bench.probe", mode, "--url", url, "--state", str(state)]
    command += [str(a) for a in arguments]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=_environment(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"probe {mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def revision() -> str:
    """The commit measured, and whether the worker or connectors had uncommitted changes."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(  # noqa: S603
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(  # noqa: S603
        [*git, "status", "--porcelain", "--", "worker", "connectors"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{head or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def _say(began: float, text: str) -> None:
    print(f"[{time.perf_counter() - began:6.1f} s] {text}", file=sys.stderr, flush=True)


def _fleet(scenario: Scenario, work: Path, began: float) -> tuple[dict[str, Any], dict[str, Any]]:
    n = scenario.calendars
    with fake_google("--calendars", str(n), "--sessions", str(SESSIONS)) as url:
        _say(began, f"N={n}: naive poller")
        naive = probe(
            "naive", url, work / f"naive{n}", "--calendars", n, "--cycles", scenario.cycles
        )
        _say(began, f"N={n}: worker")
        extra = ["--profile"] if n == 100 else []
        worker = probe(
            "worker",
            url,
            work / f"worker{n}",
            "--calendars",
            n,
            "--cycles",
            scenario.cycles,
            "--book",
            scenario.book,
            "--declines",
            scenario.declines,
            "--over",
            scenario.over,
            "--tail",
            TAIL,
            "--intervals",
            *scenario.intervals,
            *extra,
        )
    return worker, naive


def main() -> None:
    """Run every scenario, print the table, rewrite the results in docs/benchmarks.md."""
    began = time.perf_counter()
    measured = revision()
    fleets: list[report.Fleet] = []
    profile: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fairwarning-bench-") as folder:
        work = Path(folder)
        for scenario in SCENARIOS:
            worker, naive = _fleet(scenario, work, began)
            fleets.append(report.fleet(worker, naive))
            profile = worker["hot"] or profile
        arguments = ("--calendars", str(SLOW_CALENDARS), "--delay", str(GOOGLE_DELAY))
        with fake_google(*arguments) as url:
            _say(began, f"N={SLOW_CALENDARS} with {GOOGLE_DELAY * 1000:.0f} ms per answer")
            slow = probe("worker", url, work / "slow", "--calendars", SLOW_CALENDARS, "--cycles", 2)
        with fake_google("--events", str(BIG)) as url:
            _say(began, f"first sync of {BIG:,} events")
            big = probe("big", url, work / "big", "--cycles", 3, "--profile")
            naive_big = probe("naive", url, work / "naive-big", "--ids", "big", "--cycles", 3)
    if revision() != measured:
        measured += f", which changed to {revision()} during the run: numbers are mixed"
    summary = report.big_calendar(big, naive_big)
    network = report.Network.read(slow, GOOGLE_DELAY)
    wall = time.perf_counter() - began
    print(report.table(fleets, summary, network))
    print(f"total wall time {wall:.0f} s")
    profiles = {
        "an idle pass over 100 calendars": profile,
        f"an idle poll of the {BIG:,}-event calendar": big["hot"],
    }
    results = report.markdown(fleets, summary, network, profiles, wall, measured)
    report.write(DOCUMENT, results, TEMPLATE)
    _say(began, "CalDAV: requests per idle poll against Radicale")
    calendars = caldav.markdown(caldav.run(), measured)
    print(calendars)
    caldav.write(DOCUMENT, calendars)
    single, _ = pollers.figures(lambda text: _say(began, text))
    pool = pollers.markdown(single, pollers.DELAY, measured)
    print(pool)
    pollers.write(DOCUMENT, pool)
    shared = fleet.run(lambda text: _say(began, text), single=single)
    print(shared)
    fleet.write(DOCUMENT, shared)
    with tempfile.TemporaryDirectory(prefix="fairwarning-bench-") as folder:
        console.main(Path(folder), lambda text: _say(began, text), measured)
    print(f"results written to {DOCUMENT.relative_to(ROOT)}")


TEMPLATE = f"""# Benchmarks

How light and how quick the worker is on a small VPS, measured against a local fake Google.
Reproduce with:

```sh
make bench        # .venv/bin/python -m bench; about 15 minutes on 2 cores
```

The results section below is rewritten by every run; the rest of this file is kept.

{report.BEGIN}
{report.END}
"""


if __name__ == "__main__":
    main()
