"""Fixtures shared by the scenario tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.practice import Practice
from tests.servers.imap import ImapServer, start_imap, stop_imap
from tests.servers.postgres import PostgresServer, start_postgres, stop_postgres
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL cluster for the whole test session; a missing PostgreSQL fails the
    tests that need it, with the command that installs it (never a skip)."""
    try:
        server, process = start_postgres()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        stop_postgres(server, process)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def imap_server_once() -> Iterator[ImapServer]:
    """One real IMAP server (Dovecot) for the whole test session."""
    server, process = start_imap()
    try:
        yield server
    finally:
        stop_imap(process, server)


@pytest.fixture
def imap_server(imap_server_once: ImapServer) -> ImapServer:
    """The session's IMAP server with an empty mailbox."""
    imap_server_once.reset()
    return imap_server_once


# One Playwright per session: its sync API cannot run twice at once in one thread, so the
# notice layout and the console share this browser.
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium from Debian, shared by every browser test of the session; a
    missing browser fails the tests that need it, with the command that fixes it."""
    executable = shutil.which("chromium") or CHROMIUM
    if not shutil.which(executable):
        pytest.fail(
            "Chromium is not installed, and the notice layout must be checked in a real "
            "browser: run `make system-deps` as root (it runs apt-get install -y chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: run `.venv/bin/pip install -e '.[test]'`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            browser.close()
