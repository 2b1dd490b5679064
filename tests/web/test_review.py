"""Review in the console: the exact notice, and actions that are the CLI's own."""

from __future__ import annotations

import re
import sqlite3
from html import unescape

from starlette.testclient import TestClient

from tests.cli.practice import PRIYA, SAM, Practice
from tests.web.conftest import csrf_of
from tests.web.hostile import SCRIPT, assert_escaped, console_over, make_hostile


def _case_id(practice: Practice, client: str) -> int:
    return int(practice.case_of(client)["id"])


def test_review_lists_every_waiting_case_with_its_reasons(
    console: TestClient, practice: Practice
) -> None:
    page = console.get("/review")
    assert page.status_code == 200
    for client in (SAM.client, PRIYA.client):
        assert f"Case {_case_id(practice, client)}" in page.text
    assert "hospital" in page.text  # Priya's note, the reason her case waits


def test_the_notice_shown_is_the_one_approval_sends(
    console: TestClient, practice: Practice
) -> None:
    case = _case_id(practice, SAM.client)
    page = console.get(f"/review/{case}")
    subject = re.search(r"What approval sends: <strong>([^<]+)</strong>", page.text)
    assert subject, page.text
    shown = console.get(f"/review/{case}/notice.html")
    assert shown.status_code == 200
    answer = console.post(
        f"/review/{case}/approve", data={"csrf": csrf_of(page.text)}, follow_redirects=True
    )
    assert "will go out" in answer.text or "will be written" in answer.text
    practice.cycle(expect=1)  # the session reminders still wait for Dana
    [sent] = [
        m for m in practice.notices().values() if m["To"].addresses[0].addr_spec == SAM.client
    ]
    assert str(sent["Subject"]) == unescape(subject.group(1))
    html = sent.get_body(preferencelist=("html",))
    assert html is not None
    assert html.get_content().replace("\r\n", "\n") == shown.text


def test_the_notice_document_cannot_run_script(console: TestClient, practice: Practice) -> None:
    shown = console.get(f"/review/{_case_id(practice, SAM.client)}/notice.html")
    policy = shown.headers["content-security-policy"]
    assert policy.startswith("sandbox")
    assert "script-src" not in policy
    assert "default-src 'none'" in policy


def test_waiving_sends_nothing_and_says_so(console: TestClient, practice: Practice) -> None:
    case = _case_id(practice, PRIYA.client)
    token = csrf_of(console.get("/review").text)
    answer = console.post(
        f"/review/{case}/waive", data={"csrf": token, "reason": "she was in hospital"}
    )
    assert f"Case {case} waived" in answer.text
    assert practice.case_of(PRIYA.client)["status"] == "waived"
    practice.cycle(expect=1)
    assert not [m for m in practice.notices().values() if PRIYA.client in str(m["To"])]


def test_an_action_without_its_token_is_refused_and_changes_nothing(
    console: TestClient, practice: Practice
) -> None:
    case = _case_id(practice, SAM.client)
    assert console.post(f"/review/{case}/approve", data={}).status_code == 403
    assert practice.case_of(SAM.client)["status"] == "open"


def test_an_impossible_action_says_why(console: TestClient, practice: Practice) -> None:
    case = _case_id(practice, SAM.client)
    token = csrf_of(console.get("/review").text)
    console.post(f"/review/{case}/waive", data={"csrf": token})
    again = console.post(f"/review/{case}/waive", data={"csrf": token})
    assert f"case {case} is already waived" in again.text


def test_an_unknown_case_is_a_clear_404(console: TestClient) -> None:
    page = console.get("/review/99999")
    assert page.status_code == 404
    assert "There is no case 99999" in page.text


def test_hostile_names_and_titles_are_text_on_review_and_today(practice: Practice) -> None:
    make_hostile(practice)
    with console_over(practice) as console:
        case = _case_id(practice, SAM.client)
        assert SCRIPT not in console.get("/").text
        for path in ("/review", f"/review/{case}"):
            page = console.get(path)
            assert page.status_code == 200, path
            assert_escaped(page.text)
        assert SCRIPT not in console.get(f"/review/{case}/notice.html").text


def test_an_unknown_send_can_be_confirmed_as_gone_and_is_never_resent(
    console: TestClient, practice: Practice
) -> None:
    case = _case_id(practice, SAM.client)
    with sqlite3.connect(practice.database) as db:  # approved, then the send ended unknown
        db.execute("UPDATE decisions SET status = 'approved' WHERE id = ?", (case,))
        db.execute("UPDATE outbox SET state = 'unknown' WHERE decision_id = ?", (case,))
    db.close()
    page = console.get(f"/review/{case}")
    assert "It went out" in page.text
    assert "Send it again" in page.text
    answer = console.post(f"/review/{case}/went-out?from=case", data={"csrf": csrf_of(page.text)})
    assert "confirmed" in answer.text.lower() or "recorded as sent" in answer.text.lower()
    assert practice.case_of(SAM.client)["notice_state"] == "sent"
    practice.cycle(expect=1)
    assert not [m for m in practice.notices().values() if SAM.client in str(m["To"])]


def test_an_action_before_the_worker_ever_ran_says_so_and_crashes_nothing(
    console: TestClient, practice: Practice
) -> None:
    token = csrf_of(console.get("/review").text)
    for leftover in practice.state.glob("fairwarning.sqlite3*"):
        leftover.unlink()
    answer = console.post("/review/1/waive", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    page = console.get(answer.headers["location"])
    assert page.status_code == 200
    assert 'role="alert">no state yet' in page.text
    assert "fairwarning run --once" in page.text
