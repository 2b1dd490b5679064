"""A formal close: previewed, sent once, recorded; afterwards cancellations are not judged."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.errors import FairWarningError
from worker.pipeline.alerts import conditions
from worker.pipeline.casework import Desk, open_desk, waive_notice
from worker.pipeline.closure import (
    booked_after_closure,
    close_client,
    closure_suggestions,
    plan_closure,
    preview_closure,
    reopen_client,
)
from worker.store.db import transaction

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HOLD = timedelta(minutes=11)
REASON = "three sessions cancelled at the last minute since September"


def desk(practice: Practice) -> Desk:
    config = practice.config
    return open_desk(config, practice.db, "main", load_directory(config), practice.clock())


def close(practice: Practice, email: str = SAM, effective: date = date(2026, 12, 1)) -> str:
    with transaction(practice.db):
        plan = plan_closure(
            desk(practice), email, reason=REASON, effective=effective, outstanding="£60"
        )
        return close_client(desk(practice), plan)


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_closure_preview_shows_the_notice_and_records_nothing(practice: Practice) -> None:
    practice.baseline()
    plan = plan_closure(desk(practice), SAM, reason=REASON, effective=date(2026, 12, 1))
    message = preview_closure(desk(practice), practice.config, practice.worker.templates, plan)

    assert str(message["Subject"]) == "The end of our working relationship"
    body = text(message)
    assert body.startswith("Dear Sam,")
    assert "with effect from Tuesday 1 December 2026" in body
    assert REASON in body
    assert "As far as I can see, nothing is outstanding between us." in body
    assert "you can reach me at dana@riveracoaching.example" in body
    assert practice.query("SELECT * FROM outbox") == []
    assert practice.query("SELECT * FROM clients_seen WHERE closed_at IS NOT NULL") == []


def test_the_closure_is_sent_once_through_the_outbox(practice: Practice) -> None:
    practice.baseline()
    said = close(practice)
    assert said.startswith(f"the closure notice to {SAM} (FW-")
    assert "recorded, not judged" in said
    practice.clock.advance(HOLD)
    practice.cycle()

    [notice] = practice.notices()
    assert "What is still outstanding between us:" in text(notice)
    assert "£60" in text(notice)
    with pytest.raises(FairWarningError) as refused:
        close(practice)
    assert "you already ended the working relationship with sam@example.org on 2026-12-01" in (
        refused.value.message
    )
    practice.clock.advance(HOLD)
    practice.cycle()
    assert len(practice.notices()) == 1


def test_after_the_closure_cancellations_are_recorded_not_judged(practice: Practice) -> None:
    practice.book("s1", SAM, 2 * DAY)
    practice.baseline()
    close(practice)
    practice.clock.advance(DAY + 20 * HOUR)
    practice.calendar.decline("s1", SAM)  # 4 hours before: late
    report = practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert str(decision.verdict) == "ignore"
    assert decision.reasons[-1].startswith("you ended the working relationship on 2026-12-01 (FW-")
    assert decision.reasons[-1].endswith("): recorded, not judged")
    kinds = [r["kind"] for r in practice.query("SELECT kind FROM outbox")]
    assert kinds == ["closure"], "no reminder"
    assert practice.query("SELECT * FROM ledger") == []


def test_a_close_date_in_the_past_is_refused_with_the_fix(practice: Practice) -> None:
    practice.baseline()
    with pytest.raises(FairWarningError) as refused:
        close(practice, effective=date(2026, 11, 22))
    assert refused.value.message == (
        "--effective 2026-11-22 is in the past (today is 2026-11-23); give today's date or a "
        "later one, written YYYY-MM-DD"
    )


def test_a_closure_waived_before_it_goes_sends_nothing_and_the_relationship_goes_on(
    practice: Practice,
) -> None:
    practice.book("s1", SAM, 2 * DAY)
    practice.baseline()
    close(practice)
    [row] = practice.query("SELECT ref FROM outbox")
    with transaction(practice.db):
        said = waive_notice(desk(practice), row["ref"], "we talked it through")
    assert said.endswith("their cancellations are judged again")
    practice.clock.advance(DAY + 20 * HOUR)
    practice.calendar.decline("s1", SAM)
    report = practice.cycle()
    assert report.sync is not None
    assert [str(d.verdict) for d in report.sync.decisions] == ["reminder"]


def test_reopening_a_closed_client_judges_them_again(practice: Practice) -> None:
    practice.book("s1", SAM, 2 * DAY)
    practice.baseline()
    close(practice)
    practice.clock.advance(HOLD)
    practice.cycle()
    with transaction(practice.db):
        said = reopen_client(desk(practice), SAM)
    assert said == f"{SAM}: the working relationship goes on; their cancellations are judged again"
    practice.clock.advance(DAY + 19 * HOUR)
    practice.calendar.decline("s1", SAM)
    report = practice.cycle()
    assert report.sync is not None
    assert [str(d.verdict) for d in report.sync.decisions] == ["reminder"]
    with pytest.raises(FairWarningError, match="one closure notice"):
        close(practice)


def test_a_closed_clients_address_booked_again_is_named_with_the_fix(practice: Practice) -> None:
    practice.baseline()
    close(practice, effective=date(2026, 11, 30))
    practice.book("again", SAM, 14 * DAY, title="Coaching")
    practice.cycle()
    [problem] = booked_after_closure(practice.db, practice.clock())
    assert problem.startswith(f"{SAM}: you ended the working relationship on 2026-11-30 (FW-")
    assert "invited to 'Coaching' on 2026-12-07 09:00 UTC" in problem
    assert f"`fairwarning reopen-client {SAM}`" in problem


def _forfeit(practice: Practice, key: str, then: timedelta = 3 * DAY) -> None:
    """Sam books a session and declines it 20 hours before; `then` passes."""
    practice.book(key, SAM, 30 * HOUR)
    practice.cycle()
    practice.clock.advance(10 * HOUR)
    practice.calendar.decline(key, SAM)
    practice.cycle()
    practice.clock.advance(then)
    practice.cycle()


def _next_digest(moment: datetime) -> datetime:
    """The next 08:05 in London (UTC in winter) after `moment`."""
    at = moment.replace(hour=8, minute=5, second=0, microsecond=0)
    return at if at > moment else at + DAY


def test_three_forfeits_suggest_ending_the_relationship_in_review_and_the_digest(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"steps": ["forfeit"]})
    practice.baseline()
    _forfeit(practice, "s1")
    _forfeit(practice, "s2")
    assert closure_suggestions(practice.db, practice.config.policy, practice.clock()) == []
    _forfeit(practice, "s3")

    [suggestion] = closure_suggestions(practice.db, practice.config.policy, practice.clock())
    assert suggestion.client_email == SAM
    reasons = suggestion.reasons(practice.config.policy)
    assert reasons[0] == (
        "consider ending the working relationship: 3 forfeits in the last 365 days"
    )
    assert len(reasons) == 4
    assert all(r.startswith("forfeit: 'Coaching with sam@example.org' on ") for r in reasons[1:])

    practice.clock.now = _next_digest(practice.clock())
    found = conditions(practice.db, practice.config, "main", practice.clock())
    assert found == [], "the last forfeit was days ago: an earlier digest said it already"
    _forfeit(practice, "s4", then=timedelta(0))
    practice.clock.now = _next_digest(practice.clock())
    [digest] = conditions(practice.db, practice.config, "main", practice.clock())
    assert digest.kind == "alert_digest"
    [flagged] = digest.variables["suggestions"]
    assert flagged["client"] == SAM
    assert "4 forfeits" in flagged["reasons"][0]
    said = practice.worker.templates.render("alert_digest", "en", digest.variables)
    assert said.subject == "Fair Warning: a client to think about"
    assert "consider ending the working relationship: 4 forfeits" in said.text
    assert f"fairwarning close-client {SAM} --reason" in said.text

    close(practice, effective=practice.clock().date())
    assert closure_suggestions(practice.db, practice.config.policy, practice.clock()) == []


def test_suggesting_closure_can_be_turned_off(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"steps": ["forfeit"], "suggest_closure_after": 0})
    practice.baseline()
    for key in ("s1", "s2", "s3"):
        _forfeit(practice, key)
    assert closure_suggestions(practice.db, practice.config.policy, practice.clock()) == []
