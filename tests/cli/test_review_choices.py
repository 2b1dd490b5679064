"""`approve --gentler` and `went-out`, and the choices `review` offers for each case."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from tests.cli.practice import ALEX, SAM, Practice
from worker.cli.review import went_out


def make_unknown(practice: Practice, client: str) -> dict[str, object]:
    """The client's notice as if the worker had stopped while sending it."""
    with sqlite3.connect(practice.database) as db:
        db.execute(
            "UPDATE outbox SET state = 'unknown' WHERE client_email = ?"
            " AND decision_id IS NOT NULL",
            (client,),
        )
    db.close()
    return practice.case_of(client)


def test_review_offers_went_out_for_a_send_that_ended_unknown(practice: Practice) -> None:
    practice.client_acts(SAM)
    practice.cycle()
    case = make_unknown(practice, SAM.client)

    review = practice("review")

    assert review.returncode == 1, review.stderr
    words = " ".join(review.stdout.split())
    number = case["id"]
    assert (
        f"case {number}: approve {number} (send it again) · went-out {number} (you found it in "
        f"your Sent folder) · waive {number}"
    ) in words
    assert "fairwarning went-out ID" in words


def test_went_out_records_the_notice_as_sent(practice: Practice) -> None:
    practice.client_acts(SAM)
    practice.cycle()
    case = make_unknown(practice, SAM.client)
    sent_before = sorted(practice.notices())

    done = CliRunner().invoke(went_out, [str(case["id"])], obj={"config_path": practice.config})

    assert done.exit_code == 0, done.output
    assert f"the reminder {case['ref']} to {SAM.client} is recorded as sent" in done.output
    after = practice.case_of(SAM.client)
    assert (after["notice_state"], after["notice_detail"]) == ("sent", "confirmed sent by you")
    practice.cycle()
    assert sorted(practice.notices()) == sent_before, "nothing is sent again"
    assert practice("review").stdout.strip() == "Nothing needs you."


def test_went_out_refuses_a_notice_that_was_not_unknown(practice: Practice) -> None:
    practice.client_acts(SAM)
    practice.cycle()
    case = practice.case_of(SAM.client)

    done = CliRunner().invoke(went_out, [case["ref"]], obj={"config_path": practice.config})

    assert done.exit_code == 2
    assert f"the reminder {case['ref']} is sent: it is already recorded as sent" in done.output


def test_approve_gentler_refuses_a_case_that_is_no_forfeit(practice: Practice) -> None:
    practice.client_acts(ALEX)
    practice.cycle(expect=1)
    case = practice.case_of(ALEX.client)
    review = " ".join(practice("review").stdout.split())
    assert f"case {case['id']}: approve {case['id']} · waive {case['id']}" in review

    done = practice("approve", str(case["id"]), "--gentler")

    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert f"case {case['id']} would be sent as a reminder, not a forfeit" in said
    assert f"use `fairwarning approve {case['id']}`" in said
    assert practice.case_of(ALEX.client)["status"] == "open"
