"""The benchmark's numbers: summarised from the probes' raw JSON, checked against the targets,
printed as a table and written into docs/benchmarks.md between the results markers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
INTERVAL_IN_PRODUCTION = 60.0


@dataclass(frozen=True, slots=True)
class Latency:
    """Detection latency at one poll interval."""

    interval: float
    declines: int
    queued: int
    p50: float
    p95: float
    worst: float
    service_cpu: float  # CPU seconds per pass over all calendars in the service loop

    @classmethod
    def read(cls, raw: dict[str, Any]) -> Latency:
        return cls(
            interval=raw["interval"],
            declines=raw["declines"],
            queued=raw["queued"],
            p50=raw["p50"],
            p95=raw["p95"],
            worst=raw["max"],
            service_cpu=raw["service_cpu_per_pass"],
        )


@dataclass(frozen=True, slots=True)
class Fleet:
    """One N: the worker and the naive poller over N calendars."""

    calendars: int
    cycles: int
    requests: float  # calendar requests per idle poll per calendar
    bytes: float  # bytes down per idle poll per calendar
    cpu: float  # process CPU seconds per idle pass over all calendars (mean)
    cpu_range: tuple[float, float]  # the cheapest and the dearest idle pass
    wall: float  # seconds per idle pass
    baseline_wall: float
    latencies: tuple[Latency, ...]
    idle_rss: float
    peak_rss: float
    naive_requests: float
    naive_bytes: float
    naive_cpu: float

    @property
    def core_share(self) -> float:
        """Percent of one core used polling every calendar once per production interval."""
        return 100 * self.cpu / INTERVAL_IN_PRODUCTION


@dataclass(frozen=True, slots=True)
class Network:
    """Idle passes when every calendar answer takes `delay` seconds, as over the internet."""

    calendars: int
    delay: float
    wall: float  # seconds per idle pass
    cpu: float

    @classmethod
    def read(cls, raw: dict[str, Any], delay: float) -> Network:
        return cls(raw["calendars"], delay, _mean(raw["idle"], "wall"), _mean(raw["idle"], "cpu"))

    @property
    def most_per_minute(self) -> int:
        """How many calendars one sequential loop can poll within a 60 s interval."""
        return int(INTERVAL_IN_PRODUCTION / (self.wall / self.calendars))


@dataclass(frozen=True, slots=True)
class BigCalendar:
    """The first sync of one calendar of many events, and its idle polls."""

    events: int
    stored: int
    wall: float
    cpu: float
    pages: int
    rss_before: float
    peak_rss: float
    idle_requests: float
    idle_bytes: float
    idle_cpu: float
    naive_requests: float
    naive_bytes: float
    naive_cpu: float


def _mean(spans: list[dict[str, Any]], key: str) -> float:
    return statistics.fmean(float(s[key]) for s in spans)


def fleet(worker: dict[str, Any], naive: dict[str, Any]) -> Fleet:
    """Summarise one N from the worker's and the naive poller's probes."""
    n, idle, lazy = worker["calendars"], worker["idle"], naive["idle"]
    return Fleet(
        calendars=n,
        cycles=len(idle),
        requests=_mean(idle, "calendar") / n,
        bytes=_mean(idle, "bytes_down") / n,
        cpu=_mean(idle, "cpu"),
        cpu_range=(min(s["cpu"] for s in idle), max(s["cpu"] for s in idle)),
        wall=_mean(idle, "wall"),
        baseline_wall=worker["baseline"]["wall"],
        latencies=tuple(Latency.read(raw) for raw in worker["latency"]),
        idle_rss=worker["idle_rss"],
        peak_rss=worker["peak_rss"],
        naive_requests=_mean(lazy, "calendar") / n,
        naive_bytes=_mean(lazy, "bytes_down") / n,
        naive_cpu=_mean(lazy, "cpu"),
    )


def big_calendar(worker: dict[str, Any], naive: dict[str, Any]) -> BigCalendar:
    """Summarise the big calendar's probes."""
    first, idle, lazy = worker["first"], worker["idle"], naive["idle"]
    return BigCalendar(
        events=worker["events"],
        stored=worker["stored"],
        wall=first["wall"],
        cpu=first["cpu"],
        pages=first["calendar"],
        rss_before=worker["rss_before"],
        peak_rss=worker["peak_rss"],
        idle_requests=_mean(idle, "calendar"),
        idle_bytes=_mean(idle, "bytes_down"),
        idle_cpu=_mean(idle, "cpu"),
        naive_requests=_mean(lazy, "calendar"),
        naive_bytes=_mean(lazy, "bytes_down"),
        naive_cpu=_mean(lazy, "cpu"),
    )


def _verdict(value: float, limit: float, unit: str) -> str:
    if value <= limit:
        return "met"
    return f"MISSED by {value - limit:.2f} {unit} ({100 * (value / limit - 1):.0f} % over)"


def _target(
    what: str, target: str, value: float, limit: float, shown: str, unit: str
) -> tuple[str, str, str, str]:
    """One row: what was measured, the target, the measurement and whether it was met."""
    return (what, target, shown.format(value), _verdict(value, limit, unit))


def targets(fleets: list[Fleet], big: BigCalendar) -> list[tuple[str, str, str, str]]:
    """(what, target, measured, verdict) for every target of the issue."""
    rows = [
        _target(
            f"requests per idle poll per calendar, N={f.calendars}",
            "≤ 1.0",
            f.requests,
            1.0,
            "{:.2f}",
            "requests",
        )
        for f in fleets
    ]
    rows += [
        _target(
            f"detection p95, N={f.calendars}, polling every {latency.interval:.0f} s",
            f"≤ {latency.interval + 1:.1f} s",
            latency.p95,
            latency.interval + 1,
            "{:.2f} s",
            "s",
        )
        for f in fleets
        for latency in f.latencies
    ]
    largest = max(fleets, key=lambda f: f.calendars)
    rows.append(
        _target(
            f"CPU, {largest.calendars} calendars every {INTERVAL_IN_PRODUCTION:.0f} s",
            "≤ 10 % of a core",
            largest.core_share,
            10.0,
            "{:.1f} %",
            "points",
        )
    )
    rows += [
        _target(f"idle RSS, N={f.calendars}", "< 80 MB", f.idle_rss, 80.0, "{:.1f} MB", "MB")
        for f in fleets
    ]
    first_sync = f"first sync of {big.events:,} events"
    rows.append(_target(f"{first_sync}: time", "< 5 s", big.wall, 5.0, "{:.2f} s", "s"))
    rows.append(
        _target(f"{first_sync}: peak RSS", "< 150 MB", big.peak_rss, 150.0, "{:.1f} MB", "MB")
    )
    return rows


def _ratio(naive: float, worker: float) -> str:
    return f"{naive / worker:.1f}×" if worker else "–"


def markdown(
    fleets: list[Fleet],
    big: BigCalendar,
    network: Network,
    profiles: dict[str, dict[str, Any]],
    wall: float,
    revision: str,
) -> str:
    """The results section of docs/benchmarks.md."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"Measured {when} on commit {revision}; the whole run took {wall:.0f} s.", ""]
    out += [
        "### The worker over N calendars",
        "",
        "| N | idle passes | requests / idle poll / calendar | bytes down / idle poll / calendar "
        "| CPU s / pass (min–max) | wall s / pass | CPU at 60 s interval | first pass (baseline) s "
        "| idle RSS MB | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {f.calendars:,} | {f.cycles} | {f.requests:.2f} | {f.bytes:,.0f} | {f.cpu:.3f} "
        f"({f.cpu_range[0]:.3f}–{f.cpu_range[1]:.3f}) | {f.wall:.3f} "
        f"| {f.core_share:.2f} % of a core | {f.baseline_wall:.2f} "
        f"| {f.idle_rss:.1f} | {f.peak_rss:.1f} |"
        for f in fleets
    ]
    out += [
        "",
        "### With Google's response time",
        "",
        f"With every calendar answer delayed {network.delay * 1000:.0f} ms, an idle pass over "
        f"{network.calendars} calendars takes {network.wall:.2f} s wall ({network.cpu:.3f} s CPU): "
        f"the accounts are polled one after another, so one worker can poll at most about "
        f"{network.most_per_minute:,} calendars within a 60 s interval.",
        "",
        "### Detection latency: late decline applied on the server → notice in the outbox",
        "",
        "| N | poll interval | declines | queued | p50 s | p95 s | max s | target p95 "
        "| CPU s / pass in the service loop |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {f.calendars:,} | {x.interval:.0f} s | {x.declines} | {x.queued} | {x.p50:.2f} "
        f"| {x.p95:.2f} | {x.worst:.2f} | ≤ {x.interval + 1:.0f} s | {x.service_cpu:.3f} |"
        for f in fleets
        for x in f.latencies
    ]
    out += [
        "",
        "### Naive poller (whole window every cycle) versus the worker, idle",
        "",
        "| N | naive requests / poll / calendar | ratio | naive bytes / poll / calendar | ratio "
        "| naive CPU s / pass | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {f.calendars:,} | {f.naive_requests:.2f} | {_ratio(f.naive_requests, f.requests)} "
        f"| {f.naive_bytes:,.0f} | {_ratio(f.naive_bytes, f.bytes)} | {f.naive_cpu:.3f} "
        f"| {_ratio(f.naive_cpu, f.cpu)} |"
        for f in fleets
    ]
    out += [
        f"| 1 big ({big.events:,} events) | {big.naive_requests:.2f} "
        f"| {_ratio(big.naive_requests, big.idle_requests)} | {big.naive_bytes:,.0f} "
        f"| {_ratio(big.naive_bytes, big.idle_bytes)} | {big.naive_cpu:.3f} "
        f"| {_ratio(big.naive_cpu, big.idle_cpu)} |",
        "",
        f"### First sync of one calendar with {big.events:,} events",
        "",
        f"{big.wall:.2f} s wall ({big.cpu:.2f} s CPU) over {big.pages} pages of 250; "
        f"{big.stored:,} sessions stored in the snapshot; peak RSS {big.peak_rss:.1f} MB "
        f"({big.peak_rss - big.rss_before:+.1f} MB over the {big.rss_before:.1f} MB before it). "
        f"An idle poll of it afterwards: {big.idle_requests:.1f} request, "
        f"{big.idle_bytes:,.0f} bytes, {big.idle_cpu * 1000:.1f} ms CPU.",
        "",
        "### Targets",
        "",
        "| what | target | measured | verdict |",
        "|---|---|---:|---|",
    ]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(fleets, big)]
    for title, profile in profiles.items():
        out += _profile(title, profile)
    return "\n".join(out) + "\n"


def _profile(title: str, profile: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"### Where {title} goes (cProfile; {profile['total']:.2f} s under the profiler)",
        "",
        "| stage (cumulative) | share |",
        "|---|---:|",
    ]
    # Cumulative times can add up to a hair over the profiler's total.
    out += [
        f"| {stage} | {min(share, 1.0) * 100:.1f} % |" for stage, share in profile["stages"].items()
    ]
    out += ["", "| function (own time) | calls | own s | share |", "|---|---:|---:|---:|"]
    out += [
        f"| `{h['function']}` | {h['calls']:,} | {h['own']:.3f} | {h['share'] * 100:.1f} % |"
        for h in profile["own"]
    ]
    return out


def table(fleets: list[Fleet], big: BigCalendar, network: Network) -> str:
    """The terminal summary."""
    lines = [
        f"{'N':>5} {'req/poll':>8} {'B/poll':>7} {'CPU/pass':>9} {'@60s':>7} {'p50':>6} "
        f"{'p95':>6} {'every':>5} {'idleRSS':>8} {'peakRSS':>8} "
        f"{'naive req':>9} {'naive B':>8} {'naive CPU':>9}"
    ]
    lines += [
        f"{f.calendars:>5} {f.requests:>8.2f} {f.bytes:>7.0f} {f.cpu:>8.3f}s {f.core_share:>6.2f}% "
        f"{x.p50:>5.2f}s {x.p95:>5.2f}s {x.interval:>4.0f}s {f.idle_rss:>6.1f}MB "
        f"{f.peak_rss:>6.1f}MB {_ratio(f.naive_requests, f.requests):>9} "
        f"{_ratio(f.naive_bytes, f.bytes):>8} {_ratio(f.naive_cpu, f.cpu):>9}"
        for f in fleets
        for x in f.latencies
    ]
    lines.append(
        f"first sync of {big.events:,} events: {big.wall:.2f} s, peak RSS {big.peak_rss:.1f} MB, "
        f"{big.stored:,} stored; idle poll {big.idle_requests:.0f} request vs naive "
        f"{big.naive_requests:.0f}"
    )
    lines.append(
        f"{network.calendars} calendars, {network.delay * 1000:.0f} ms per answer: "
        f"{network.wall:.2f} s per pass, so at most ~{network.most_per_minute:,} calendars "
        "per 60 s"
    )
    lines += [f"  {a}: {c} (target {b}) {d}" for a, b, c, d in targets(fleets, big)]
    return "\n".join(lines)


def write(document: Path, results: str, template: str) -> None:
    """Replace the results between the markers, keeping the rest; `template` if none yet."""
    text = document.read_text(encoding="utf-8") if document.exists() else template
    if BEGIN not in text or END not in text:
        text = template
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    document.write_text(f"{head}{BEGIN}\n{results}{END}{tail}", encoding="utf-8")


def write_section(document: Path, marker: str, heading: str, section: str) -> None:
    """Replace the text between `<!-- bench:MARKER:begin/end -->`; a document without them
    gets the section, under `heading`, after the main results."""
    begin, end = f"<!-- bench:{marker}:begin -->", f"<!-- bench:{marker}:end -->"
    text = document.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        anchor = f"{END}\n"
        text = text.replace(anchor, f"{anchor}\n{heading}\n\n{begin}\n{end}\n", 1)
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    document.write_text(f"{head}{begin}\n{section}{end}{tail}", encoding="utf-8")
