"""The service loop and its state: a broken database never crashes it, SIGTERM always ends 0.

A database "made read-only while the loop runs" is made immutable with `chattr +i` (the
database and its -wal, not the -shm: SQLite maps that one, and an immutable mapping faults the
process): writes through the worker's open files then fail as on a filesystem remounted
read-only, and reopening finds the file read-only, as after a `chown` to another user.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest

from tests.cli.practice import SAM, environment
from worker.cli import demo

FAIRWARNING = str(Path(sys.executable).with_name("fairwarning"))
NO_DAC = ["--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"]


def _practice(folder: Path, *, calendar: bool = True) -> Path:
    config = demo.write_config(folder)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('state_dir = "state"', 'state_dir = "state"\npoll_interval = "1s"')
    )
    if calendar:
        demo.write_calendar(folder / "calendar", datetime.now(UTC), acted=False)
    return config


def _wait_for(predicate: Callable[[], object], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


class Service:
    """`fairwarning -v --log-format json run` in the background, its log collected."""

    def __init__(self, config: Path, *, prefix: list[str] | None = None, umask: int = -1) -> None:
        self.config = config
        self.state = config.parent / "state"
        self.env = environment(config.parent / "home")
        self.process = subprocess.Popen(
            [
                *(prefix or []),
                FAIRWARNING,
                "--config",
                str(config),
                "-v",
                "--log-format=json",
                "run",
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=self.env,
            umask=umask,
        )

    def status(self, *prefix: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, FAIRWARNING, "--config", str(self.config), "status", "--json"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )

    def beats(self) -> str:
        try:
            return (self.state / "heartbeat").read_text()
        except FileNotFoundError:
            return ""

    def wait_for_a_beat(self) -> None:
        """Until the next step has touched the heartbeat."""
        before = self.beats()
        _wait_for(lambda: self.beats() != before)

    def stop(self) -> tuple[int, list[dict[str, str]]]:
        """SIGTERM; the exit code and every log record."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=60)
        assert "Traceback" not in err, err
        return self.process.returncode, [json.loads(x) for x in err.splitlines() if x[:1] == "{"]


def _messages(log: list[dict[str, str]], level: str) -> list[str]:
    assert all("traceback" not in record for record in log), log
    return [record["message"] for record in log if record["level"] == level.lower()]


@pytest.fixture
def immutable() -> Iterator[Callable[..., None]]:
    """`chattr +i` on files, undone at the end; the test fails (not skips) if it cannot."""
    chattr = shutil.which("chattr")
    if os.geteuid() != 0 or chattr is None:
        pytest.fail("needs root and chattr (CAP_LINUX_IMMUTABLE): run `make test` as root")
    made: list[Path] = []

    def make(*paths: Path, on: bool = True) -> None:
        for path in paths:
            subprocess.run([chattr, "+i" if on else "-i", str(path)], check=True)
            made.append(path)

    yield make
    for path in made:
        subprocess.run([chattr, "-i", str(path)], check=False)


def test_a_database_made_read_only_while_the_loop_runs_is_logged_once_and_recovered(
    tmp_path: Path, immutable: Callable[..., None]
) -> None:
    service = Service(_practice(tmp_path))
    _wait_for(service.beats)
    database = service.state / "fairwarning.sqlite3"
    wal = Path(f"{database}-wal")
    _wait_for(wal.exists)
    try:
        immutable(database, wal)
        fault = service.state / "database-fault"
        _wait_for(fault.exists)
        broken = service.status()
        for _ in range(2):  # it keeps stepping (and beating) through the fault
            service.wait_for_a_beat()
        path = tmp_path / "calendar" / f"{SAM.uid}.ics"
        path.write_text(demo.session_ics(SAM, datetime.now(UTC), acted=True), encoding="utf-8")
    finally:
        immutable(database, wal, on=False)
    _wait_for(lambda: list((tmp_path / "outbox").glob("FW-*.eml")), seconds=60)
    code, log = service.stop()

    assert broken.returncode == 2
    said = json.loads(broken.stdout)["fault"]["message"]
    assert said.startswith(f"the state database {database} is read-only")
    assert "chown/chmod the database and its -wal and -shm files" in said
    assert _messages(log, "ERROR") == [said], "logged once, however often it was retried"
    assert len([m for m in _messages(log, "DEBUG") if "database unusable; next" in m]) >= 2
    assert f"the state database {database} works again" in _messages(log, "INFO")
    assert not fault.exists(), "status must stop reporting a fault once it is gone"
    assert code == 0
    [alert] = [  # the practitioner is told once, though nothing could be recorded
        message_from_bytes(p.read_bytes(), policy=email_policy.default)
        for p in (tmp_path / "outbox").glob("ALERT-*.eml")
    ]
    assert alert["Subject"] == "Fair Warning has stopped: its database needs you"
    assert " ".join(said.split()) in " ".join(str(alert.get_body().get_content()).split())
    assert "told the practitioner about it through account main's mailbox" in _messages(log, "INFO")


def test_a_database_unusable_at_start_is_retried_not_a_crash_loop(tmp_path: Path) -> None:
    config = _practice(tmp_path)
    prefix = [shutil.which("setpriv") or "setpriv", *NO_DAC] if os.geteuid() == 0 else []
    env = environment(tmp_path / "home")
    first = subprocess.run(
        [FAIRWARNING, "--config", str(config), "run", "--once"], env=env, check=False
    )
    assert first.returncode == 0
    database = tmp_path / "state" / "fairwarning.sqlite3"
    database.chmod(0o400)
    service = Service(config, prefix=prefix)
    fault = tmp_path / "state" / "database-fault"
    _wait_for(fault.exists)
    time.sleep(3)  # a retry or two
    assert service.process.poll() is None, "the service gave up instead of waiting"
    broken = service.status(*prefix)
    for path in database.parent.glob("fairwarning.sqlite3*"):  # the fix the message gives
        path.chmod(0o600)
    _wait_for(lambda: not fault.exists())
    code, log = service.stop()

    assert broken.returncode == 2
    (error,) = _messages(log, "ERROR")
    assert error.startswith(f"the state database {database} is read-only")
    assert any(m.startswith("watching 1 account(s)") for m in _messages(log, "INFO"))
    assert code == 0


def test_sigterm_while_an_account_keeps_failing_still_exits_0(tmp_path: Path) -> None:
    service = Service(_practice(tmp_path, calendar=False))  # its calendar folder is missing
    _wait_for(service.beats)

    code, log = service.stop()

    failures = [m for m in _messages(log, "WARNING") if "calendar path" in m]
    assert failures, "the account was not failing: the test would prove nothing"
    assert log[-1]["message"] == "stopped"
    assert code == 0, "systemd would record a deliberate stop as a failure"


def test_the_state_is_private_whatever_the_umask(tmp_path: Path) -> None:
    service = Service(_practice(tmp_path), umask=0o022)
    _wait_for(service.beats)
    state = service.state
    database = state / "fairwarning.sqlite3"
    _wait_for(Path(f"{database}-shm").exists)
    modes = {
        path.name: oct(path.stat().st_mode & 0o777)
        for path in [state, *state.iterdir()]
        if not path.name.startswith(".")
    }
    code, _ = service.stop()

    assert modes == {
        "state": "0o700",
        "fairwarning.sqlite3": "0o600",
        "fairwarning.sqlite3-wal": "0o600",
        "fairwarning.sqlite3-shm": "0o600",
        "heartbeat": "0o600",
        "worker.lock": "0o600",
    }
    assert code == 0


def test_status_reads_the_heartbeat_when_tokens_are_encrypted(tmp_path: Path) -> None:
    config = _practice(tmp_path)
    env = environment(tmp_path / "home")
    key = subprocess.run(
        [FAIRWARNING, "service", "new-key"], env=env, capture_output=True, text=True, check=True
    )
    env["FAIRWARNING_KEY"] = key.stdout.split()[0]
    command = [FAIRWARNING, "--config", str(config)]
    assert subprocess.run([*command, "run", "--once"], env=env, check=False).returncode == 0

    done = subprocess.run(
        [*command, "status", "--json"], env=env, capture_output=True, text=True, check=False
    )

    assert json.loads(done.stdout)["not_running"] is False, done.stdout
    assert done.returncode == 0, done.stdout
