"""The report against a hand-counted month (tests/pipeline/casebook.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.pipeline.casebook import FEE, LUCIA, run_month
from tests.practice import SAM, Practice
from worker.model import Money
from worker.store import report as counting

DAY = timedelta(days=1)


def month_report(practice: Practice) -> dict[str, object]:
    until = practice.clock()
    since = until - 90 * DAY
    return counting.count(
        counting.cancellations(practice.db, since),
        counting.package_changes(practice.db, since),
        since=since,
        until=until,
        late_window=practice.config.policy.late_window,
        zone="Europe/London",
        fee_of=lambda email: None if email == SAM else Money(Decimal("60.00"), "GBP"),
    )


def test_the_report_counts_the_month_by_hand(tmp_path) -> None:  # type: ignore[no-untyped-def]
    practice = Practice(tmp_path, policy={"fee": FEE})
    run_month(practice)

    found = month_report(practice)

    # Sam: late sam-1 (warning), sam-2 (forfeit, from his package), sam-3 (forfeit, waived);
    # on time sam-4. Lucía: late lucia-1 (warning), lucia-2 (forfeit: no package, 60 GBP).
    assert found["totals"] == {
        "late": 5,
        "on_time": 1,
        "warnings": 2,
        "forfeits": 2,
        "waived": 1,
        "forfeits_without_fee": 0,
        "fees_due": {"GBP": "60.00"},
        "package_sessions_spent": 1,  # two forfeits, one given back by the waiver
        "package_sessions_bought": 0,  # the opening balance is not a purchase
    }
    assert found["months"] == [{"month": "2026-11", "late": 5, "on_time": 1}]
    clients = {c["client"]: c for c in found["clients"]}  # type: ignore[attr-defined]
    assert clients[SAM] | {} == {
        "client": SAM,
        "late": 3,
        "on_time": 1,
        "warnings": 1,
        "forfeits": 1,
        "waived": 1,
        "forfeits_without_fee": 0,
        "first_half_late": 0,
        "second_half_late": 3,
        "package_sessions_spent": 1,
        "package_sessions_bought": 0,
        "rising": True,
    }
    assert (clients[LUCIA]["late"], clients[LUCIA]["forfeits"]) == (2, 1)
    assert found["rising"] == [LUCIA, SAM]


def _late(client: str, day: int) -> counting.Cancellation:
    start = datetime(2026, 1, 1, 9, tzinfo=UTC) + day * DAY
    return counting.Cancellation(client, start, start - timedelta(hours=2), None, False, False)


def test_rising_means_more_late_cancellations_in_the_second_half() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    found = [
        _late("steady@example.org", 10),
        _late("steady@example.org", 80),
        _late("rising@example.org", 70),
        _late("easing@example.org", 5),
        _late("easing@example.org", 6),
        _late("easing@example.org", 85),
    ]
    result = counting.count(
        found,
        None,
        since=since,
        until=since + 90 * DAY,
        late_window=timedelta(hours=24),
        zone="UTC",
        fee_of=None,
    )

    assert result["rising"] == ["rising@example.org"]
    assert result["months"] == [
        {"month": "2026-01", "late": 3, "on_time": 0},
        {"month": "2026-03", "late": 3, "on_time": 0},
    ]
    totals = result["totals"]
    assert (totals["fees_due"], totals["package_sessions_spent"]) == (None, None)


def test_a_top_up_is_a_purchase_and_a_session_held_is_spent() -> None:
    at = datetime(2026, 2, 1, tzinfo=UTC)
    changes = [
        counting.PackageChange(SAM, 5, "opening", at),
        counting.PackageChange(SAM, -1, "session", at),
        counting.PackageChange(SAM, 10, "topup", at),
        counting.PackageChange(SAM, 2, "adjust", at),
    ]
    result = counting.count(
        [], changes, since=at - DAY, until=at + DAY, late_window=DAY, zone="UTC", fee_of=None
    )

    assert result["totals"]["package_sessions_spent"] == 1
    assert result["totals"]["package_sessions_bought"] == 10
