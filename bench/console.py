"""`python -m bench console`: the console's pages over a practice of 10,000 cases and 500 clients.

The state is built the way the worker builds it: every cancellation is a `Fact` filed through
`worker.pipeline.casework.file_fact` (judged, counted on the ladder, its notice queued and then
marked sent, prepaid sessions spent), oldest first over two years, so the ladder, the ledger,
the outbox and the package ledger hold what two years of a busy practice would. The newest
cases are filed in review mode and left open. Then the real console is started in its own
process (`fairwarning --config X web --port P`, after `worker.web.keys.set_password`), logged in
through its form, and each page is fetched REQUESTS times over one keep-alive connection.
Server time is the loopback round trip of each request (the request and answer cost well
under a millisecond here); the web process's CPU per request and its RSS afterwards are read
from /proc.
"""

from __future__ import annotations

import cProfile
import csv
import http.client
import io
import os
import pstats
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from worker.cli.demo import CONFIG, DOCUMENT, POLICY_LINES, PRACTITIONER, policy_pdf
from worker.clients import load_directory
from worker.config import load_config
from worker.model import (
    Attendee,
    CancelTime,
    CancelTimeSource,
    Fact,
    FactKind,
    Response,
    Session,
)
from worker.pipeline.casework import file_fact, open_desk, waive
from worker.pipeline.packages import open_packages
from worker.store import outbox, packages
from worker.store.clients_seen import record_seen
from worker.store.db import open_database, open_existing, transaction
from worker.store.sync_state import save_sessions
from worker.web.keys import set_password

CASES = 10_000
CLIENTS = 500
PREPAID = 100  # clients with a prepaid package
OPEN = 20  # the newest cases, filed in review mode and waiting for the practitioner
UPCOMING = 2  # sessions per client in the calendar snapshot
YEARS = 2
REQUESTS = 50
PASSWORD = "benchmark console password"  # noqa: S105 (a throwaway practice's)
ACCOUNT = "main"
TARGET_MEDIAN, TARGET_P95, TARGET_RSS = 50.0, 200.0, 120.0  # ms, ms, MB

PAGES = (
    ("Today", "/"),
    ("Review", "/review"),
    ("a waiting case", "/review/{case}"),  # its exact notice, composed as approval would
    ("Clients", "/clients"),
    ("a client", "/clients/client-0042@example.org"),
    ("History", "/history"),
    ("History page 2", "/history?page=2"),
    ("History search", "/history?" + urlencode({"client": "client-0042"})),
)
# The pages the issue sets targets for; Review is the list and each case's page together.
TARGETED = ("Review", "a waiting case", "Clients", "History")


def _client(number: int) -> tuple[str, str]:
    return f"client-{number:04d}@example.org", f"Client {number:04d}"


def _practice(folder: Path) -> Path:
    """Dana's configuration in review mode with 500 clients in a CSV (100 prepaid)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DOCUMENT).write_bytes(policy_pdf(POLICY_LINES))
    (folder / "calendar").mkdir(exist_ok=True)
    text = CONFIG.format(practitioner=PRACTITIONER, document=DOCUMENT)
    text = text.replace('mode = "auto"', 'mode = "review"').replace("welcome = true", "")
    text = text.replace('state_dir = "state"', 'state_dir = "state"\nclients_csv = "clients.csv"')
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["email", "name", "prepaid_balance"])
    for number in range(CLIENTS):
        email, name = _client(number)
        writer.writerow([email, name, 20 if number < PREPAID else ""])
    (folder / "clients.csv").write_text(rows.getvalue(), encoding="utf-8")
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _session(key: str, number: int, start: datetime, response: Response, at: datetime) -> Session:
    email, name = _client(number)
    return Session(
        key=key,
        title=f"Coaching: {name}",
        start=start,
        end=start + timedelta(minutes=50),
        organizer_email=PRACTITIONER,
        attendees=(
            Attendee(PRACTITIONER, "Dana Rivera", Response.ACCEPTED),
            Attendee(email, name, response, responded_at=at),
        ),
        updated=at,
    )


def _decline(number: int, key: str, cancelled_at: datetime, notice: timedelta, why: str) -> Fact:
    start = (cancelled_at + notice).replace(minute=0, second=0, microsecond=0)
    session = _session(key, number, start, Response.DECLINED, cancelled_at)
    attendee = replace(session.attendees[1], comment=why)
    session = replace(session, attendees=(session.attendees[0], attendee))
    return Fact(
        FactKind.DECLINED,
        session,
        CancelTime(cancelled_at, CancelTimeSource.RESPONSE_TIME),
        attendee=attendee,
    )


def build_state(config_path: Path, now: datetime, seed: int = 7) -> dict[str, int]:
    """Two years of a practice, filed case by case as the worker files them."""
    config, _ = load_config(config_path)
    directory = load_directory(config)
    chance = random.Random(seed)
    began = now - timedelta(days=365 * YEARS)
    moments = sorted(
        began + timedelta(seconds=chance.uniform(0, (now - began).total_seconds() - 3600))
        for _ in range(CASES)
    )
    db = open_database(config.state_dir, config.state)
    try:
        with transaction(db):
            open_packages(db, directory, began)
            for number in range(CLIENTS):
                record_seen(db, _client(number)[0], ACCOUNT, began, "baseline")
        for index, moment in enumerate(moments):
            number = chance.randrange(CLIENTS)
            # Most cancellations come a day or more ahead; a third are late.
            review = index >= CASES - OPEN  # the newest are late ones, held for review
            hours = (2, 5, 10, 20) if review else (2, 5, 10, 20, 30, 48, 72, 96, 120)
            notice = timedelta(hours=chance.choice(hours))
            why = "in hospital since last night" if chance.random() < 0.02 else ""
            fact = _decline(number, f"ev-{index:05d}", moment, notice, why)
            _file(config, db, directory, fact, moment, review=review)
        _snapshot(db, now, chance)
        _package_history(db, now, began)
    finally:
        db.close()
    db = open_database(config.state_dir, config.state)
    try:
        counts = {
            table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in ("decisions", "outbox", "ledger", "sessions", "package_entries")
        }
        waiting = db.execute("SELECT COUNT(*) FROM decisions WHERE status = 'open'").fetchone()
        counts["open"] = int(waiting[0])
        counts["sent"] = int(
            db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").fetchone()[0]
        )
    finally:
        db.close()
    return counts


def _file(
    config: Any, db: Any, directory: Any, fact: Fact, moment: datetime, *, review: bool
) -> None:
    """File one fact a minute after it happened; its notice (if any) goes out a minute later,
    and an old case held for review was waived by the practitioner the same day."""
    desk = open_desk(config, db, ACCOUNT, directory, moment + timedelta(minutes=1))
    desk = replace(desk, mode="review" if review else "auto")
    with transaction(db):
        last = db.execute("SELECT coalesce(MAX(id), 0) FROM decisions").fetchone()[0]
        file_fact(desk, fact)
        if review:
            return
        for row in db.execute(
            "SELECT id FROM outbox WHERE state = 'queued' AND account = ?", (ACCOUNT,)
        ).fetchall():
            sent = moment + timedelta(minutes=2)
            outbox.set_state(db, row["id"], "sent", sent, written_to=f"outbox/{row['id']}.eml")
        for row in db.execute(
            "SELECT id FROM decisions WHERE id > ? AND status = 'open'", (last,)
        ).fetchall():
            waive(replace(desk, now=moment + timedelta(hours=3)), row["id"], "excused")


def _snapshot(db: Any, now: datetime, chance: random.Random) -> None:
    """The calendar as the worker last saw it: a couple of upcoming sessions per client."""
    sessions = []
    for number in range(CLIENTS):
        for n in range(UPCOMING):
            start = now + timedelta(hours=chance.randrange(30, 24 * 21))
            start = start.replace(minute=0, second=0, microsecond=0)
            key = f"up-{number:04d}-{n}"
            sessions.append(_session(key, number, start, Response.ACCEPTED, now))
    with transaction(db):
        save_sessions(db, ACCOUNT, tuple(sessions))


def _package_history(db: Any, now: datetime, began: datetime) -> None:
    """Prepaid clients attended a session a month and topped up twice."""
    with transaction(db):
        for number in range(PREPAID):
            email = _client(number)[0]
            for month in range(12 * YEARS):
                at = began + timedelta(days=30 * month + number % 28)
                if at >= now:
                    break
                packages.record(
                    db,
                    email,
                    -1,
                    reason="session",
                    at=at,
                    note="a session that took place",
                    link=packages.Link(ACCOUNT, f"done-{number}-{month}", at),
                    entry_key=f"session:{ACCOUNT}:done-{number}-{month}",
                )
                if month % 12 == 11:
                    packages.record(db, email, 10, reason="topup", at=at, note="ten more")


# Serving and fetching.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """One keep-alive connection with the session cookie, as a browser tab would hold."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: str = "") -> tuple[int, str, float]:
        """(status, body, seconds from sending the request to the last byte of the answer)."""
        headers = {"cookie": self.cookie} if self.cookie else {}
        if body:
            headers["content-type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        self.connection.request(method, path, body=body or None, headers=headers)
        answer = self.connection.getresponse()
        text = answer.read().decode("utf-8", "replace")
        spent = time.perf_counter() - began
        cookie = answer.getheader("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return answer.status, text, spent

    def log_in(self) -> None:
        _, page, _ = self.request("GET", "/login")
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        if found is None:
            raise SystemExit("the login page has no CSRF field")
        form = urlencode({"csrf": found.group(1), "password": PASSWORD, "next": "/"})
        status, _, _ = self.request("POST", "/login", form)
        if status != 303:
            raise SystemExit(f"logging in answered {status}")


def _wait_for(port: int, server: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the console stopped at start (exit {server.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the console did not start listening within 30 s")


def _proc(pid: int) -> tuple[float, float]:
    """(CPU seconds so far, VmRSS in MB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return cpu, rss


@dataclass(frozen=True, slots=True)
class PageTiming:
    """One page fetched REQUESTS times: milliseconds, and the server's CPU per request."""

    name: str
    path: str
    median: float
    p95: float
    worst: float
    cpu: float  # ms of the web process's CPU per request
    size: int  # bytes of HTML


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(config_path: Path, requests: int = REQUESTS) -> dict[str, Any]:
    """Serve the console in its own process and time every page; stops it afterwards."""
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("fairwarning")),
        "--config",
        str(config_path),
        "web",
        "--port",
        str(port),
    ]
    log = config_path.parent / "web.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait_for(port, server, time.monotonic() + 30)
        _, rss_at_start = _proc(server.pid)
        browser = Browser(port)
        browser.log_in()
        case = _a_waiting_case(config_path)
        timings = [
            _page(browser, server.pid, name, path.format(case=case), requests)
            for name, path in PAGES
        ]
        _, rss = _proc(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    trouble = [line for line in log.read_text().splitlines() if "Traceback" in line]
    return {"pages": timings, "rss": rss, "rss_at_start": rss_at_start, "trouble": trouble}


def _a_waiting_case(config_path: Path) -> int:
    """The first case waiting for the practitioner in the benchmark's state."""
    config, _ = load_config(config_path)
    db = open_existing(config.state_dir, read_only=True)
    try:
        row = db.execute("SELECT min(id) FROM decisions WHERE status = 'open'").fetchone()
    finally:
        db.close()
    return int(row[0])


def _page(browser: Browser, pid: int, name: str, path: str, requests: int) -> PageTiming:
    status, body, _ = browser.request("GET", path)  # warm: templates compiled, caches filled
    if status != 200:
        raise SystemExit(f"{path} answered {status}")
    spent = []
    cpu_before, _ = _proc(pid)
    for _ in range(requests):
        status, body, seconds = browser.request("GET", path)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
        spent.append(seconds * 1000)
    cpu_after, _ = _proc(pid)
    return PageTiming(
        name,
        path,
        statistics.median(spent),
        _percentile(spent, 0.95),
        max(spent),
        (cpu_after - cpu_before) * 1000 / requests,
        len(body.encode()),
    )


# Where a page's time goes: the function each page runs in its worker thread, called here
# under cProfile (the server runs it in a thread pool, out of a profiler's sight).


def _page_work(config_path: Path) -> dict[str, Callable[[], object]]:
    from worker.web import review_desk
    from worker.web.console import Console
    from worker.web.pages import clients, history, today

    config, _ = load_config(config_path)
    console = Console(config=config, clock=lambda: datetime.now(UTC), config_path=config_path)
    someone = PAGES[4][1].rsplit("/", 1)[1]
    case = _a_waiting_case(config_path)
    return {
        "Today": lambda: today._report(console),
        "Review": lambda: review_desk.everything_waiting(console),
        "a waiting case": lambda: review_desk.one_case(console, case),
        "Clients": lambda: clients._roster(console),
        "a client": lambda: clients._client_page(console, someone),
        "History": lambda: history._history(console, history.Search()),
        "History page 2": lambda: history._history(console, history.Search(page=2)),
        "History search": lambda: history._history(console, history.Search("client-0042")),
    }


def profile_pages(config_path: Path, names: tuple[str, ...]) -> dict[str, list[str]]:
    """The costliest functions (cumulative) of one request of each named page."""
    work = _page_work(config_path)
    found: dict[str, list[str]] = {}
    for name in names:
        work[name]()  # warm, as the timed requests were
        profiler = cProfile.Profile()
        profiler.enable()
        work[name]()
        profiler.disable()
        found[name] = _hot(profiler)
    return found


def _hot(profiler: cProfile.Profile) -> list[str]:
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    rows = []
    for (file, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "/worker/" not in file and "sqlite3" not in function:
            continue
        where = file.split("/worker/", 1)[-1] if "/worker/" in file else "~"
        rows.append(
            (
                cumulative,
                f"`{where}:{line}({function})` {calls:,} calls, {own * 1000:.1f}"
                f" ms own, {cumulative * 1000:.1f} ms cumulative ({cumulative / total:.0%})",
            )
        )
    rows.sort(reverse=True)
    return [text for _, text in rows[:10]]


# Reporting.


def verdicts(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, target, measured, verdict) for the issue's targets."""
    rows = []
    for timing in result["pages"]:
        if timing.name not in TARGETED:
            continue
        for label, value, limit in (
            ("median", timing.median, TARGET_MEDIAN),
            ("p95", timing.p95, TARGET_P95),
        ):
            rows.append(
                (
                    f"{timing.name} page, {label}",
                    f"< {limit:.0f} ms",
                    f"{value:.1f} ms",
                    _verdict(value, limit, "ms"),
                )
            )
    rss = result["rss"]
    rows.append(
        (
            "web process RSS after the run",
            f"< {TARGET_RSS:.0f} MB",
            f"{rss:.1f} MB",
            _verdict(rss, TARGET_RSS, "MB"),
        )
    )
    return rows


def _verdict(value: float, limit: float, unit: str) -> str:
    if value < limit:
        return "met"
    return f"MISSED by {value - limit:.1f} {unit} ({100 * (value / limit - 1):.0f} % over)"


def markdown(result: dict[str, Any], counts: dict[str, int], build: float, revision: str) -> str:
    """The console section of docs/benchmarks.md."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"Measured {when} on commit {revision}. The practice: {counts['decisions']:,} cases "
        f"of {CLIENTS} clients over {YEARS} years ({counts['sent']:,} notices sent, "
        f"{counts['open']} cases open for review, {counts['ledger']:,} ledger rows, "
        f"{counts['package_entries']:,} package entries for {PREPAID} prepaid clients, "
        f"{counts['sessions']:,} upcoming sessions), filed through the worker's casework in "
        f"{build:.0f} s. Each page fetched {REQUESTS} times after one warm-up request, "
        "logged in, over one keep-alive connection.",
        "",
        "| page | path | median ms | p95 ms | max ms | server CPU ms / request | HTML KB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {t.name} | `{t.path}` | {t.median:.1f} | {t.p95:.1f} | {t.worst:.1f} "
        f"| {t.cpu:.1f} | {t.size / 1024:.0f} |"
        for t in result["pages"]
    ]
    out += [
        "",
        f"RSS of the web process: {result['rss_at_start']:.1f} MB after start, "
        f"{result['rss']:.1f} MB after the run.",
        "",
        "| what | target | measured | verdict |",
        "|---|---|---:|---|",
    ]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in verdicts(result)]
    for name, lines in result.get("profiles", {}).items():
        out += ["", f"Where one {name} request goes (cProfile, in-process, cumulative):", ""]
        out += [f"- {line}" for line in lines]
    return "\n".join(out) + "\n"


def table(result: dict[str, Any]) -> str:
    """The terminal summary."""
    lines = [f"{'page':<16} {'median':>8} {'p95':>8} {'max':>8} {'CPU/req':>8}"]
    lines += [
        f"{t.name:<16} {t.median:>6.1f}ms {t.p95:>6.1f}ms {t.worst:>6.1f}ms {t.cpu:>6.1f}ms"
        for t in result["pages"]
    ]
    lines.append(f"web RSS after the run: {result['rss']:.1f} MB")
    lines += [f"  {a}: {c} (target {b}) {d}" for a, b, c, d in verdicts(result)]
    return "\n".join(lines)


def run(work: Path, say: Any) -> tuple[dict[str, Any], dict[str, int], float]:
    """Build the practice in `work`, serve it, measure it; profile the pages that missed."""
    config_path = _practice(work / "console")
    began = time.perf_counter()
    say(f"console: filing {CASES:,} cases of {CLIENTS} clients")
    counts = build_state(config_path, datetime.now(UTC))
    build = time.perf_counter() - began
    config, _ = load_config(config_path)
    set_password(config.state_dir, PASSWORD)
    say(f"console: serving it, {REQUESTS} requests per page")
    result = measure(config_path)
    missed = {t.name for t in result["pages"] if t.median >= TARGET_MEDIAN or t.p95 >= TARGET_P95}
    if missed:
        say(f"console: profiling {', '.join(sorted(missed))}")
        result["profiles"] = profile_pages(config_path, tuple(sorted(missed)))
    return result, counts, build


BEGIN, END = "<!-- bench:console:begin -->", "<!-- bench:console:end -->"


def write(document: Path, results: str) -> None:
    """Replace the text between the console markers; add the section when missing (before the
    findings written by hand)."""
    text = document.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        section = f"## The console over {CASES:,} cases\n\n{BEGIN}\n{END}\n\n"
        anchor = "## Findings (written by hand)"
        text = text.replace(anchor, section + anchor, 1) if anchor in text else text + section
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    document.write_text(f"{head}{BEGIN}\n{results}{END}{tail}", encoding="utf-8")


def main(
    work: Path | None = None, say: Callable[[str], None] | None = None, measured: str = ""
) -> None:
    """Measure, print the table and rewrite the console's section of docs/benchmarks.md."""
    from bench.__main__ import DOCUMENT, revision

    began = time.perf_counter()
    say = say or (
        lambda text: print(
            f"[{time.perf_counter() - began:6.1f} s] {text}", file=sys.stderr, flush=True
        )
    )
    with tempfile.TemporaryDirectory(prefix="fairwarning-bench-") as folder:
        result, counts, build = run(work or Path(folder), say)
    print(table(result))
    write(DOCUMENT, markdown(result, counts, build, measured or revision()))
    print(f"console results written to {DOCUMENT}")


if __name__ == "__main__":
    main()
