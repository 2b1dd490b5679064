"""A real browser for the notice layout, started once per test session.

Chromium comes from Debian (`make system-deps` installs it when run as root); Playwright only
drives it, so `playwright install` is never needed. A missing browser fails the tests that
need it, with the command that fixes it: the layout is never left unchecked silently.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium, shared by every browser test of the session."""
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
