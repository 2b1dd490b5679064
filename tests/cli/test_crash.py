"""The crash test: kill the worker at random moments while it sends, and no notice goes twice.

Twelve clients each decline a session inside the 24 h late window. The real `fairwarning`
script runs one cycle and is killed with SIGKILL after a random delay (power cut, OOM kill),
then runs again to completion. Whatever phase the kill hit — start-up, sync, queueing,
between committing `sending` and writing the .eml, between writing it and recording `sent` —
no .eml is ever written twice, and every notice ends `sent` (with its .eml) or `unknown`
(for the practitioner to check), never stuck `queued` or `sending`.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest

from worker.cli.demo import DemoSession, session_ics, write_config

pytestmark = pytest.mark.slow

FAIRWARNING = Path(sys.executable).with_name("fairwarning")
LANES = 2
KILLS_PER_LANE = 25
ATTEMPTS_PER_SCENARIO = 5  # a fresh calendar and baseline this often
SEED = 20261123
REF_HEADER = "X-Fair-Warning-Ref"

CLIENTS = tuple(
    DemoSession(
        uid=f"client{n:02d}-1",
        title=f"Coaching: Client {n:02d}",
        client=f"client{n:02d}@example.org",
        client_name=f"Client {n:02d}",
        starts_in=timedelta(hours=2 + n),
        action="decline",
        acted_ago=timedelta(minutes=30),
    )
    for n in range(12)
)


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "FAIRWARNING"))}
    env["HOME"] = str(home)
    for variable, folder in [
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
    ]:
        env[variable] = str(home / folder)
    return env


@dataclass(frozen=True)
class Practice:
    """A folder holding config.toml, calendar/, state/ and (once something is sent) outbox/."""

    folder: Path
    now: datetime
    env: dict[str, str]

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"

    def command(self) -> list[str]:
        return [str(FAIRWARNING), "--config", str(self.config), "run", "--once"]

    def run_once(self, *, after_a_kill: bool = False) -> float:
        """One uninterrupted cycle; returns how long it took.

        After a kill it may find a notice left `sending`: that one becomes `unknown` and the
        cycle exits 1 (it needs the practitioner), naming it.
        """
        began = time.monotonic()
        done = subprocess.run(
            self.command(), env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        if after_a_kill and done.returncode == 1:
            assert "needs you: notice FW-" in done.stdout, done.stdout + done.stderr
            assert "is unknown: the worker stopped while sending it" in done.stdout
        else:
            assert done.returncode == 0, done.stdout + done.stderr
        return time.monotonic() - began

    def clients_decline(self) -> None:
        for session in CLIENTS:
            path = self.folder / "calendar" / f"{session.uid}.ics"
            path.write_text(session_ics(session, self.now, acted=True), encoding="utf-8")

    def copy_to(self, folder: Path) -> Practice:
        """The same practice in a fresh folder (every path in the config is relative)."""
        shutil.copytree(self.folder, folder)
        return Practice(folder, self.now, self.env)


def baselined_practice(folder: Path, env: dict[str, str]) -> Practice:
    """Config (auto, no hold, file sender), twelve accepted sessions, and the silent first look."""
    now = datetime.now(UTC)
    write_config(folder)
    calendar = folder / "calendar"
    calendar.mkdir()
    for session in CLIENTS:
        path = calendar / f"{session.uid}.ics"
        path.write_text(session_ics(session, now, acted=False), encoding="utf-8")
    practice = Practice(folder, now, env)
    practice.run_once()
    assert not practice.outbox.exists(), "the baseline must send nothing"
    return practice


def ref_of(eml: Path) -> str:
    return str(message_from_bytes(eml.read_bytes(), policy=email_policy.default)[REF_HEADER])


def refs_on_disk(outbox: Path) -> collections.Counter[str]:
    """How many .eml files carry each X-Fair-Warning-Ref (the sender suffixes, never replaces)."""
    if not outbox.exists():
        return collections.Counter()
    # Alerts to the practitioner (an `unknown` send is reported) share the folder.
    refs = (ref_of(path) for path in outbox.glob("*.eml"))
    return collections.Counter(ref for ref in refs if not ref.startswith("ALERT-"))


def notices(practice: Practice) -> list[sqlite3.Row]:
    db = sqlite3.connect(practice.folder / "state" / "fairwarning.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return db.execute(
            "SELECT d.id AS case_id, d.client_email, d.verdict, o.ref, o.state, o.written_to"
            " FROM decisions d LEFT JOIN outbox o ON o.decision_id = d.id"
            " WHERE d.verdict IN ('reminder', 'forfeit') ORDER BY d.client_email"
        ).fetchall()
    finally:
        db.close()


def kill_after(practice: Practice, delay: float) -> int | None:
    """Start one cycle and SIGKILL it after `delay` s; None if it finished first."""
    process = subprocess.Popen(
        practice.command(),
        env=practice.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return None
    return process.returncode


def phase_of(practice: Practice) -> str:
    """Where the kill landed, judged from what it left behind."""
    states = collections.Counter(row["state"] for row in notices(practice))
    written = sum(refs_on_disk(practice.outbox).values())
    if not states:
        return "before the decisions were committed"
    if states.get("sending"):
        return "mid-send (a row left in sending)"
    if written == 0:
        return "after queueing, before any send"
    if written < len(CLIENTS):
        return "between two sends"
    return "after the last send"


def assert_each_notice_once(practice: Practice) -> None:
    on_disk = refs_on_disk(practice.outbox)
    twice = {ref: n for ref, n in on_disk.items() if n > 1}
    assert not twice, f"{practice.folder}: notices written more than once: {twice}"
    rows = notices(practice)
    assert sorted(r["client_email"] for r in rows) == sorted(c.client for c in CLIENTS)
    assert {r["verdict"] for r in rows} == {"reminder"}
    stuck = {r["ref"]: r["state"] for r in rows if r["state"] not in ("sent", "unknown")}
    assert not stuck, f"{practice.folder}: notices left unfinished after a clean run: {stuck}"
    for row in rows:
        if row["state"] == "sent":
            written = Path(row["written_to"])
            assert written.exists(), f"{practice.folder}: {row['ref']} is sent but has no .eml"
            assert ref_of(written) == row["ref"]
            assert on_disk[row["ref"]] == 1
    strangers = set(on_disk) - {r["ref"] for r in rows}
    assert not strangers, f"{practice.folder}: .eml files with no outbox row: {strangers}"


def assert_practitioner_is_asked(practice: Practice, cases: list[int]) -> None:
    """A notice whose fate is unknown waits for the practitioner: `status` exits 1 naming it."""
    done = subprocess.run(
        [str(FAIRWARNING), "--config", str(practice.config), "status", "--json"],
        env=practice.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert set(cases) <= set(report["waiting_for_you"])
    assert report["notices"]["unknown"] == len(cases)


@dataclass
class Tally:
    """What one lane of kills saw."""

    kills: int = 0
    phases: collections.Counter[str] = field(default_factory=collections.Counter)
    unknown: int = 0
    leftovers: int = 0


def kill_lane(root: Path, env: dict[str, str], seed: int) -> Tally:
    """Kill cycles at random moments until KILLS_PER_LANE kills landed; check after each."""
    randomness = random.Random(seed)
    template = baselined_practice(root / "template-0", env)
    reference = template.copy_to(root / "reference")
    reference.clients_decline()
    typical = reference.run_once()
    assert sum(refs_on_disk(reference.outbox).values()) == len(CLIENTS)
    assert {r["state"] for r in notices(reference)} == {"sent"}
    idle = reference.run_once()
    assert sum(refs_on_disk(reference.outbox).values()) == len(CLIENTS), "a rerun sent again"
    print(
        f"\n{root.name}: a cycle sending 12 notices took {typical:.2f} s, an idle one {idle:.2f} s"
    )

    tally = Tally()
    for attempt in range(2 * KILLS_PER_LANE):
        if tally.kills == KILLS_PER_LANE:
            break
        if attempt and attempt % ATTEMPTS_PER_SCENARIO == 0:
            template = baselined_practice(root / f"template-{attempt}", env)
        practice = template.copy_to(root / f"attempt-{attempt}")
        practice.clients_decline()

        # Every other kill aims at the part of the cycle an idle one lacks: judging and sending.
        earliest = idle if attempt % 2 else 0.0
        finished = kill_after(practice, randomness.uniform(earliest, typical))
        assert finished in (None, 0), f"{practice.folder}: the cycle failed on its own"
        if finished is None:
            tally.kills += 1
            tally.phases[phase_of(practice)] += 1
        else:  # cycles run faster now (the other lane is idle, say): aim a little earlier
            typical, idle = 0.9 * typical, 0.9 * idle
        practice.run_once(after_a_kill=True)
        if practice.outbox.exists():
            tally.leftovers += len(list(practice.outbox.glob(".notice-*")))

        assert_each_notice_once(practice)
        unknown = [r["case_id"] for r in notices(practice) if r["state"] == "unknown"]
        if unknown:
            assert_practitioner_is_asked(practice, unknown)
        tally.unknown += len(unknown)
    return tally


@pytest.mark.timeout(300)
def test_killing_the_worker_at_random_moments_never_sends_a_notice_twice(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path / "home")
    # Two independent lanes, one per core; each calibrates its delays under the same load.
    with concurrent.futures.ThreadPoolExecutor(max_workers=LANES) as pool:
        lanes = [
            pool.submit(kill_lane, tmp_path / f"lane-{n}", env, SEED + n) for n in range(LANES)
        ]
        tallies = [lane.result() for lane in lanes]

    kills = sum(t.kills for t in tallies)
    phases = sum((t.phases for t in tallies), collections.Counter[str]())
    print(
        f"{kills} kills landed: {dict(phases)}; unknown: {sum(t.unknown for t in tallies)}; "
        f"leftover temporary files: {sum(t.leftovers for t in tallies)}"
    )
    assert kills == LANES * KILLS_PER_LANE
    before = phases["before the decisions were committed"]
    assert before < kills, "no kill landed while notices were being judged or sent"
