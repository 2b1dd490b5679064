"""Sending the gentler step instead of a forfeit, and "it went out" for an unknown send."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.pipeline.test_foresight import HOSTILE, desk, open_case, text, warned_then_forfeit
from tests.practice import SAM, Practice
from worker.errors import FairWarningError
from worker.pipeline.casework import approve
from worker.pipeline.choices import (
    approve_gentler,
    approve_gentler_notice,
    choices_for,
    confirm_sent,
)
from worker.pipeline.sender import Delivery, Outcome
from worker.store import packages
from worker.store.db import transaction

HOUR = timedelta(hours=1)


def review_practice(tmp_path: Path) -> Practice:
    return Practice(tmp_path, policy={"mode": "review"})


def latest_reasons(practice: Practice) -> list[str]:
    [row] = practice.query("SELECT reasons FROM decisions ORDER BY id DESC LIMIT 1")
    return list(json.loads(row["reasons"]))


def test_a_forfeit_in_review_goes_as_a_reminder_and_gives_back_its_prepaid_session(
    tmp_path: Path,
) -> None:
    practice = review_practice(tmp_path)
    case = warned_then_forfeit(practice)
    [forfeit] = practice.query("SELECT ref FROM outbox WHERE decision_id = ?", case)
    assert packages.current(practice.db, SAM) == 4, "the forfeit spent one of Sam's 5"
    assert choices_for(desk(practice), case) == ("approve", "gentler", "waive")

    with transaction(practice.db):
        said = approve_gentler(desk(practice), case)
    practice.cycle()

    assert said.startswith(f"the forfeit {forfeit['ref']} is withdrawn and its prepaid session")
    assert packages.current(practice.db, SAM) == 5
    [notice] = practice.query("SELECT * FROM outbox WHERE decision_id = ?", case)
    assert (notice["kind"], notice["state"]) == ("reminder", "sent")
    assert notice["ref"] != forfeit["ref"]
    assert json.loads(notice["facts"])["session_title"] == HOSTILE
    assert json.loads(notice["facts"])["prepaid_balance"] == 5
    [decision] = practice.query("SELECT * FROM decisions WHERE id = ?", case)
    assert (decision["verdict"], decision["status"]) == ("reminder", "approved")
    assert decision["note"] == "approved as a reminder by you"
    [ledger] = practice.query("SELECT * FROM ledger WHERE decision_id = ?", case)
    assert (ledger["kind"], ledger["waived_at"]) == ("warning", None)
    _, reminder = practice.notices()
    assert "forfeit" not in str(reminder["Subject"]).lower()
    assert "5 prepaid sessions" in text(reminder)
    [audited] = practice.query("SELECT detail FROM audit WHERE event = 'approved as reminder'")
    assert forfeit["ref"] in audited["detail"]


def test_after_the_gentler_reminder_the_next_late_cancellation_rests_on_it(
    tmp_path: Path,
) -> None:
    practice = review_practice(tmp_path)
    practice.book("s3", SAM, 32 * HOUR)
    case = warned_then_forfeit(practice)
    with transaction(practice.db):
        approve_gentler(desk(practice), case)
    practice.cycle()
    [gentler] = practice.query("SELECT ref FROM outbox WHERE decision_id = ?", case)
    practice.clock.advance(2 * HOUR)

    practice.calendar.decline("s3", SAM)
    practice.cycle()

    assert latest_reasons(practice)[-2:] == [
        "3rd late cancellation in the last 365 days",
        f"rests on the reminder {gentler['ref']} sent on 23 Nov and 1 earlier warning",
    ]
    [row] = practice.query("SELECT verdict FROM decisions ORDER BY id DESC LIMIT 1")
    assert row["verdict"] == "forfeit"


def test_an_open_case_that_would_forfeit_is_approved_as_a_reminder(tmp_path: Path) -> None:
    practice = review_practice(tmp_path)
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 20 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    with transaction(practice.db):
        approve(desk(practice), open_case(practice))
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.calendar.delete("s2")
    practice.cycle()
    case = open_case(practice)
    assert choices_for(desk(practice), case) == ("approve", "gentler", "waive")

    with transaction(practice.db):
        said = approve_gentler(desk(practice), case)
    practice.cycle()

    assert "a reminder (FW-" in said
    assert packages.current(practice.db, SAM) == 5, "no forfeit, nothing spent"
    [notice] = practice.query("SELECT kind, state FROM outbox WHERE decision_id = ?", case)
    assert (notice["kind"], notice["state"]) == ("reminder", "sent")
    [ledger] = practice.query("SELECT kind FROM ledger WHERE decision_id = ?", case)
    assert ledger["kind"] == "warning"
    assert latest_reasons(practice)[-1] != "approved as a reminder by you", "reasons kept"
    [decision] = practice.query("SELECT status, note FROM decisions WHERE id = ?", case)
    assert tuple(decision) == ("approved", "approved as a reminder by you")


def test_a_reminder_has_no_gentler_step(tmp_path: Path) -> None:
    practice = review_practice(tmp_path)
    practice.late_decline()
    case = open_case(practice)
    assert choices_for(desk(practice), case) == ("approve", "waive")

    with (
        transaction(practice.db),
        pytest.raises(FairWarningError, match=f"use `fairwarning approve {case}`"),
    ):
        approve_gentler(desk(practice), case)
    [ref] = practice.query("SELECT ref FROM outbox")
    with pytest.raises(FairWarningError, match="is a reminder, not a forfeit"):
        approve_gentler_notice(desk(practice), ref["ref"])
    assert practice.outbox_states() == ["review"]


def test_a_forfeit_already_approved_cannot_go_as_a_reminder(tmp_path: Path) -> None:
    practice = review_practice(tmp_path)
    case = warned_then_forfeit(practice)
    with transaction(practice.db):
        approve(desk(practice), case)

    with pytest.raises(FairWarningError, match="is queued, not waiting for your review"):
        approve_gentler(desk(practice), case)


def test_a_send_found_in_the_sent_folder_is_recorded_as_sent_and_warns(
    practice: Practice,
) -> None:
    practice.sender.script = [Delivery(Outcome.UNKNOWN, detail="timed out")]
    practice.book("s2", SAM, 20 * HOUR)
    practice.late_decline()
    practice.clock.advance(HOUR)
    practice.cycle()
    [row] = practice.query("SELECT decision_id, ref FROM outbox")
    assert choices_for(desk(practice), row["decision_id"]) == ("approve", "went-out", "waive")

    with transaction(practice.db):
        said = confirm_sent(desk(practice), row["ref"].lower())

    assert (
        said == f"the reminder {row['ref']} to {SAM} is recorded as sent; it will not be sent again"
    )
    [notice] = practice.query("SELECT state, detail FROM outbox")
    assert tuple(notice) == ("sent", "confirmed sent by you")
    [audited] = practice.query("SELECT detail FROM audit WHERE event = 'confirmed sent'")
    assert row["ref"] in audited["detail"]
    practice.cycle()
    assert practice.notices() == [], "nothing is sent again"
    practice.clock.advance(HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    assert latest_reasons(practice)[-1].startswith(f"rests on the reminder {row['ref']}")


def test_only_a_send_that_ended_unknown_can_be_confirmed(tmp_path: Path) -> None:
    practice = review_practice(tmp_path)
    practice.late_decline()
    case = open_case(practice)

    with pytest.raises(FairWarningError, match="waits for your approval and has not been sent"):
        confirm_sent(desk(practice), case)
    with transaction(practice.db):
        approve(desk(practice), case)
    practice.cycle()
    with pytest.raises(FairWarningError, match="already recorded as sent"):
        confirm_sent(desk(practice), case)
    with pytest.raises(FairWarningError, match="there is no notice FW-NOPE"):
        confirm_sent(desk(practice), "FW-NOPE")
