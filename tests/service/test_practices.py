"""`fairwarning --practices DIR run` as a service: each practice served, SIGHUP rereads."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.folder import add_practice, fix
from tests.cli.practice import FAIRWARNING, SAM, environment, runner
from tests.cli.test_state_faults import assert_really_read_only, unprivileged
from worker.config import Config
from worker.service.practices import Deployment

FAST = 'poll_interval = "1s"\n'


def _wait_for(predicate, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _beating(heartbeat: Path) -> bool:
    """The heartbeat has been touched, and touched again since."""
    if not heartbeat.exists():
        return False
    first = heartbeat.read_text()
    _wait_for(lambda: heartbeat.read_text() != first)
    return True


def test_sighup_starts_new_and_fixed_practices_and_stops_removed_ones(tmp_path: Path) -> None:
    folder = tmp_path / "practices"
    folder.mkdir()
    env = environment(tmp_path / "home")
    now = datetime.now(UTC)
    run = runner(env)
    dana = add_practice(folder, "dana", now, run, top=FAST)
    leaving = add_practice(folder, "leaving", now, run, top=FAST)
    broken = add_practice(folder, "broken", now, run, top=FAST, broken=True)
    process = subprocess.Popen(
        [FAIRWARNING, "--practices", folder, "--log-format", "json", "run"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        _wait_for(lambda: _beating(dana.state / "heartbeat"))
        _wait_for(lambda: _beating(leaving.state / "heartbeat"))
        assert not broken.state.exists(), "a broken practice is skipped"
        eli = add_practice(folder, "eli", now, run, top=FAST)
        fix(folder, "broken")
        (folder / "leaving.toml").unlink()
        dana.client_acts(SAM)  # proves dana's loop goes on through the reread
        before = run("--practices", folder, "status")
        assert before.returncode == 1, before.stdout + before.stderr
        assert "practice broken: ok now" in before.stdout
        assert "send it SIGHUP" in before.stdout

        process.send_signal(signal.SIGHUP)

        _wait_for(lambda: _beating(eli.state / "heartbeat"))
        _wait_for(lambda: _beating(broken.state / "heartbeat"))
        _wait_for(lambda: len(dana.notices()) == 1)
        left = (leaving.state / "heartbeat").read_text()
        time.sleep(2.5)
        assert (leaving.state / "heartbeat").read_text() == left, "a removed practice stops"
        after = run("--practices", folder, "status")
        assert after.returncode == 0, after.stdout + after.stderr
        assert f"practice broken: ok ({folder / 'broken.toml'})" in after.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert process.returncode == 0, err
    assert messages[-1] == "stopped"
    skipped = [m for m in messages if m.startswith("practice broken skipped: ")]
    assert len(skipped) == 1
    assert str(folder / "broken.toml") in skipped[0]
    assert "practice leaving: its file is gone" in " ".join(messages)
    for name in ("dana", "eli", "broken", "leaving"):
        assert f"practice {name}: stopped" in messages
    assert "practice dana: configuration and templates reloaded" in " ".join(messages)
    assert not any(line["level"] == "error" and "dana" in line["message"] for line in lines)


def test_a_practice_whose_database_cannot_open_never_stops_the_served_others(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "practices"
    folder.mkdir()
    env = environment(tmp_path / "home")
    now = datetime.now(UTC)
    run = runner(env)
    dana = add_practice(folder, "dana", now, run, top=FAST)
    eli = add_practice(folder, "eli", now, run, top=FAST)
    assert run("--practices", folder, "run", "--once").returncode == 0
    dana.database.chmod(0o400)
    assert_really_read_only(dana.database)
    dana.client_acts(SAM)
    eli.client_acts(SAM)
    process = subprocess.Popen(
        [*unprivileged(), FAIRWARNING, "--practices", folder, "--log-format", "json", "run"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        _wait_for(lambda: len(eli.notices()) == 1)
        _wait_for((dana.state / "database-fault").exists)
        _wait_for(lambda: _beating(eli.state / "heartbeat"))
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert dana.notices() == {}
    messages = [json.loads(line)["message"] for line in err.splitlines() if line.startswith("{")]
    assert any(m.startswith("practice dana: ") and "read-only" in m for m in messages), messages


def test_a_practices_folder_gone_while_serving_is_logged_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deployment = Deployment(tmp_path / "gone", clock=lambda: datetime.now(UTC), show_for=_quiet)

    with caplog.at_level(logging.ERROR, logger="fairwarning"):
        deployment.look()  # what SIGHUP does

    assert deployment.served == {}
    assert f"cannot read the practices: no practices folder at {tmp_path / 'gone'}" in caplog.text


def _quiet(name: str, config: Config) -> None:
    return None
