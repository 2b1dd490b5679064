"""The ladder climbs only on warnings that reached the client, in the practitioner's words.

Maria's default policy: a reminder, then a forfeit. Ana's history is what the worker knows of
her earlier late cancellations: when each happened and when its reminder reached her (if it
did). A step above the first rests on a reminder sent before she cancelled this time.
"""

from __future__ import annotations

from datetime import timedelta

from tests.factories import ANA, DAY, HOUR, NOW, client, decline, earlier, policy, practice, session
from worker.model import Decision, Verdict
from worker.pipeline.ladder import Offence
from worker.pipeline.rules import judge

NOT_YET = "no warning had reached the client yet, so the ladder does not climb"


def decided_with(history: list[Offence], **rules: object) -> Decision:
    [decided] = judge(
        decline(session()), practice(client(), policy=policy(**rules)), {ANA: history}
    )
    return decided


def test_a_second_late_decline_after_the_reminder_went_out_forfeits_and_names_it() -> None:
    decided = decided_with(earlier(20 * DAY))

    assert (decided.verdict, decided.offence, decided.counts) == (Verdict.FORFEIT, 2, True)
    assert decided.reasons[-2:] == (
        "2nd late cancellation in the last 365 days",
        "rests on the reminder FW-1 sent on 3 Nov",
    )
    assert decided.details["warned_at"] == (NOW - 20 * DAY + HOUR).isoformat()


def test_a_reminder_that_never_went_out_is_no_warning_so_ana_gets_a_reminder_again() -> None:
    decided = decided_with(earlier(20 * DAY, warned_after=None))

    assert (decided.verdict, decided.offence) == (Verdict.REMINDER, 1)
    assert decided.reasons[-2:] == ("2nd late cancellation in the last 365 days", NOT_YET)
    assert "warned_at" not in decided.details


def test_a_reminder_still_in_its_hold_when_ana_cancels_again_is_no_warning_yet() -> None:
    # Ana cancelled two hours ago; her reminder goes out in an hour, after this decline.
    decided = decided_with(earlier(2 * HOUR, warned_after=3 * HOUR))

    assert decided.verdict is Verdict.REMINDER
    assert decided.reasons[-1] == NOT_YET


def test_a_reminder_sent_the_very_moment_ana_cancels_had_not_reached_her() -> None:
    decided = decided_with(earlier(HOUR, warned_after=HOUR))

    assert decided.verdict is Verdict.REMINDER


def test_sessions_named_in_one_reminder_are_one_warning_not_two() -> None:
    # Two sessions cancelled before the reminder went out; it named both.
    one_reminder = [
        *earlier(10 * DAY),
        Offence(
            NOW - 10 * DAY + timedelta(minutes=5),
            NOW - 10 * DAY + HOUR,
            "the reminder FW-1",
            joined=True,
        ),
    ]
    gentle = {"steps": ["reminder", "reminder", "forfeit"]}

    decided = decided_with(one_reminder, **gentle)

    assert (decided.verdict, decided.offence) == (Verdict.REMINDER, 2)
    assert decided.reasons[-2:] == (
        "3rd late cancellation in the last 365 days",
        "rests on the reminder FW-1 sent on 13 Nov",
    )


def test_a_longer_ladder_climbs_only_on_the_reminders_that_went_out() -> None:
    history = [*earlier(20 * DAY), *earlier(5 * DAY, warned_after=None)]

    decided = decided_with(history, steps=["reminder", "reminder", "forfeit"])

    assert (decided.verdict, decided.offence) == (Verdict.REMINDER, 2)
    assert decided.reasons[-1] == (
        "rests on the reminder FW-1 sent on 3 Nov; 1 other late cancellation in the lookback "
        "did not raise the step: its notice had not reached the client before this one"
    )


def test_two_reminders_that_went_out_bring_the_forfeit_of_a_three_step_ladder() -> None:
    decided = decided_with(earlier(40 * DAY, 20 * DAY), steps=["reminder", "reminder", "forfeit"])

    assert (decided.verdict, decided.offence) == (Verdict.FORFEIT, 3)
    assert decided.reasons[-1] == "rests on the reminder FW-2 sent on 3 Nov and 1 earlier warning"


def test_a_warning_sent_in_another_year_gives_its_year() -> None:
    decided = decided_with(earlier(300 * DAY))

    assert decided.reasons[-1] == "rests on the reminder FW-1 sent on 27 Jan"
    last_year = decided_with(earlier(360 * DAY))
    assert last_year.reasons[-1] == "rests on the reminder FW-1 sent on 28 Nov 2025"


def test_a_warning_outside_the_lookback_is_forgotten() -> None:
    decided = decided_with(earlier(91 * DAY), lookback="90d")

    assert (decided.verdict, decided.offence) == (Verdict.REMINDER, 1)
    assert decided.reasons[-1] == "1st late cancellation in the last 90 days"


def test_a_strict_policy_forfeits_the_first_time_without_claiming_a_warning() -> None:
    decided = decided_with([], steps=["forfeit"])

    assert (decided.verdict, decided.offence) == (Verdict.FORFEIT, 1)
    assert decided.reasons[-1] == "1st late cancellation in the last 365 days"
    assert decided.details == {}
