"""Fixtures for the Microsoft connector tests: no request can reach Microsoft."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from tests.connectors.microsoft.helpers import FakeLogin, sign_in_main


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """Every HTTP request of the test; an unregistered one fails as a connection error."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def login(mocked: responses.RequestsMock) -> FakeLogin:
    return FakeLogin(mocked)


@pytest.fixture
def tokens_dir(tmp_path: Path) -> Path:
    return tmp_path / "state" / "tokens"


@pytest.fixture
def signed_in(login: FakeLogin, tokens_dir: Path) -> Path:
    """The tokens folder after `fairwarning auth microsoft --account main` succeeded."""
    sign_in_main(tokens_dir)
    login.token_requests.clear()
    return tokens_dir
