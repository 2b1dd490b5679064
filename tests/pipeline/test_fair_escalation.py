"""Nobody is forfeited before they were warned: whole cycles on a memory calendar and mailbox.

Dana's policy is a reminder, then a forfeit; notices wait a 10-minute undo window. Sam cancels
late more than once. What decides the second notice is whether the first had reached him
when he cancelled again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.pipeline.casework import Desk, approve, open_desk, waive
from worker.pipeline.sender import Delivery, Outcome
from worker.store.db import transaction

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
HOLD = 11 * MINUTE  # just past the undo window


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def desk(practice: Practice) -> Desk:
    config = practice.config
    return open_desk(config, practice.db, "main", load_directory(config), practice.clock())


def reasons(practice: Practice, session_key: str) -> list[str]:
    """The reasons `history` shows for the latest case about this session."""
    rows = practice.query(
        "SELECT d.reasons FROM decisions d JOIN facts f ON f.id = d.fact_id"
        " WHERE f.session_key = ? ORDER BY d.id DESC LIMIT 1",
        session_key,
    )
    return list(json.loads(rows[0]["reasons"]))


def notices(practice: Practice) -> list[tuple[str, str]]:
    return [(r["kind"], r["state"]) for r in practice.query("SELECT * FROM outbox ORDER BY id")]


def ref_of(practice: Practice, kind: str = "reminder") -> str:
    [row] = practice.query("SELECT ref FROM outbox WHERE kind = ?", kind)
    return str(row["ref"])


def two_sessions(practice: Practice, second_in: timedelta = 23 * HOUR) -> None:
    """Monday 14:00 and (by default) Tuesday 08:00, both booked days ago."""
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, second_in)
    practice.baseline()


# --- Cancellations made before the reminder went out are one offence ---------------------------


def test_two_late_declines_in_one_cycle_get_one_reminder_naming_both_sessions(
    practice: Practice,
) -> None:
    two_sessions(practice)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.calendar.decline("s2", SAM)

    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    first, second = report.sync.decisions
    assert (first.verdict, first.counts, second.verdict, second.counts) == (
        "reminder",
        True,
        "reminder",
        False,
    )
    assert reasons(practice, "s2")[-2:] == [
        "no warning had reached the client yet, so the ladder does not climb",
        f"joins the reminder {ref_of(practice)} still waiting to go out",
    ]
    [reminder] = practice.notices()
    assert (
        "our session on Monday 23 November at 14:00, about 4 hours before it was due to begin, "
        "and our session on Tuesday 24 November at 08:00." in body(reminder)
    )
    assert notices(practice) == [("reminder", "sent")]
    assert len(practice.query("SELECT * FROM ledger")) == 1, "one offence"


def test_a_decline_during_the_undo_window_joins_the_waiting_reminder(practice: Practice) -> None:
    two_sessions(practice)
    practice.clock.advance(MINUTE)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(5 * MINUTE)
    practice.calendar.decline("s2", SAM)
    practice.cycle()

    practice.clock.advance(6 * MINUTE)
    practice.cycle()
    assert practice.notices() == [], "the joined session has its own undo window"
    practice.clock.advance(5 * MINUTE)
    practice.cycle()

    [reminder] = practice.notices()
    assert "and our session on Tuesday 24 November at 08:00" in body(reminder)
    assert notices(practice) == [("reminder", "sent")]


def test_a_decline_during_quiet_hours_joins_the_reminder_waiting_for_the_morning(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"quiet_hours": {"start": "21:00", "end": "08:00"}})
    practice.clock.now = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 21:30 in London
    practice.book("s1", SAM, 11 * HOUR)  # Tuesday 08:30
    practice.book("s2", SAM, 12 * HOUR + 30 * MINUTE)  # Tuesday 10:00
    practice.baseline()
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()  # the reminder waits for 08:00
    practice.clock.advance(HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()

    practice.clock.now = datetime(2026, 11, 24, 8, 1, tzinfo=UTC)
    practice.cycle()

    [reminder] = practice.notices()
    assert "and our session on Tuesday 24 November at 10:00." in body(reminder)
    assert notices(practice) == [("reminder", "sent")]


def test_a_decline_while_the_reminder_waits_for_review_joins_it(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    two_sessions(practice, second_in=29 * HOUR)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()

    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    with transaction(practice.db):
        said = approve(desk(practice), case["id"])
    practice.cycle()

    assert "will be sent" in said
    [reminder] = practice.notices()
    assert "and our session on Tuesday 24 November at 14:00." in body(reminder)
    assert "forfeit" not in str(reminder["Subject"]).lower()
    assert notices(practice) == [("reminder", "sent")]


# --- After the reminder went out, the next late cancellation forfeits --------------------------


def test_a_second_late_decline_after_the_reminder_was_sent_forfeits_and_names_the_reminder(
    practice: Practice,
) -> None:
    two_sessions(practice, second_in=29 * HOUR)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    reminder_ref = ref_of(practice)
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)

    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert (decision.verdict, decision.offence) == ("forfeit", 2)
    assert reasons(practice, "s2")[-2:] == [
        "2nd late cancellation in the last 365 days",
        f"rests on the reminder {reminder_ref} sent on 23 Nov",
    ]
    _, forfeit = practice.notices()
    assert "As I mentioned when I wrote to you on 23 November" in body(forfeit)
    assert "4 prepaid sessions" in body(forfeit)


def test_a_joined_session_declined_again_after_the_reminder_went_out_earns_nothing_more(
    practice: Practice,
) -> None:
    two_sessions(practice)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    practice.accept("s2", SAM)
    practice.cycle()
    practice.calendar.decline("s2", SAM)

    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict == "ignore"
    assert "was already decided for this session" in decision.reasons[-1]
    assert len(practice.notices()) == 1


# --- A reminder that did not reach the client is not a warning --------------------------------


def test_a_reminder_waived_after_it_went_out_is_no_warning(practice: Practice) -> None:
    two_sessions(practice, second_in=29 * HOUR)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    [case] = practice.query("SELECT id FROM decisions")
    with transaction(practice.db):
        said = waive(desk(practice), case["id"], "he told me on Friday")
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)

    report = practice.cycle()

    assert "its notice had already been sent" in said
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert (decision.verdict, decision.offence) == ("reminder", 1)
    assert reasons(practice, "s2")[-1] == "1st late cancellation in the last 365 days"


def test_a_reminder_dropped_because_the_session_was_restored_is_no_warning(
    practice: Practice,
) -> None:
    two_sessions(practice, second_in=29 * HOUR)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(3 * MINUTE)
    practice.accept("s1", SAM)
    practice.cycle()
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)

    report = practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert (decision.verdict, decision.offence) == ("reminder", 1)
    assert notices(practice) == [("reminder", "dropped"), ("reminder", "queued")]


def test_a_reminder_the_mailbox_rejected_is_no_warning(practice: Practice) -> None:
    two_sessions(practice, second_in=29 * HOUR)
    practice.sender.script = [Delivery(Outcome.REJECTED, detail="550 mailbox unavailable")]
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)

    report = practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert (decision.verdict, decision.offence) == ("reminder", 1)
    assert reasons(practice, "s2")[-2:] == [
        "2nd late cancellation in the last 365 days",
        "no warning had reached the client yet, so the ladder does not climb",
    ]


# --- Changing one's mind about a joined case ------------------------------------------------


def test_waiving_the_joined_case_takes_its_session_out_of_the_reminder(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    two_sessions(practice)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    first, joined = (r["id"] for r in practice.query("SELECT id FROM decisions ORDER BY id"))

    with transaction(practice.db):
        said = waive(desk(practice), joined, "the Tuesday one was my mistake")
        approve(desk(practice), first)
    practice.cycle()

    assert said == f"case {joined} waived; the reminder {ref_of(practice)} no longer names it"
    [reminder] = practice.notices()
    assert "Tuesday" not in body(reminder)
    assert "our session on Monday 23 November at 14:00" in body(reminder)


def test_the_first_session_restored_gives_the_joined_one_its_own_reminder(
    practice: Practice,
) -> None:
    two_sessions(practice)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    first_ref = ref_of(practice)
    practice.clock.advance(3 * MINUTE)
    practice.accept("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    [reminder] = practice.notices()
    assert "our session on Tuesday 24 November at 08:00" in body(reminder)
    assert "Monday" not in body(reminder)
    assert notices(practice) == [("reminder", "dropped"), ("reminder", "sent")]
    assert reasons(practice, "s2")[-1] == (f"{first_ref} was withdrawn: the session was restored")


def test_waiving_the_first_case_in_review_leaves_the_joined_one_waiting_for_review(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    two_sessions(practice)
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    first, joined = (r["id"] for r in practice.query("SELECT id FROM decisions ORDER BY id"))

    with transaction(practice.db):
        said = waive(desk(practice), first, "Monday was my mistake")

    assert said.endswith(f"(case {joined}, which had joined its notice, now has one)")
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    assert case["id"] == joined
    assert notices(practice) == [("reminder", "dropped"), ("reminder", "review")]
