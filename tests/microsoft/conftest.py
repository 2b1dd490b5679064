"""Fixtures for the Microsoft connector tests: no request can reach Microsoft."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from connectors.microsoft import sign_in
from tests.microsoft.helpers import CLIENT_ID, LOGIN_HOST, FakeLogin


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
    sign_in(
        account="main",
        tokens_dir=tokens_dir,
        client_id=CLIENT_ID,
        authority="consumers",
        authority_host=LOGIN_HOST,
        say=lambda line: None,
    )
    login.token_requests.clear()
    return tokens_dir
