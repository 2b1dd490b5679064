"""The console and `fairwarning run` on one database at the same time.

The real service loop runs in its own process, polling five calendars every second (a few
hundred polls in a minute), while Dana, through the console, approves and waives whatever
waits for her and reads the review, history and today pages; new late cancellations keep
arriving in the calendar folders so there is always something to decide. Nothing may lock
the other out, no page may fail, an approved notice goes out exactly once, and a waived
one never.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.cli.practice import FAIRWARNING, Practice, environment
from tests.web.conftest import csrf_of
from worker.cli.demo import DemoSession, session_ics
from worker.model import REF_HEADER
from worker.store.db import open_existing, utc_text

EXTRA_CALENDARS = ("second", "third", "fourth", "fifth")
CLIENTS = tuple(f"walk-in-{n}@example.org" for n in range(6))
POLLS_WANTED = 250  # account polls by the service loop, over every calendar
LONGEST = 55.0  # seconds of side-by-side at most
NEW_CANCELLATION_EVERY = 2.0  # seconds
SEEN_AFTER = 2.5  # seconds a session is on the calendar before its client declines it
ACTION = re.compile(r'action="(/review/(?:\d+|notice/FW-[0-9A-F]+))/(approve|waive)"')


def side_by_side_config(practice: Practice) -> None:
    """Poll every second, and four more calendars (one folder each) beside Dana's own."""
    text = practice.config.read_text(encoding="utf-8")
    text = text.replace('state_dir = "state"', 'state_dir = "state"\npoll_interval = "1s"', 1)
    for name in EXTRA_CALENDARS:
        (practice.folder / f"calendar-{name}").mkdir()
        text += (
            f'\n[[accounts]]\nname = "{name}"\n'
            f'calendar = {{ provider = "local", path = "calendar-{name}" }}\n'
            'sender = { provider = "file", folder = "outbox" }\n'
        )
    practice.config.write_text(text, encoding="utf-8")


def write_atomically(path: Path, text: str) -> None:
    """As a sync tool writes: the worker never reads half a file."""
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


@dataclass
class Calendars:
    """Sessions booked one after another and declined late a few polls later."""

    folder: Path
    booked: list[tuple[float, Path, DemoSession, datetime]] = field(default_factory=list)
    count: int = 0
    last_booked: float = 0.0
    declined: int = 0

    def tick(self) -> None:
        now = time.monotonic()
        if now - self.last_booked >= NEW_CANCELLATION_EVERY:
            self.book(now)
        for entry in [b for b in self.booked if now - b[0] >= SEEN_AFTER]:
            _, path, session, moment = entry
            write_atomically(path, session_ics(session, moment, acted=True))
            self.booked.remove(entry)
            self.declined += 1

    def book(self, now: float) -> None:
        number = self.count
        self.count += 1
        self.last_booked = now
        calendar = ("calendar", *(f"calendar-{n}" for n in EXTRA_CALENDARS))[number % 5]
        client = CLIENTS[number % len(CLIENTS)]
        session = DemoSession(
            f"side-{number}",
            f"Coaching: walk-in {number % len(CLIENTS)}",
            client,
            f"Walk-in {number % len(CLIENTS)}",
            timedelta(hours=6),
            "decline",
        )
        moment = datetime.now(UTC)
        path = self.folder / calendar / f"{session.uid}.ics"
        write_atomically(path, session_ics(session, moment, acted=False))
        self.booked.append((now, path, session, moment))


class Heartbeats:
    """Counts the service loop's steps: it rewrites its heartbeat after every account poll."""

    def __init__(self, path: Path) -> None:
        self.path, self.count, self.stop = path, 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        last = ""
        while not self.stop.is_set():
            try:
                now = self.path.read_text(encoding="utf-8")
            except OSError:
                now = last
            if now and now != last:
                self.count += 1
                last = now
            time.sleep(0.005)


@dataclass
class Desk:
    """What Dana did through the console, and what came back."""

    console: TestClient
    state: Path
    approved: set[str] = field(default_factory=set)
    waived: set[str] = field(default_factory=set)
    actions: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pages: int = 0

    def get(self, path: str) -> str:
        answer = self.console.get(path)
        self.pages += 1
        if answer.status_code >= 500:
            self.failures.append(f"GET {path}: {answer.status_code}")
        flashed = re.search(r'<p class="problem" role="alert">([^<]*)</p>', answer.text)
        if flashed:
            self.problems.append(flashed.group(1))
        return answer.text

    def ref_of(self, item: str) -> str | None:
        """The notice a review item stands for now: a case's own (none when it joined
        another's notice, or has none yet)."""
        if "/notice/" in item:
            return item.rsplit("/", 1)[1]
        db = open_existing(self.state, read_only=True)
        try:
            row = db.execute(
                "SELECT ref FROM outbox WHERE decision_id = ?",
                (int(item.rsplit("/", 1)[1]),),
            ).fetchone()
        finally:
            db.close()
        return None if row is None else str(row["ref"])

    def act(self, page: str) -> None:
        """Go down the list: approve one, waive the next, approve the one after, and so on."""
        found = ACTION.findall(page)
        items = list(dict.fromkeys(item for item, _ in found))
        for item in items[:2]:
            action = "approve" if self.actions.total() % 2 == 0 else "waive"
            before = self.ref_of(item)
            data = {"csrf": csrf_of(page)}
            if action == "waive":
                data["reason"] = "she called me the day before"
            answer = self.console.post(f"{item}/{action}", data=data, follow_redirects=False)
            self.actions[action] += 1
            if answer.status_code != 303:
                self.failures.append(f"POST {item}/{action}: {answer.status_code}")
                continue
            page = self.get("/review")  # where the form leads, with what happened
            after = self.ref_of(item)
            if action == "approve" and after:
                self.approved.add(after)
            elif action == "waive" and before:
                self.waived.add(before)


def delivered(outbox: Path) -> Counter[str]:
    """How many .eml files carry each notice reference."""
    refs: Counter[str] = Counter()
    for path in outbox.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        refs[str(message[REF_HEADER])] += 1
    return refs


def notices(state: Path, refs: set[str]) -> dict[str, tuple[str, str]]:
    """(state, not_before) of each of these notices."""
    db = open_existing(state, read_only=True)
    try:
        rows = db.execute("SELECT ref, state, not_before FROM outbox").fetchall()
    finally:
        db.close()
    return {
        str(r["ref"]): (str(r["state"]), str(r["not_before"])) for r in rows if r["ref"] in refs
    }


def waiting_to_leave(state: Path, refs: set[str]) -> set[str]:
    """The approved notices that are due and not sent yet."""
    now = utc_text(datetime.now(UTC))
    return {ref for ref, (s, due) in notices(state, refs).items() if s != "sent" and due <= now}


def trail(state: Path, refs: set[str]) -> str:
    """What the audit log says of these notices, for a failure's message."""
    db = open_existing(state, read_only=True)
    try:
        rows = db.execute("SELECT at, account, event, detail FROM audit ORDER BY id").fetchall()
        notices = db.execute("SELECT ref, kind, state, not_before, detail FROM outbox").fetchall()
    finally:
        db.close()
    lines = [" ".join(map(str, r)) for r in rows if any(ref in r["detail"] for ref in refs)]
    lines += [" ".join(map(str, r)) for r in notices if r["ref"] in refs]
    return "\n".join(lines)


@pytest.mark.slow
def test_console_and_worker_share_the_database_for_hundreds_of_polls(
    practice: Practice, console: TestClient, tmp_path: Path
) -> None:
    side_by_side_config(practice)
    log = tmp_path / "worker.log"
    env = environment(tmp_path / "worker-home")
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [str(FAIRWARNING), "--config", str(practice.config), "run"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    beats = Heartbeats(practice.state / "heartbeat")
    beats.thread.start()
    calendars = Calendars(practice.folder)
    desk = Desk(console, practice.state)
    began = time.monotonic()
    try:
        while beats.count < POLLS_WANTED and time.monotonic() - began < LONGEST:
            calendars.tick()
            desk.act(desk.get("/review"))
            desk.get("/history")
            desk.get("/")
            assert worker.poll() is None, log.read_text()
        # The last approvals go out at the next poll of their calendar.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not waiting_to_leave(practice.state, desk.approved):
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
        beats.stop.set()
        beats.thread.join()
    ended = datetime.now(UTC)
    said = log.read_text(encoding="utf-8")

    assert code == 0, said
    assert "database is locked" not in said, said
    assert "Traceback" not in said, said
    assert "cycle failed" not in said, said
    assert desk.failures == []
    assert [p for p in desk.problems if "locked" in p or "busy" in p] == []
    assert beats.count >= 200, f"only {beats.count} polls in {time.monotonic() - began:.0f} s"
    assert calendars.declined >= 10
    assert desk.actions["approve"] >= 10, desk.actions
    assert desk.actions["waive"] >= 10, desk.actions
    assert desk.approved
    assert desk.waived

    sent = delivered(practice.outbox)
    assert [ref for ref, n in sent.items() if n > 1] == [], "a notice was sent twice"
    # A note before a session, approved, still waits for its day (48 hours before).
    fates = notices(practice.state, desk.approved)
    later = {ref for ref, (s, due) in fates.items() if s == "queued" and due > utc_text(ended)}
    gone = desk.approved - later
    assert gone, "nothing approved was due yet"
    assert {ref: fates[ref][0] for ref in gone} == dict.fromkeys(gone, "sent"), trail(
        practice.state, gone
    )
    assert {ref: sent[ref] for ref in gone} == dict.fromkeys(gone, 1)
    assert later.isdisjoint(sent), "a notice went out before its time"
    assert desk.waived.isdisjoint(sent), "a waived notice went out"
    assert {fates[ref][0] for ref in desk.waived & set(fates)} <= {"dropped"}
    print(
        f"{beats.count} polls in {time.monotonic() - began:.0f} s; {calendars.declined} late "
        f"cancellations; {desk.actions['approve']} approvals, {desk.actions['waive']} waivers; "
        f"{desk.pages} pages; {len(sent)} notices written ({len(later)} approved still due later)"
    )
