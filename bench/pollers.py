"""One pass over 1,000 Google calendars at 100 ms per answer: a pool of pollers versus one.

`python -m bench.pollers` (also part of `make bench`) starts the fake Google with every answer
delayed 100 ms, then runs one probe in a fresh process: the real worker
(`worker.wiring.build_worker`, `[workers] pollers = 8`) takes its baseline pass, makes idle
passes through the pool, and then one idle pass with `pollers = 1` (today's sequential pass),
so both figures come from the same run over the same calendars. It rewrites only its own
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import report
from bench.fake import Control, calendar_id
from bench.probe import measure, passes, practice, rss_mb, utc_now
from worker.config import WorkerSettings
from worker.wiring import build_worker

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "benchmarks.md"
CALENDARS = 1000
DELAY = 0.1
POLLERS = 8
POOL_PASSES = 2
INTERVAL = 60.0
TARGET_WALL, TARGET_CPU, TARGET_RSS = 15.0, 10.0, 120.0


def probe(args: argparse.Namespace) -> dict[str, Any]:
    """Baseline and idle passes with the pool, then one idle pass with a single poller."""
    control = Control(args.url)
    calendars = [calendar_id(n) for n in range(1, args.calendars + 1)]
    config = practice(args.state, args.url, calendars, timedelta(seconds=60))
    config = config.model_copy(update={"workers": WorkerSettings(pollers=args.pollers)})
    worker = build_worker(config, clock=utc_now)
    baseline = measure(control, passes(worker))
    pool = [measure(control, passes(worker)) for _ in range(args.passes)]
    idle_rss = rss_mb()
    worker.close_pool()
    worker.pollers = 1
    sequential = measure(control, passes(worker))
    worker.db.close()
    return {
        "calendars": args.calendars,
        "pollers": args.pollers,
        "baseline": asdict(baseline),
        "pool": [asdict(s) for s in pool],
        "sequential": asdict(sequential),
        "idle_rss": idle_rss,
    }


def markdown(raw: dict[str, Any], delay: float, measured: str) -> str:
    """The section: the two passes side by side, and the targets."""
    pool, one = raw["pool"], raw["sequential"]
    wall = sum(p["wall"] for p in pool) / len(pool)
    cpu = sum(p["cpu"] for p in pool) / len(pool)
    share = 100 * cpu / INTERVAL
    errors = sorted({e for p in [*pool, one] for e in p["errors"]})
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    n, size = raw["calendars"], raw["pollers"]
    lines = [
        f"Measured {when} on commit {measured} (`python -m bench.pollers`): {n:,} Google "
        f"calendars, every answer of the fake delayed {delay * 1000:.0f} ms, one process. The "
        f"baseline pass (which also refreshes every token) took {raw['baseline']['wall']:.1f} s "
        f"with the pool; then {len(pool)} idle passes with the pool and one with one poller.",
        "",
        "| idle pass | pollers | wall s | CPU s | CPU at a 60 s interval | requests / calendar |",
        "|---|---:|---:|---:|---:|---:|",
        f"| pool | {size} | {wall:.2f} | {cpu:.3f} | {share:.2f} % of a core | "
        f"{sum(p['calendar'] for p in pool) / (len(pool) * n):.2f} |",
        f"| sequential (today's) | 1 | {one['wall']:.2f} | {one['cpu']:.3f} | "
        f"{100 * one['cpu'] / INTERVAL:.2f} % of a core | {one['calendar'] / n:.2f} |",
        "",
        f"The pool's pass is {one['wall'] / wall:.1f}× faster than the sequential one; "
        f"calendars one worker can poll within a 60 s interval: about "
        f"{int(n * INTERVAL / wall):,} with the pool, {int(n * INTERVAL / one['wall']):,} without.",
    ]
    if errors:
        lines += ["", f"Errors reported during the passes: {'; '.join(errors[:3])}"]
    lines += [
        "",
        "| what | target | measured | verdict |",
        "|---|---|---:|---|",
        _target(f"one idle pass over {n:,} calendars, wall", wall, TARGET_WALL, "s"),
        _target("CPU at a 60 s interval", share, TARGET_CPU, "% of a core"),
        _target("idle RSS after the pool's passes", raw["idle_rss"], TARGET_RSS, "MB"),
    ]
    return "\n".join(lines) + "\n"


def _target(what: str, value: float, limit: float, unit: str) -> str:
    verdict = "met" if value <= limit else f"MISSED by {value - limit:.1f} {unit}"
    return f"| {what} | ≤ {limit:g} {unit} | {value:.1f} {unit} | {verdict} |"


def write(document: Path, section: str) -> None:
    report.write_section(
        document, "pollers", "### A pool of pollers at Google's response time", section
    )


def run(say: Callable[[str], object] = print) -> str:
    """Run the measurement against its own fake, in a fresh process, and return the section."""
    raw, measured = figures(say)
    return markdown(raw, DELAY, measured)


def figures(say: Callable[[str], object] = print) -> tuple[dict[str, Any], str]:
    """The probe's figures, and the commit they were measured on."""
    from bench.__main__ import _environment, fake_google, revision

    measured = revision()
    arguments = ("--calendars", str(CALENDARS), "--sessions", "5", "--delay", str(DELAY))
    temporary = tempfile.TemporaryDirectory(prefix="fairwarning-bench-pollers-")
    with temporary as folder, fake_google(*arguments) as url:
        say(f"N={CALENDARS:,} at {DELAY * 1000:.0f} ms per answer: {POLLERS} pollers vs 1")
        command = [sys.executable, "-m", "bench.pollers", "probe", "--url", url]
        command += ["--state", str(Path(folder) / "pollers"), "--pollers", str(POLLERS)]
        done = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=_environment(), capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise SystemExit(f"the pollers probe failed:\n{done.stderr[-3000:]}")
    raw: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return raw, measured


def main(argv: list[str]) -> None:
    if argv and argv[0] == "probe":
        parser = argparse.ArgumentParser(prog="python -m bench.pollers probe")
        parser.add_argument("--url", required=True)
        parser.add_argument("--state", type=Path, required=True)
        parser.add_argument("--calendars", type=int, default=CALENDARS)
        parser.add_argument("--pollers", type=int, default=POLLERS)
        parser.add_argument("--passes", type=int, default=POOL_PASSES)
        print(json.dumps(probe(parser.parse_args(argv[1:]))), flush=True)
        return
    section = run()
    print(section)
    write(DOCUMENT, section)


if __name__ == "__main__":
    main(sys.argv[1:])
