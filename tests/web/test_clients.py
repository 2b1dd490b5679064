from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.cli.practice import Practice
from tests.web.hostile import IMAGE, SCRIPT, assert_escaped, console_over, make_hostile
from worker.web.guard import NOTICE_POLICY

SAM = "/clients/sam.taylor%40example.org"


@pytest.fixture
def hostile(practice: Practice) -> Iterator[TestClient]:
    make_hostile(practice)
    with console_over(practice) as client:
        yield client


def row_of(page: str, email: str) -> str:
    rows = [r for r in page.split("<tr>") if f"{email}</span>" in r]
    assert len(rows) == 1, f"no single row for {email}"
    return re.sub(r"\s+", " ", rows[0])


@pytest.mark.parametrize(
    "path",
    [
        "/clients",
        SAM,
        f"{SAM}/casefile.html",
        f"{SAM}/casefile.csv",
        f"{SAM}/notices/FW-000000000000",  # refused before the reference is looked at
    ],
)
def test_every_client_page_needs_a_session(browser_client: TestClient, path: str) -> None:
    answer = browser_client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_every_client_is_listed_with_their_counts_and_balance(console: TestClient) -> None:
    page = console.get("/clients")
    assert page.status_code == 200
    sam = row_of(page.text, "sam.taylor@example.org")
    assert 'href="/clients/sam.taylor@example.org"' in sam
    assert '<td data-label="Late">1</td>' in sam
    assert '<td data-label="Warnings">1</td>' in sam
    assert '<td data-label="Prepaid sessions">5</td>' in sam
    jordan = row_of(page.text, "jordan.lee@example.org")  # in the directory, never cancelled
    assert '<td data-label="Late">0</td>' in jordan
    assert '<td data-label="Prepaid sessions">no package</td>' in jordan
    assert '<td data-label="Prepaid sessions">3</td>' in row_of(page.text, "maya.cohen@example.org")


def _sams_ref(practice: Practice) -> str:
    """The reference of Sam's reminder: made from the session, dated around today."""
    return str(practice.case_of("sam.taylor@example.org")["ref"])


def test_a_clients_timeline_shows_cases_with_reasons_and_notices_as_composed(
    console: TestClient, practice: Practice
) -> None:
    page = console.get(SAM)
    assert page.status_code == 200
    assert "Sam Taylor" in page.text
    assert "Coaching: Sam Taylor" in page.text  # the session
    assert "declined" in page.text  # the evidence
    assert 'href="/review/2"' in page.text  # the case is waiting
    frames = re.findall(r'<iframe sandbox="" class="notice" src="([^"]+)"', page.text)
    assert f"/clients/sam.taylor@example.org/notices/{_sams_ref(practice)}" in frames
    assert f'href="{SAM.replace("%40", "@")}/casefile.csv"' in page.text


def test_a_notice_is_served_for_its_sandboxed_frame_under_the_notice_policy(
    console: TestClient, practice: Practice
) -> None:
    answer = console.get(f"{SAM}/notices/{_sams_ref(practice)}")
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == NOTICE_POLICY
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Sam" in answer.text
    assert "<script" not in answer.text.lower()


def test_a_notice_of_another_client_is_not_served(console: TestClient, practice: Practice) -> None:
    answer = console.get(f"/clients/priya.shah%40example.org/notices/{_sams_ref(practice)}")
    assert answer.status_code == 404


def test_an_address_is_found_whatever_its_case_and_quoting(console: TestClient) -> None:
    assert console.get("/clients/SAM.Taylor%40Example.org").status_code == 200


def test_an_unknown_client_is_not_found_and_says_so(console: TestClient) -> None:
    answer = console.get("/clients/no.one%2Bspam%40example.org")
    assert answer.status_code == 404
    assert "no client no.one+spam@example.org in the records" in answer.text


def test_a_listed_client_with_no_records_yet_has_an_empty_page(practice: Practice) -> None:
    with practice.config.open("a", encoding="utf-8") as config:
        config.write('\n[[clients]]\nemail = "new.client@example.org"\nname = "Nia New"\n')
    with console_over(practice) as console:
        listing = console.get("/clients")
        assert "not in your client list" not in row_of(listing.text, "new.client@example.org")
        answer = console.get("/clients/new.client%40example.org")
    assert answer.status_code == 200
    assert "Nia New" in answer.text
    assert "Nothing recorded yet" in answer.text


def test_the_case_file_downloads_as_csv(console: TestClient, practice: Practice) -> None:
    answer = console.get(f"{SAM}/casefile.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.text.startswith("record,id,at_utc")
    records = [line.split(",")[0] for line in answer.text.splitlines()]
    assert {"session", "case", "notice", "ledger"} <= set(records)
    assert _sams_ref(practice) in answer.text


def test_the_case_file_downloads_as_html(console: TestClient) -> None:
    answer = console.get(f"{SAM}/casefile.html")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"] == NOTICE_POLICY
    assert "Case file: Sam Taylor" in answer.text
    assert "Coaching: Sam Taylor" in answer.text


def test_the_case_file_is_only_html_or_csv(console: TestClient) -> None:
    assert console.get(f"{SAM}/casefile.pdf").status_code == 404


def test_hostile_names_and_titles_are_escaped_on_every_client_page(hostile: TestClient) -> None:
    listing = hostile.get("/clients")
    assert_escaped(listing.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing.text
    page = hostile.get(SAM)
    assert page.status_code == 200
    assert_escaped(page.text)
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text
    for path in re.findall(r'class="notice" src="([^"]+)"', page.text):
        frame = hostile.get(path)
        assert SCRIPT not in frame.text
        assert IMAGE not in frame.text
    exported = hostile.get(f"{SAM}/casefile.html")
    assert SCRIPT not in exported.text
    assert IMAGE not in exported.text
