"""Fixtures for the CLI tests: the environment, the script, and Dana's baselined practice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.practice import Practice, Run, environment, runner
from worker.cli.demo import SESSIONS, write_calendar, write_config


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment with HOME and the XDG folders inside tmp_path."""
    return environment(tmp_path / "home")


@pytest.fixture
def fairwarning(env: dict[str, str]) -> Run:
    """Runs the installed script with these arguments; returns the finished process."""
    return runner(env)


@pytest.fixture
def practice(tmp_path: Path, fairwarning: Run) -> Practice:
    """The demo practice after its silent first look: every session still accepted."""
    folder = tmp_path / "practice"
    now = datetime.now(UTC)
    write_config(folder)
    write_calendar(folder / "calendar", now, acted=False)
    made = Practice(folder, now, fairwarning)
    first = made.cycle()
    assert "baseline" in first.stdout
    on_the_calendar = [s for s in SESSIONS if s.action != "book"]
    assert f"{len(on_the_calendar)} sessions" in first.stdout
    assert made.notices() == {}, "the first look at a calendar must send nothing"
    return made
