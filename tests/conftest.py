"""Fixtures shared by the scenario tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.practice import Practice
from tests.servers.smtp import SmtpServer, start_smtp


@pytest.fixture
def practice(tmp_path: Path) -> Practice:
    """A practitioner with a memory calendar and mailbox, in automatic mode, 10 min undo."""
    return Practice(tmp_path)


@pytest.fixture(scope="session")
def smtp_server_once() -> Iterator[SmtpServer]:
    """One real SMTP server (STARTTLS, AUTH) for the whole test session."""
    server, controller = start_smtp()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_server_once: SmtpServer) -> SmtpServer:
    """The session's SMTP server, emptied and answering normally."""
    smtp_server_once.reset()
    return smtp_server_once
