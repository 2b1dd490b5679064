"""`python -m bench.caldav`: requests per idle CalDAV poll, counted by a real Radicale.

Radicale runs in a process of its own and logs every request it receives; the worker
(`worker.wiring.build_worker`: `CalDavCalendar` sources, the file sender, SQLite state)
polls N calendars of 5 sessions each, once with sync-collection (RFC 6578) and once
comparing ctag and etags (`sync_collection = false`). After the baseline pass the server's
requests are counted over K idle passes and divided by K × N; then one client declines on
every calendar and the requests of the pass that finds those declines are counted too.

`python -m bench` runs this as its last part; run alone, it rewrites only its own section of
docs/benchmarks.md (between the caldav markers).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from bench import report
from connectors.caldav.credentials import save_login
from connectors.caldav.http import Login
from worker.config import Config
from worker.pipeline.cycle import AccountReport
from worker.wiring import build_worker, caldav_login_path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "benchmarks.md"
USER, PASSWORD = "dana@riveracoaching.example", "bench-app-password"
CLIENT = "sam@example.org"
CALENDARS, SESSIONS, IDLE_PASSES = 20, 5, 10
TARGET = 1.0
_REQUEST = re.compile(r"\b([A-Z]+) request for ")


@dataclass(frozen=True)
class Result:
    way: str
    calendars: int
    idle_passes: int
    per_idle_poll: float
    per_changed_poll: float
    idle_methods: str
    cpu_per_pass: float


class Radicale:
    """Radicale on a free port, its request log readable while it runs."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        (folder / "users").write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
        (folder / "config").write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n[auth]\ntype = htpasswd\n"
            f"htpasswd_filename = {folder / 'users'}\nhtpasswd_encryption = plain\n"
            f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
            "[rights]\ntype = owner_only\n[logging]\nlevel = info\n",
            encoding="utf-8",
        )
        self.log = folder / "radicale.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "radicale", "--config", str(folder / "config")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.root = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("Radicale did not start")

    def requests(self) -> list[str]:
        """The method of every request received so far."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [match.group(1) for match in _REQUEST.finditer(text)]

    def calendar(self, sessions: int, now: datetime) -> str:
        url = f"{self.root}/{USER}/{uuid.uuid4().hex}/"
        _call("MKCALENDAR", url)
        for number in range(sessions):
            self.put(url, f"s{number}", now + timedelta(hours=2 + 4 * number), "ACCEPTED", now)
        return url

    def put(self, url: str, uid: str, start: datetime, answer: str, stamp: datetime) -> None:
        moment = "%Y%m%dT%H%M%SZ"
        lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN", "BEGIN:VEVENT",
            f"UID:{uid}", f"DTSTAMP:{stamp:{moment}}", f"LAST-MODIFIED:{stamp:{moment}}",
            f"DTSTART:{start:{moment}}", f"DTEND:{start + timedelta(minutes=50):{moment}}",
            "SUMMARY:Coaching with Sam", f"ORGANIZER:mailto:{USER}",
            f"ATTENDEE;CN=Sam Taylor;PARTSTAT={answer}:mailto:{CLIENT}",
            "END:VEVENT", "END:VCALENDAR", "",
        ]  # fmt: skip
        _call("PUT", f"{url}{uid}.ics", "\r\n".join(lines).encode())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _call(method: str, url: str, body: bytes = b"") -> None:
    answer = requests.request(method, url, data=body, auth=(USER, PASSWORD), timeout=30)
    if answer.status_code >= 300:
        raise SystemExit(f"{method} {url}: HTTP {answer.status_code}")


def measure(server: Radicale, work: Path, *, sync_collection: bool) -> Result:
    """Baseline, idle passes and one pass with a decline per calendar, for one sync way."""
    now = datetime.now(UTC)
    urls = [server.calendar(SESSIONS, now) for _ in range(CALENDARS)]
    config = Config.model_validate(
        {
            "practitioner": {"name": "Dana Rivera", "email": USER, "time_zone": "Europe/London"},
            "policy": {"mode": "auto", "hold": "10m"},
            "accounts": [
                {
                    "name": f"acct-{number}",
                    "calendar": {
                        "provider": "caldav",
                        "url": url,
                        "sync_collection": sync_collection,
                    },
                    "sender": {"provider": "file", "folder": str(work / "notices")},
                }
                for number, url in enumerate(urls)
            ],
            "state_dir": str(work / "state"),
        }
    )
    for account in config.accounts:
        save_login(caldav_login_path(config, account.name), Login(server.root, USER, PASSWORD))
    worker = build_worker(config, clock=lambda: datetime.now(UTC))
    _checked(worker.cycle())
    before = len(server.requests())
    cpu = time.process_time()
    for _ in range(IDLE_PASSES):
        _checked(worker.cycle())
    cpu = (time.process_time() - cpu) / IDLE_PASSES
    idle = server.requests()[before:]
    for url in urls:
        server.put(url, "s0", now + timedelta(hours=2), "DECLINED", datetime.now(UTC))
    before = len(server.requests())
    _checked(worker.cycle())
    changed = len(server.requests()) - before
    return Result(
        way="sync-collection" if sync_collection else "ctag + etag",
        calendars=CALENDARS,
        idle_passes=IDLE_PASSES,
        per_idle_poll=len(idle) / (IDLE_PASSES * CALENDARS),
        per_changed_poll=changed / CALENDARS,
        idle_methods=", ".join(sorted(set(idle))),
        cpu_per_pass=cpu,
    )


def _checked(reports: list[AccountReport]) -> None:
    failed = [report.error for report in reports if report.error]
    if failed:
        raise SystemExit(f"a CalDAV poll failed: {failed[0]}")


def run() -> list[Result]:
    """Both sync ways against one Radicale started for the purpose."""
    with tempfile.TemporaryDirectory(prefix="fairwarning-bench-caldav-") as folder:
        work = Path(folder)
        (work / "radicale").mkdir()
        server = Radicale(work / "radicale")
        try:
            return [
                measure(server, work / "sync", sync_collection=True),
                measure(server, work / "ctag", sync_collection=False),
            ]
        finally:
            server.stop()


def markdown(results: list[Result], measured: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on commit {measured} against Radicale (`python -m bench.caldav`).",
        "",
        "| sync way | N | idle passes | requests / idle poll / calendar | requests in an idle "
        "poll | requests / poll finding one decline | CPU s / idle pass |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.way} | {r.calendars} | {r.idle_passes} | {r.per_idle_poll:.2f} | "
            f"{r.idle_methods} | {r.per_changed_poll:.2f} | {r.cpu_per_pass:.3f} |"
        )
    lines += ["", "| what | target | measured | verdict |", "|---|---|---:|---|"]
    for r in results:
        verdict = "met" if r.per_idle_poll <= TARGET else "MISSED"
        lines.append(
            f"| requests per idle CalDAV poll ({r.way}) | ≤ {TARGET:.1f} | "
            f"{r.per_idle_poll:.2f} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def write(document: Path, results: str) -> None:
    report.write_section(document, "caldav", "### Requests per idle CalDAV poll", results)


def main() -> None:
    from bench.__main__ import revision

    results = run()
    text = markdown(results, revision())
    print(text)
    write(DOCUMENT, text)


if __name__ == "__main__":
    main()
