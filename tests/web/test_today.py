from __future__ import annotations

from starlette.testclient import TestClient

from tests.cli.practice import SAM, Practice
from tests.web.conftest import csrf_of, log_in
from worker.config import Config
from worker.store.db import database_path


def test_today_says_what_needs_the_practitioner(console: TestClient) -> None:
    page = console.get("/")
    assert page.status_code == 200
    assert "Something needs you" in page.text
    assert "waiting for you: cases" in page.text


def test_today_says_when_an_approved_notice_will_leave(
    console: TestClient, practice: Practice
) -> None:
    case = practice.case_of(SAM.client)["id"]
    token = csrf_of(console.get("/review").text)
    console.post(f"/review/{case}/approve", data={"csrf": token})
    page = console.get("/")
    assert "On their way" in page.text
    assert f"to {SAM.client} will" in page.text


def test_before_the_first_cycle_today_says_so(browser_client: TestClient, config: Config) -> None:
    database_path(config.state_dir).unlink()
    log_in(browser_client)
    page = browser_client.get("/")
    assert page.status_code == 200
    assert "no state yet" in page.text
