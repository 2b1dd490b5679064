"""Fixtures for the Google connector: a running fake Google, a token file, a test clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.google import GmailSender, GoogleCalendar
from connectors.google.http import Backoff
from tests.connectors.google.fake_google import PRACTITIONER, FakeGoogle
from tests.practice import Clock
from worker.private_files import write_private


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeGoogle]:
    with FakeGoogle(clock).running() as google:
        yield google


@pytest.fixture
def token_path(tmp_path: Path, fake: FakeGoogle) -> Path:
    path = tmp_path / "state" / "tokens" / "main.google.json"
    write_private(path, json.dumps(fake.grant()).encode())
    return path


@pytest.fixture
def sleeps() -> list[float]:
    """How long each retry of a read waited (nothing really sleeps in these tests)."""
    return []


@pytest.fixture
def make_calendar(
    fake: FakeGoogle, token_path: Path, clock: Clock, sleeps: list[float]
) -> Callable[..., GoogleCalendar]:
    def make(**overrides: object) -> GoogleCalendar:
        settings: dict[str, object] = {
            "account": "main",
            "token_path": token_path,
            "practitioner_email": PRACTITIONER,
            "time_zone": "Europe/London",
            "api_endpoint": fake.url,
            "clock": clock,
            "timeout": 2.0,
            "backoff": Backoff(attempts=3, first_wait=0.01, max_wait=30.0, sleep=sleeps.append),
            **overrides,
        }
        return GoogleCalendar(**settings)  # type: ignore[arg-type]

    return make


@pytest.fixture
def calendar(make_calendar: Callable[..., GoogleCalendar]) -> GoogleCalendar:
    return make_calendar()


@pytest.fixture
def sender(fake: FakeGoogle, token_path: Path, clock: Clock) -> GmailSender:
    return GmailSender(
        account="main", token_path=token_path, api_endpoint=fake.url, clock=clock, timeout=1.0
    )
