from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.cli.practice import Practice
from tests.web.hostile import assert_escaped, console_over, make_hostile
from worker.web.pages import history

SAM, PRIYA = "sam.taylor@example.org", "priya.shah@example.org"
LUCIA, ALEX = "lucia.fernandez@example.org", "alex.morgan@example.org"


def clients_listed(page: str) -> set[str]:
    """The clients of the cases on the page, by the link each row makes to them."""
    return set(re.findall(r'<a href="/clients/([^"]+)">', page))


@pytest.fixture
def dated(practice: Practice) -> Iterator[TestClient]:
    """Sam cancelled on 10 January, Priya on 20 February; Lucía at 00:30 on 1 July in
    London (23:30 on 30 June in UTC); Alex today."""
    cancelled = {
        SAM: "2025-01-10T12:00:00+00:00",
        PRIYA: "2025-02-20T09:00:00+00:00",
        LUCIA: "2025-06-30T23:30:00+00:00",
    }
    with sqlite3.connect(practice.database) as db:
        for email, at in cancelled.items():
            db.execute(
                "UPDATE facts SET cancelled_at = ?"
                " WHERE id IN (SELECT fact_id FROM decisions WHERE client_email = ?)",
                (at, email),
            )
    db.close()
    with console_over(practice) as client:
        yield client


def test_history_needs_a_session(browser_client: TestClient) -> None:
    answer = browser_client.get("/history?client=sam", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/history%3Fclient%3Dsam"


def test_history_lists_every_case_with_its_reasons_and_notice(
    console: TestClient, practice: Practice
) -> None:
    page = console.get("/history")
    assert page.status_code == 200
    assert clients_listed(page.text) == {SAM, PRIYA, LUCIA, ALEX}
    assert "4 cases" in page.text
    ref = practice.case_of("sam.taylor@example.org")["ref"]  # made from today's date
    assert f"reminder {ref}: review" in page.text
    for case in range(1, 5):  # all four wait for Dana
        assert f'href="/review/{case}"' in page.text


def test_history_finds_a_client_by_a_piece_of_the_name_or_address(console: TestClient) -> None:
    assert clients_listed(console.get("/history?client=TAYLOR").text) == {SAM}
    assert clients_listed(console.get("/history?client=lucía").text) == {LUCIA}
    assert clients_listed(console.get("/history?client=shah%40").text) == {PRIYA}
    nobody = console.get("/history?client=nobody")
    assert clients_listed(nobody.text) == set()
    assert "No case matches" in nobody.text


def test_history_keeps_the_cases_cancelled_within_the_days_asked(dated: TestClient) -> None:
    january = dated.get("/history?from=2025-01-01&to=2025-01-31")
    assert clients_listed(january.text) == {SAM}
    since_february = dated.get("/history?from=2025-02-01")
    assert clients_listed(since_february.text) == {PRIYA, LUCIA, ALEX}
    until_june = dated.get("/history?to=2025-06-30")
    assert clients_listed(until_june.text) == {SAM, PRIYA}


def test_history_days_are_the_practitioners_own(dated: TestClient) -> None:
    """00:30 on 1 July in London is still 30 June in UTC: it belongs to 1 July."""
    assert clients_listed(dated.get("/history?from=2025-07-01&to=2025-07-01").text) == {LUCIA}
    assert LUCIA not in clients_listed(dated.get("/history?from=2025-06-30&to=2025-06-30").text)


def test_history_combines_client_and_days(dated: TestClient) -> None:
    assert clients_listed(dated.get("/history?client=sam&from=2025-02-01").text) == set()
    assert clients_listed(dated.get("/history?client=sam&to=2025-01-10").text) == {SAM}


def test_a_date_that_is_not_one_is_said_and_ignored(console: TestClient) -> None:
    page = console.get("/history?from=31/01/2025")
    assert page.status_code == 200
    assert "is not a date" in page.text
    assert len(clients_listed(page.text)) == 4


def test_history_goes_a_page_at_a_time(
    console: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "PAGE_SIZE", 3)
    first = console.get("/history?client=example.org")
    assert "page 1 of 2" in first.text
    assert len(clients_listed(first.text)) == 3
    older = re.search(r'href="(/history\?[^"]+)">Older cases', first.text)
    assert older is not None
    second = console.get(older.group(1).replace("&amp;", "&"))
    assert "page 2 of 2" in second.text
    assert clients_listed(second.text) | clients_listed(first.text) == {SAM, PRIYA, LUCIA, ALEX}
    assert not clients_listed(second.text) & clients_listed(first.text)
    assert "Newer cases" in second.text
    assert "Older cases" not in second.text


def test_hostile_names_and_titles_are_escaped_in_history(practice: Practice) -> None:
    make_hostile(practice)
    with console_over(practice) as console:
        page = console.get("/history")
    assert page.status_code == 200
    assert_escaped(page.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text
