from __future__ import annotations

from starlette.testclient import TestClient


def test_today_says_what_needs_the_practitioner(console: TestClient) -> None:
    page = console.get("/")
    assert page.status_code == 200
    assert "Something needs you" in page.text
    assert "waiting for you: cases" in page.text
