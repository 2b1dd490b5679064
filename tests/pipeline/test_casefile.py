"""The case file: every session, case, notice and ledger entry of a client, HTML or CSV."""

from __future__ import annotations

import csv
import io
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from tests.pipeline.casebook import FEE, HOSTILE, LUCIA, run_month
from tests.practice import SAM, Practice
from worker.notices.casefile import AS_RENDERED, CSV_COLUMNS, casefile_csv, casefile_html
from worker.notices.message import REF_HEADER
from worker.notices.templates import TemplateLibrary
from worker.pipeline.casefile import UnknownClient, gather_casefile


@pytest.fixture
def month(tmp_path) -> Practice:  # type: ignore[no-untyped-def]
    practice = Practice(tmp_path, policy={"fee": FEE})
    run_month(practice)
    return practice


def casefile_of(practice: Practice, client: str):  # type: ignore[no-untyped-def]
    return gather_casefile(
        practice.db, practice.config, TemplateLibrary(), client, practice.clock()
    )


class _Text(HTMLParser):
    """The text a reader sees, and every tag the page has."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def seen(html: str) -> _Text:
    page = _Text()
    page.feed(html)
    return page


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_the_case_file_holds_every_notice_as_it_went_out(month: Practice) -> None:
    file = casefile_of(month, SAM)
    html = casefile_html(file)
    sent = {str(m[REF_HEADER]): m for m in month.sent_to(SAM)}

    assert [(n.kind, n.state) for n in file.notices] == [
        ("reminder", "sent"),
        ("forfeit", "sent"),
        ("forfeit", "dropped"),
    ]
    assert len(sent) == 2
    for notice in file.notices:
        assert notice.ref in html
        assert notice.provenance == AS_RENDERED
        assert notice.subject
        assert notice.text
        if notice.state == "sent":  # the words are those the client got
            message = sent[notice.ref]
            assert notice.subject == message["Subject"]
            assert notice.text.strip() == plain(message).replace("\r\n", "\n").strip()
    assert "as rendered from the stored facts" in html


def test_the_case_file_holds_every_case_session_and_ledger_entry(month: Practice) -> None:
    file = casefile_of(month, SAM)
    text = " ".join(seen(casefile_html(file)).text)

    assert [c["verdict"] for c in file.cases] == ["reminder", "ignore", "forfeit", "forfeit"]
    assert [c["status"] for c in file.cases][-1] == "waived"
    assert {s["session_key"] for s in file.sessions} == {"sam-1", "sam-2", "sam-3", "sam-4"}
    assert [(e["kind"], bool(e["waived_at"])) for e in file.ledger] == [
        ("warning", False),
        ("forfeit", False),
        ("forfeit", True),
    ]
    assert [p["reason"] for p in file.packages] == [
        "opening",
        "forfeit",
        "forfeit",
        "forfeit_undone",
    ]
    for case in file.cases:
        for reason in case["reasons"]:
            assert reason in text
    assert "his car broke down on the motorway" in text
    assert "declined; time from" in text  # the cancellation's evidence
    assert "@page" in casefile_html(file)
    assert "size: A4" in casefile_html(file)


def test_a_hostile_session_title_stays_text(month: Practice) -> None:
    html = casefile_html(casefile_of(month, SAM))
    page = seen(html)

    assert "script" not in page.tags
    assert "b" not in page.tags
    assert HOSTILE in "".join(page.text)
    assert "&lt;script&gt;" in html
    assert "http://" not in html
    assert "https://" not in html.replace("https://riveracoaching.example", "")


def test_the_csv_reads_back_with_the_csv_module(month: Practice) -> None:
    file = casefile_of(month, SAM)
    rows = list(csv.DictReader(io.StringIO(casefile_csv(file), newline="")))

    assert tuple(rows[0]) == CSV_COLUMNS
    by_record: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_record.setdefault(row["record"], []).append(row)
    assert len(by_record["session"]) == 4
    assert [r["kind"] for r in by_record["case"]] == ["reminder", "ignore", "forfeit", "forfeit"]
    assert [r["reference"] for r in by_record["notice"]] == [n.ref for n in file.notices]
    assert [r["detail"].split("\n[")[0] for r in by_record["notice"]] == [
        n.text for n in file.notices
    ]
    assert len(by_record["ledger"]) == 3
    assert len(by_record["package"]) == 4
    [hostile] = [r for r in by_record["session"] if r["id"] == "sam-2"]
    assert hostile["title"] == HOSTILE


def test_another_client_has_a_file_of_their_own(month: Practice) -> None:
    file = casefile_of(month, LUCIA)

    assert [n.kind for n in file.notices] == ["reminder", "forfeit"]
    assert file.packages == []
    assert all(c["client_email"] == LUCIA for c in file.cases)


def test_an_unknown_client_is_a_clear_error(month: Practice) -> None:
    with pytest.raises(UnknownClient, match=r"no client nobody@example\.org in the records"):
        casefile_of(month, "Nobody@Example.org")
