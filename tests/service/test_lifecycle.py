"""`fairwarning run` as the service it is: signals, reload, heartbeat, backoff."""

from __future__ import annotations

import json
import logging
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from worker.cli import demo
from worker.service.lifecycle import LONGEST_BACKOFF, Schedule
from worker.service.logs import JsonLines

FAIRWARNING = str(Path(sys.executable).with_name("fairwarning"))


def _practice(tmp_path: Path) -> Path:
    config = demo.write_config(tmp_path)
    text = config.read_text(encoding="utf-8").replace(
        'state_dir = "state"', 'state_dir = "state"\npoll_interval = "1s"'
    )
    config.write_text(text, encoding="utf-8")
    demo.write_calendar(tmp_path / "calendar", datetime.now(UTC), acted=False)
    return config


def _start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [FAIRWARNING, "--config", str(config), "--log-format", "json", "run"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def _wait_for(predicate, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _log(process: subprocess.Popen[str]) -> list[dict[str, str]]:
    _, err = process.communicate(timeout=20)
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_sigterm_finishes_the_step_and_exits_cleanly(tmp_path: Path) -> None:
    config = _practice(tmp_path)
    process = _start(config)
    heartbeat = tmp_path / "state" / "heartbeat"
    _wait_for(heartbeat.exists)
    first = heartbeat.read_text()
    _wait_for(lambda: heartbeat.read_text() != first)
    process.send_signal(signal.SIGTERM)
    lines = _log(process)
    assert process.returncode == 0
    assert lines[-1]["message"] == "stopped"
    assert datetime.fromisoformat(heartbeat.read_text().strip()) > datetime.now(UTC) - timedelta(
        seconds=30
    )
    assert heartbeat.stat().st_mode & 0o077 == 0


def test_sighup_with_a_broken_config_keeps_the_running_one(tmp_path: Path) -> None:
    config = _practice(tmp_path)
    process = _start(config)
    heartbeat = tmp_path / "state" / "heartbeat"
    _wait_for(heartbeat.exists)
    good = config.read_text(encoding="utf-8")
    config.write_text(good.replace('late_window = "24h"', 'late_window = "soon"'))
    process.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    config.write_text(good)
    process.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    beat = heartbeat.read_text()
    _wait_for(lambda: heartbeat.read_text() != beat)
    process.send_signal(signal.SIGTERM)
    messages = [line["message"] for line in _log(process)]
    assert process.returncode == 0
    refused = [m for m in messages if m.startswith("reload refused")]
    assert len(refused) == 1
    assert "policy.late_window" in refused[0]
    assert any(m.startswith("configuration and templates reloaded") for m in messages)


def test_a_second_worker_on_the_same_state_is_refused(tmp_path: Path) -> None:
    config = _practice(tmp_path)
    process = _start(config)
    try:
        _wait_for((tmp_path / "state" / "heartbeat").exists)
        second = subprocess.run(
            [FAIRWARNING, "--config", str(config), "run", "--once"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert "already running" in second.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_a_failing_account_backs_off_exponentially_and_recovers_at_once() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    schedule = Schedule(timedelta(seconds=60), rng=random.Random(7))
    schedule.start(["main", "other"], now)
    waits = []
    for _ in range(8):
        waits.append((schedule.record("main", False, now) - now).total_seconds())
    assert 108 <= waits[0] <= 120
    assert 216 <= waits[1] <= 240
    assert max(waits) <= LONGEST_BACKOFF.total_seconds()
    assert schedule.due["other"] == now, "one account's failures never delay another"
    assert 54 <= (schedule.record("main", True, now) - now).total_seconds() <= 60


def test_an_account_is_polled_again_within_the_interval_never_later() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    schedule = Schedule(timedelta(seconds=60), rng=random.Random(11))
    schedule.start(["main"], now)
    waits = [(schedule.record("main", True, now) - now).total_seconds() for _ in range(500)]
    assert max(waits) <= 60, "a late poll would stretch the time to notice a cancellation"
    assert min(waits) >= 54
    assert max(waits) - min(waits) > 4, "spread apart, so that many accounts do not stampede"


def test_json_log_lines_carry_the_traceback() -> None:
    try:
        raise ValueError("calendar payload was a string")
    except ValueError:
        record = logging.LogRecord(
            "fairwarning", logging.ERROR, __file__, 1, "boom %s", ("x",), sys.exc_info()
        )
    entry = json.loads(JsonLines().format(record))
    assert entry["message"] == "boom x"
    assert "calendar payload was a string" in entry["traceback"]
