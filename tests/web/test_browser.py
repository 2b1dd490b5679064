"""Dana uses her console in a real browser, at her desk and on her phone.

The console is the real `fairwarning web` on 127.0.0.1 over a copy of her practice in review
mode; Chromium comes from Debian and Playwright only drives it. Every page visited is checked
for sideways scrolling and for console errors (a CSP violation is one), and kept as a
screenshot under test-artifacts/console/{desktop,phone}/ for CI to keep.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.cli.practice import PRIYA, SAM, Practice, environment
from tests.servers.console import running_console
from tests.web.conftest import PASSWORD
from tests.web.hostile import SCRIPT, make_hostile
from worker.web.keys import set_password

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 375, "height": 812},
}
TEMPLATES_DIR = "my-notices"
EDITOR = "/notices/reminder/en"


@pytest.fixture(scope="session")
def browser(chromium: Browser) -> Browser:
    """The session's one headless Chromium (tests/conftest.py)."""
    return chromium


@pytest.fixture(params=list(VIEWPORTS))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def start_console(practice: Practice, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Starts `fairwarning web` over the practice (with a templates folder) when called."""
    text = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(f'templates_dir = "{TEMPLATES_DIR}"\n{text}', encoding="utf-8")
    # An empty folder, as the worker wants it to exist; every notice is still the packaged one.
    (practice.folder / TEMPLATES_DIR).mkdir()
    set_password(practice.state, PASSWORD)
    with ExitStack() as running:

        def start() -> str:
            env = environment(tmp_path / "home")
            return running.enter_context(running_console(practice, env))

        yield start


@dataclass
class Screen:
    """A browser tab at one size, and what went wrong in it."""

    page: Page
    size: str
    address: str = ""
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # console errors a test asks for

    def visit(self, path: str, name: str) -> None:
        answer = self.page.goto(self.address + path)
        assert answer is not None, path
        assert answer.status == 200, f"{path}: {answer.status}"
        self.looks_right(name)

    def looks_right(self, name: str) -> None:
        """No sideways scrolling; a full-page screenshot kept as `name`."""
        self.page.wait_for_load_state("load")
        previews = self.page.locator("iframe:visible")
        for index in range(previews.count()):
            expect(previews.nth(index).content_frame.locator("body")).not_to_be_empty()
        wide, inner = self.page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        self.keep(name)
        assert wide <= inner, f"{name} ({self.page.url}) scrolls sideways: {wide} > {inner} px"

    def keep(self, name: str) -> None:
        """The whole page as a screenshot, taken in a window as tall as the page: Chromium's
        full-page capture leaves the notice previews blank once they are below the fold."""
        size = VIEWPORTS[self.size]
        tall = self.page.evaluate("document.documentElement.scrollHeight")
        self.page.set_viewport_size({"width": size["width"], "height": max(tall, size["height"])})
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        self.page.screenshot(path=ARTIFACTS / self.size / f"{name}.png")
        self.page.set_viewport_size(size)

    def log_in_to(self, address: str) -> None:
        """Dana's console at `address`, logged in (the login page is the tour's to check)."""
        self.address = address
        self.page.goto(f"{address}/login")
        self.log_in()

    def log_in(self) -> None:
        self.page.locator("#password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("navigation", name="Pages")).to_be_visible()


@pytest.fixture
def screen(browser: Browser, size: str) -> Iterator[Screen]:
    """A fresh tab (its own cookies) at `size`; no console error or dialog may happen in it."""
    (ARTIFACTS / size).mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    shown = Screen(page, size)

    def on_console(message: Any) -> None:
        where = str(message.location.get("url", ""))
        if message.type != "error":
            return
        if not any(expected in message.text for expected in shown.expected):
            shown.errors.append(f"console: {message.text} ({where})")

    def on_dialog(dialog: Any) -> None:
        shown.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: shown.errors.append(f"page error: {error}"))
    page.on("dialog", on_dialog)
    try:
        yield shown
    finally:
        context.close()
    assert not shown.errors, "\n".join(shown.errors)
    assert not shown.dialogs, f"script ran and opened dialogs: {shown.dialogs}"


def case_of(practice: Practice, client: str) -> int:
    """The client's case number, read straight from the state (no CLI start: it is quick)."""
    with closing(sqlite3.connect(f"file:{practice.database}?mode=ro", uri=True)) as db:
        (found,) = db.execute("SELECT id FROM decisions WHERE client_email = ?", (client,))
    return int(found[0])


@pytest.fixture
def console(screen: Screen, start_console: Callable[[], str]) -> Screen:
    """Dana, logged in."""
    screen.log_in_to(start_console())
    return screen


def test_she_logs_in_and_every_page_fits_the_screen_without_errors(
    screen: Screen, practice: Practice, start_console: Callable[[], str]
) -> None:
    screen.address = start_console()
    screen.visit("/", "login")
    assert screen.page.url.startswith(f"{screen.address}/login"), "no session: the login page"
    # A wrong password is answered 401, which Chromium logs as a failed load: that one is meant.
    screen.expected.append("the server responded with a status of 401 (Unauthorized)")
    screen.page.locator("#password").fill("incorrect horse")
    screen.page.get_by_role("button", name="Log in").click()
    expect(screen.page.get_by_role("alert")).to_contain_text("That password is not right.")
    screen.looks_right("login-wrong")
    screen.expected.clear()
    screen.log_in()
    assert screen.page.url == f"{screen.address}/"
    expect(screen.page.get_by_role("alert")).to_have_count(0)

    pages = {
        "today": "/",
        "review": "/review",
        "case": f"/review/{case_of(practice, SAM.client)}",
        "clients": "/clients",
        "client": f"/clients/{quote(SAM.client)}",
        "notices": "/notices",
        "editor": EDITOR,
        "history": "/history",
        "settings": "/settings",
    }
    for name, path in pages.items():
        screen.visit(path, name)
        expect(screen.page.get_by_role("heading").first).to_be_visible()


def test_approving_sams_case_sends_the_notice_the_page_showed(
    console: Screen, practice: Practice
) -> None:
    case = case_of(practice, SAM.client)
    console.visit("/review", "review")
    console.page.locator(f"#item-{case}").get_by_role("link", name="Read the notice").click()
    expect(console.page.get_by_role("heading", name=f"Case {case}", exact=True)).to_be_visible()
    console.looks_right("case-before-approval")
    card = console.page.locator(f"#item-{case}")
    summary = card.locator("summary")
    expect(summary).to_contain_text("What approval sends:")
    subject = summary.locator("strong").inner_text()
    card.get_by_role("button", name="Approve and send").click()
    said = console.page.get_by_role("status")
    expect(said).to_contain_text(re.compile("will go out|will be written"))
    console.looks_right("review-approved")
    practice.cycle(expect=1)  # the session reminders still wait for Dana
    [sent] = [
        m for m in practice.notices().values() if m["To"].addresses[0].addr_spec == SAM.client
    ]
    assert str(sent["Subject"]) == subject


def test_waiving_priyas_case_with_a_reason_shows_in_history(
    console: Screen, practice: Practice
) -> None:
    case = case_of(practice, PRIYA.client)
    console.visit("/review", "review")
    card = console.page.locator(f"#item-{case}")
    card.get_by_label("Let it go, because…").fill("she was in hospital")
    card.get_by_role("button", name="Waive").click()
    expect(console.page.get_by_role("status")).to_contain_text(f"Case {case} waived")
    expect(console.page.locator(f"#item-{case}")).to_have_count(0)
    console.looks_right("review-waived")
    console.visit(f"/history?client={quote(PRIYA.client)}", "history-waived")
    row = console.page.locator("tbody tr", has_text=PRIYA.client)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("(waived)")
    assert practice.case_of(PRIYA.client)["status"] == "waived"


def test_the_preview_follows_her_typing_shows_errors_by_line_and_saves(
    console: Screen, practice: Practice
) -> None:
    page = console.page
    console.visit(EDITOR, "editor")
    frame = page.locator("#preview-frame")
    assert frame.get_attribute("sandbox") == "", "the notice preview runs in a bare sandbox"
    body = page.locator("#body")

    body.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n\nUmbrellas are welcome in the waiting room.")
    expect(page.locator("#preview-text")).to_contain_text("Umbrellas are welcome")
    expect(page.frame_locator("#preview-frame").locator("body")).to_contain_text(
        "Umbrellas are welcome"
    )
    good = body.input_value()

    page.keyboard.type("\nSee you {{ unclosed")
    broken_line = body.input_value().split("\n").index("See you {{ unclosed") + 1
    error = page.locator("#preview-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(f"Text, line {broken_line}:")
    console.looks_right("editor-error")

    body.fill(good)
    expect(error).to_be_hidden()
    page.get_by_role("button", name="Save").click()
    saved = practice.folder / TEMPLATES_DIR / "en"
    expect(page.get_by_role("status")).to_contain_text(f"Saved {saved}")
    console.looks_right("editor-saved")
    [written] = saved.glob("reminder.*")
    assert "Umbrellas are welcome in the waiting room." in written.read_text(encoding="utf-8")
    expect(page.locator("#body")).to_contain_text("Umbrellas are welcome")


def test_script_in_a_name_or_a_notice_shows_as_text_and_never_runs(
    screen: Screen, practice: Practice, start_console: Callable[[], str]
) -> None:
    make_hostile(practice)  # Sam is called <script>alert(1)</script>
    screen.log_in_to(start_console())
    page = screen.page
    case = case_of(practice, SAM.client)
    screen.visit(f"/review/{case}", "case-hostile")
    expect(page.locator(f"#item-{case} h2")).to_contain_text(SCRIPT)
    notice = page.locator(f"#item-{case} iframe.notice")
    assert notice.get_attribute("sandbox") == ""
    inside = page.frame_locator(f"#item-{case} iframe.notice")
    expect(inside.locator("body")).to_contain_text("alert(1)")
    expect(inside.locator("script")).to_have_count(0)

    screen.visit(EDITOR, "editor-hostile")
    page.locator("#client").select_option(SAM.client)
    page.locator("#body").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n\n<script>parent.document.title = 'ran'</script>")
    preview = page.frame_locator("#preview-frame")
    expect(preview.locator("body")).to_contain_text("parent.document.title = 'ran'")
    expect(preview.locator("body")).to_contain_text("alert(1)")
    expect(preview.locator("script")).to_have_count(0)
    assert page.title() != "ran"
