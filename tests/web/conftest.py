"""Dana's practice in review mode, with cases waiting, and a console over it.

The practice is built once per test session through the real `fairwarning` script (baseline
look, then four clients act, then a cycle), and copied for every test, so each test may
approve and waive without touching another's.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.cli.practice import ALEX, LUCIA, PRIYA, SAM, Practice, environment, runner
from worker.cli.demo import write_calendar, write_config
from worker.config import Config, load_config
from worker.web.app import build_console
from worker.web.keys import set_password

PASSWORD = "correct horse battery staple"


def review_mode(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('mode = "auto"', 'mode = "review"'), encoding="utf-8")


@pytest.fixture(scope="session")
def waiting_practice(tmp_path_factory: pytest.TempPathFactory) -> Practice:
    """Review mode after Sam, Priya, Lucia decline late and Dana deletes Alex's session."""
    base = tmp_path_factory.mktemp("web-practice")
    folder = base / "practice"
    now = datetime.now(UTC)
    review_mode(write_config(folder))
    write_calendar(folder / "calendar", now, acted=False)
    made = Practice(folder, now, runner(environment(base / "home")))
    made.cycle(expect=1)  # in review mode, even session reminders wait for Dana
    for who in (SAM, PRIYA, ALEX, LUCIA):
        made.client_acts(who)
    made.cycle(expect=1)
    return made


@pytest.fixture
def practice(waiting_practice: Practice, tmp_path: Path) -> Practice:
    """A private copy of the waiting practice for this test."""
    folder = tmp_path / "practice"
    shutil.copytree(waiting_practice.folder, folder)
    run = runner(environment(tmp_path / "home"))
    return Practice(folder, waiting_practice.now, run)


@pytest.fixture
def config(practice: Practice) -> Config:
    set_password(practice.state, PASSWORD)
    loaded, _ = load_config(practice.config)
    return loaded


@pytest.fixture
def browser_client(config: Config) -> Iterator[TestClient]:
    """A client with no session yet."""
    app = build_console(config, clock=lambda: datetime.now(UTC))
    with TestClient(app, base_url="http://127.0.0.1:8465") as client:
        yield client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client: TestClient, password: str = PASSWORD) -> None:
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


@pytest.fixture
def console(browser_client: TestClient) -> TestClient:
    """A client logged in to the console."""
    log_in(browser_client)
    return browser_client
