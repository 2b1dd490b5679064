"""Fixtures shared by the scenario tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.practice import Practice
from tests.servers.radicale import RadicaleServer, start_radicale, stop_radicale
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


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """One real CalDAV server (Radicale, htpasswd login) for the whole test session."""
    server, process = start_radicale(tmp_path_factory.mktemp("radicale"))
    try:
        yield server
    finally:
        stop_radicale(process)
