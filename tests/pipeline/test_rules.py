"""The judgement, scenario by scenario, in the practitioner's words.

Maria (the practitioner) sees Ana, Ben and Carla. Unless a test says otherwise the policy is
the default one: 24 h late window, reminder then forfeit, a 365-day lookback, own deletions
go to review. Every test checks the verdict, whether it counts, and the reasons Maria (and
the client) will read.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import (
    ANA,
    BEN,
    CARLA,
    DAY,
    HOUR,
    NOW,
    PRACTITIONER,
    ROOM,
    client,
    decline,
    earlier,
    fact,
    maria,
    person,
    policy,
    practice,
    room,
    session,
)
from worker.model import Decision, FactKind, Verdict
from worker.pipeline.ladder import describe_notice, describe_span, ordinal
from worker.pipeline.rules import judge

LATE_3H10 = "cancelled 3 h 10 min before the session, inside the 24 h late window"
DECLINED_WORDS = "the client declined the invitation"


def only(decisions: list[Decision]) -> Decision:
    """The single decision a one-client fact must produce."""
    assert len(decisions) == 1, decisions
    return decisions[0]


def assert_counted(decision: Decision, verdict: Verdict, offence: int, email: str = ANA) -> None:
    assert decision.verdict is verdict
    assert decision.counts is True
    assert decision.offence == offence
    assert decision.client is not None
    assert decision.client.email == email


def assert_not_counted(decision: Decision, verdict: Verdict) -> None:
    assert decision.verdict is verdict
    assert decision.counts is False
    assert decision.offence == 0


# --- The ladder -----------------------------------------------------------------------------


def test_first_late_decline_gets_a_kind_reminder() -> None:
    decided = only(judge(decline(session()), practice(client()), {}))

    assert_counted(decided, Verdict.REMINDER, offence=1)
    assert decided.client == client()
    assert decided.notice == timedelta(hours=3, minutes=10)
    assert decided.reasons == (
        LATE_3H10,
        DECLINED_WORDS,
        "1st late cancellation in the last 365 days",
    )


def test_second_late_decline_within_a_year_forfeits() -> None:
    history = {ANA: earlier(200 * DAY)}

    decided = only(judge(decline(session()), practice(client()), history))

    assert_counted(decided, Verdict.FORFEIT, offence=2)
    assert decided.reasons == (
        LATE_3H10,
        DECLINED_WORDS,
        "2nd late cancellation in the last 365 days",
        "rests on the reminder FW-1 sent on 7 May",
    )


def test_third_late_decline_forfeits_again_because_the_last_step_repeats() -> None:
    history = {ANA: earlier(300 * DAY, 30 * DAY)}

    decided = only(judge(decline(session()), practice(client()), history))

    assert_counted(decided, Verdict.FORFEIT, offence=3)
    assert decided.reasons[-2:] == (
        "3rd late cancellation in the last 365 days",
        "rests on the reminder FW-2 sent on 24 Oct and 1 earlier warning",
    )


def test_a_longer_ladder_gives_two_reminders_before_forfeiting() -> None:
    gentle = practice(client(), policy=policy(steps=["reminder", "reminder", "forfeit"]))
    verdicts = [
        only(judge(decline(session()), gentle, {ANA: earlier(*(n * DAY for n in range(1, k + 1)))}))
        for k in range(4)
    ]

    assert [d.verdict for d in verdicts] == [
        Verdict.REMINDER,
        Verdict.REMINDER,
        Verdict.FORFEIT,
        Verdict.FORFEIT,
    ]
    assert [d.offence for d in verdicts] == [1, 2, 3, 4]


def test_a_strict_policy_forfeits_the_very_first_time() -> None:
    strict = practice(client(), policy=policy(steps=["forfeit"]))

    decided = only(judge(decline(session()), strict, {}))

    assert_counted(decided, Verdict.FORFEIT, offence=1)


def test_late_decline_older_than_the_lookback_does_not_count() -> None:
    history = {ANA: earlier(366 * DAY, 2 * 365 * DAY)}

    decided = only(judge(decline(session()), practice(client()), history))

    assert_counted(decided, Verdict.REMINDER, offence=1)
    assert decided.reasons[-1] == "1st late cancellation in the last 365 days"


def test_a_late_decline_exactly_one_lookback_ago_still_counts() -> None:
    decided = only(judge(decline(session()), practice(client()), {ANA: earlier(365 * DAY)}))

    assert_counted(decided, Verdict.FORFEIT, offence=2)


def test_a_shorter_lookback_forgets_sooner() -> None:
    quarterly = practice(client(), policy=policy(lookback="90d"))

    decided = only(judge(decline(session()), quarterly, {ANA: earlier(91 * DAY)}))

    assert_counted(decided, Verdict.REMINDER, offence=1)
    assert decided.reasons[-1] == "1st late cancellation in the last 90 days"


def test_another_clients_history_does_not_count_against_ana() -> None:
    history = {BEN: earlier(DAY, 2 * DAY)}

    decided = only(judge(decline(session()), practice(client()), history))

    assert_counted(decided, Verdict.REMINDER, offence=1)


# --- Lateness -------------------------------------------------------------------------------


def test_decline_with_two_days_notice_is_ignored() -> None:
    decided = only(judge(decline(session(starts_in=2 * DAY)), practice(client()), {}))

    assert_not_counted(decided, Verdict.IGNORE)
    assert decided.notice == 2 * DAY
    assert decided.reasons == ("cancelled 2 days before the session; the late window is 24 h",)


@pytest.mark.parametrize(
    ("starts_in", "late"),
    [
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=24), False),
        (timedelta(hours=24, seconds=1), False),
    ],
    ids=["a-second-inside", "exactly-24h-is-on-time", "a-second-outside"],
)
def test_the_late_window_boundary(starts_in: timedelta, late: bool) -> None:
    decided = only(judge(decline(session(starts_in=starts_in)), practice(client()), {}))

    assert decided.verdict is (Verdict.REMINDER if late else Verdict.IGNORE)
    assert decided.counts is late


def test_a_longer_late_window_makes_two_days_notice_late() -> None:
    two_days = practice(client(), policy=policy(late_window="72h"))

    decided = only(judge(decline(session(starts_in=2 * DAY)), two_days, {}))

    assert_counted(decided, Verdict.REMINDER, offence=1)
    assert (
        decided.reasons[0] == "cancelled 2 days before the session, inside the 3 days late window"
    )


def test_cancelled_after_start_but_before_end_counts_as_late() -> None:
    started = session(starts_in=-timedelta(minutes=20))

    decided = only(judge(decline(started), practice(client()), {}))

    assert_counted(decided, Verdict.REMINDER, offence=1)
    assert decided.notice == -timedelta(minutes=20)
    assert decided.reasons[0] == (
        "cancelled 20 min after the session started, inside the 24 h late window"
    )


def test_cancelled_after_the_session_ended_is_clean_up() -> None:
    # Maria tidies last week's calendar; the worker first notices it now, after a gap that
    # began when the session was already over.
    last_week = session(starts_in=-7 * DAY)
    tidied = fact(FactKind.DELETED, last_week, earliest=last_week.end + HOUR)

    decided = only(judge(tidied, practice(client(), policy=policy(own_deletion="client")), {}))

    assert_not_counted(decided, Verdict.IGNORE)
    assert decided.reasons == ("removed after the session had ended (calendar clean-up)",)


@pytest.mark.parametrize(
    "cancellation",
    ["decline", "client-organiser-cancels"],
)
def test_exact_cancellation_after_the_session_ended_is_clean_up(cancellation: str) -> None:
    last_week = session(starts_in=-7 * DAY, organizer_email=ANA, organizer_is_practitioner=False)
    later = last_week.end + 3 * DAY
    if cancellation == "decline":
        cleaned = decline(last_week, at=later)
    else:
        cleaned = fact(FactKind.CANCELLED_BY_CLIENT_ORGANIZER, last_week, at=later)

    decided = only(judge(cleaned, practice(client()), {ANA: earlier(30 * DAY)}))

    assert_not_counted(decided, Verdict.IGNORE)
    assert decided.reasons == ("removed after the session had ended (calendar clean-up)",)


# --- Gaps in watching (outages) -------------------------------------------------------------


def test_outage_makes_uncertain_lateness_go_to_review_never_forfeit() -> None:
    # The worker was down from 13:00 yesterday; the session starts at 19:00 today. The
    # decline happened somewhere in between: 30 h or 10 h before the session.
    tonight = session(starts_in=10 * HOUR)
    seen_now = decline(tonight, earliest=NOW - 20 * HOUR)

    decided = only(judge(seen_now, practice(client()), {ANA: earlier(10 * DAY)}))

    assert_not_counted(decided, Verdict.REVIEW)
    assert decided.notice == 10 * HOUR
    assert decided.reasons == (
        "first seen at 2026-11-23 09:00 UTC after a gap in watching since 2026-11-22 13:00 UTC; "
        "whether it was late depends on when it happened",
    )


def test_outage_that_cannot_change_the_answer_is_still_decided() -> None:
    tonight = session(starts_in=10 * HOUR)
    inside = decline(tonight, earliest=NOW - 2 * HOUR)  # 12 h to 10 h before: late either way
    next_week = session(starts_in=7 * DAY)
    outside = decline(next_week, earliest=NOW - 2 * DAY)  # days of notice either way

    late = only(judge(inside, practice(client()), {ANA: earlier(10 * DAY)}))
    early = only(judge(outside, practice(client()), {ANA: earlier(10 * DAY)}))

    assert_counted(late, Verdict.FORFEIT, offence=2)
    assert late.notice == 10 * HOUR
    assert late.reasons[0] == "cancelled 10 h before the session, inside the 24 h late window"
    assert_not_counted(early, Verdict.IGNORE)
    assert early.reasons == ("cancelled 7 days before the session; the late window is 24 h",)


def test_outage_reaching_exactly_the_boundary_goes_to_review() -> None:
    # Could have been exactly 24 h before (on time) or 10 h before (late): not decidable.
    tonight = session(starts_in=10 * HOUR)
    seen_now = decline(tonight, earliest=tonight.start - 24 * HOUR)

    decided = only(judge(seen_now, practice(client()), {}))

    assert_not_counted(decided, Verdict.REVIEW)


def test_outage_spanning_the_end_of_the_session_goes_to_review() -> None:
    yesterday = session(starts_in=-DAY)
    seen_now = decline(yesterday, earliest=yesterday.start - 2 * HOUR)

    decided = only(judge(seen_now, practice(client()), {ANA: earlier(10 * DAY)}))

    assert_not_counted(decided, Verdict.REVIEW)


# --- Who cancelled --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [FactKind.DELETED, FactKind.INSTANCE_CANCELLED])
def test_practitioner_deleting_a_session_goes_to_review(kind: FactKind) -> None:
    deleted = fact(kind, session(series_id="weekly-ana"), earliest=NOW - timedelta(minutes=1))

    decided = only(judge(deleted, practice(client()), {ANA: earlier(10 * DAY)}))

    assert_not_counted(decided, Verdict.REVIEW)
    assert decided.client == client()
    assert decided.reasons == (
        LATE_3H10,
        "you deleted or cancelled this session yourself, so it waits for your review",
    )


@pytest.mark.parametrize(
    ("own_deletion", "verdict", "reasons"),
    [
        (
            "client",
            Verdict.FORFEIT,
            (
                LATE_3H10,
                "recorded as the client's cancellation",
                "2nd late cancellation in the last 365 days",
                "rests on the reminder FW-1 sent on 13 Nov",
            ),
        ),
        (
            "ignore",
            Verdict.IGNORE,
            (
                LATE_3H10,
                "you deleted or cancelled this session yourself, so your own "
                "cancellations are ignored",
            ),
        ),
    ],
)
def test_own_deletion_can_be_configured_to_count_or_be_ignored(
    own_deletion: str, verdict: Verdict, reasons: tuple[str, ...]
) -> None:
    chosen = practice(client(), policy=policy(own_deletion=own_deletion))

    decided = only(judge(fact(FactKind.DELETED, session()), chosen, {ANA: earlier(10 * DAY)}))

    assert decided.verdict is verdict
    assert decided.counts is (verdict is Verdict.FORFEIT)
    assert decided.reasons == reasons


def test_own_deletion_of_a_session_with_days_notice_is_simply_on_time() -> None:
    deleted = fact(FactKind.DELETED, session(starts_in=3 * DAY))

    decided = only(judge(deleted, practice(client()), {}))

    assert_not_counted(decided, Verdict.IGNORE)
    assert decided.reasons == ("cancelled 3 days before the session; the late window is 24 h",)


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("LC Coaching with Ana", ""),
        ("Coaching with Ana (lc)", ""),
        ("Coaching with Ana", "Texted me at 7am. Cancelled by client."),
        ("Coaching with Ana - late cancel", ""),
    ],
)
def test_marker_in_title_counts_as_client_cancellation(title: str, description: str) -> None:
    marked = session(title=title, description=description)

    deleted = only(judge(fact(FactKind.DELETED, marked), practice(client()), {}))
    recorded = only(judge(fact(FactKind.MARKED, marked), practice(client()), {}))

    assert_counted(deleted, Verdict.REMINDER, offence=1)
    assert deleted.reasons == (
        LATE_3H10,
        "recorded as the client's cancellation",
        "1st late cancellation in the last 365 days",
    )
    assert_counted(recorded, Verdict.REMINDER, offence=1)
    assert recorded.reasons[1] == "your calendar entry marks it as cancelled by the client"


def test_marker_must_be_a_whole_word() -> None:
    # "LCD" and "calc" contain the letters but are not the marker.
    deleted = fact(FactKind.DELETED, session(title="Ana: LCD screen calc practice"))

    decided = only(judge(deleted, practice(client()), {}))

    assert_not_counted(decided, Verdict.REVIEW)


def test_practitioner_can_choose_their_own_marker() -> None:
    own = practice(client(), policy=policy(markers=["CXL"]))

    marked = only(judge(fact(FactKind.DELETED, session(title="CXL Ana")), own, {}))
    default_marker = only(judge(fact(FactKind.DELETED, session(title="LC Ana")), own, {}))

    assert_counted(marked, Verdict.REMINDER, offence=1)
    assert_not_counted(default_marker, Verdict.REVIEW)


def test_client_organised_event_cancelled_counts() -> None:
    # Ana organised the session from her own calendar and invited Maria and Ben.
    hers = session(
        organizer_email=ANA,
        organizer_is_practitioner=False,
        attendees=[person(ANA, "Ana Ruiz"), maria(), person(BEN, "Ben")],
    )

    decided = only(
        judge(fact(FactKind.CANCELLED_BY_CLIENT_ORGANIZER, hers), practice(client()), {})
    )

    assert_counted(decided, Verdict.REMINDER, offence=1)
    assert decided.reasons == (
        LATE_3H10,
        "the client cancelled a session they organised",
        "1st late cancellation in the last 365 days",
    )


def test_client_organiser_not_among_the_attendees_is_still_the_one_judged() -> None:
    hers = session(
        organizer_email="Ana@Client.Example",
        organizer_is_practitioner=False,
        attendees=[maria()],
    )

    decided = only(judge(fact(FactKind.CANCELLED_BY_CLIENT_ORGANIZER, hers), practice(), {}))

    assert_counted(decided, Verdict.REMINDER, offence=1)


def test_event_organised_and_cancelled_by_a_colleague_is_not_charged_to_the_client() -> None:
    colleagues = session(
        organizer_email="lucia@clinic.example",
        organizer_is_practitioner=False,
        attendees=[maria(), person(ANA, "Ana Ruiz")],
    )
    cancelled = fact(FactKind.CANCELLED_BY_CLIENT_ORGANIZER, colleagues)
    setup = practice(client(), policy=policy(ignored_domains=["clinic.example"]))

    decisions = judge(cancelled, setup, {ANA: earlier(10 * DAY)})

    assert not any(d.verdict.sends_notice or d.counts for d in decisions)


@pytest.mark.parametrize(
    ("comment", "word"),
    [
        ("So sorry, my mother is in the hospital", "hospital"),
        ("I'm ill, I will have to cancel", "ill"),
        ("There has been an accident on the motorway", "accident"),
        ("Lo siento, estoy en el hospital con mi hija", "hospital"),
        ("Tengo una urgencia familiar", "urgencia"),
        ("Estoy enferma desde ayer", "enferma"),
    ],
)
def test_hospital_in_the_decline_comment_goes_to_review(comment: str, word: str) -> None:
    noted = decline(session(), comment=comment)

    decided = only(judge(noted, practice(client()), {ANA: earlier(10 * DAY)}))

    assert_not_counted(decided, Verdict.REVIEW)
    assert decided.notice == timedelta(hours=3, minutes=10)
    assert decided.reasons == (
        LATE_3H10,
        f"their note mentions '{word}', which may be an emergency",
    )


def test_an_ordinary_decline_comment_still_counts() -> None:
    noted = decline(session(), comment="Something came up at work, sorry!")

    decided = only(judge(noted, practice(client()), {ANA: earlier(10 * DAY)}))

    assert_counted(decided, Verdict.FORFEIT, offence=2)


def test_emergency_in_the_practitioners_marked_description_goes_to_review() -> None:
    marked = session(title="LC Ana", description="She called: her son had an accident")

    decided = only(judge(fact(FactKind.MARKED, marked), practice(client()), {}))

    assert_not_counted(decided, Verdict.REVIEW)
    assert decided.reasons[1] == "their note mentions 'accident', which may be an emergency"


def test_emergency_words_are_configurable_per_language() -> None:
    german = practice(client(), policy=policy(emergency_words={"de": ["Krankenhaus"]}))

    krankenhaus = only(judge(decline(session(), comment="Ich bin im Krankenhaus"), german, {}))
    hospital = only(judge(decline(session(), comment="I'm in hospital"), german, {}))

    assert_not_counted(krankenhaus, Verdict.REVIEW)
    assert_counted(hospital, Verdict.REMINDER, offence=1)


def test_emergency_in_a_comment_given_with_days_of_notice_changes_nothing() -> None:
    noted = decline(session(starts_in=3 * DAY), comment="hospital appointment")

    decided = only(judge(noted, practice(client()), {}))

    assert_not_counted(decided, Verdict.IGNORE)


# --- Which clients ------------------------------------------------------------------------


def test_exempt_client_is_never_charged() -> None:
    family = client(exempt=True)

    decided = only(judge(decline(session()), practice(family), {ANA: earlier(10 * DAY)}))

    assert_not_counted(decided, Verdict.IGNORE)
    assert decided.client == family
    assert decided.reasons == ("Ana Ruiz is exempt from the policy",)


def test_exempt_client_without_a_name_is_named_by_address() -> None:
    nameless = client(name="", exempt=True)
    anonymous = session(attendees=[maria(), ANA])

    decided = only(judge(decline(anonymous), practice(nameless), {}))

    assert decided.reasons == (f"{ANA} is exempt from the policy",)


def test_room_and_practitioner_are_not_clients() -> None:
    just_us = session(title="Admin time", attendees=[maria(), room()])

    deleted = only(judge(fact(FactKind.DELETED, just_us), practice(client()), {}))
    room_declined = only(judge(decline(just_us, ROOM), practice(client()), {}))
    maria_declined = only(judge(decline(just_us, PRACTITIONER.upper()), practice(client()), {}))

    for decided in (deleted, room_declined, maria_declined):
        assert_not_counted(decided, Verdict.IGNORE)
        assert decided.client is None
        assert decided.reasons == ("no client is invited to this session",)


def test_the_room_is_not_judged_alongside_the_client() -> None:
    booked = session(attendees=[maria(), room(), person(ANA, "Ana Ruiz")])

    decisions = judge(fact(FactKind.DELETED, booked), practice(client()), {})

    assert [d.client.email for d in decisions if d.client] == [ANA]


@pytest.mark.parametrize("configured", ["clinic.example", "Clinic.Example"])
def test_ignored_domain_is_not_a_client(configured: str) -> None:
    supervision = session(
        title="Supervision", attendees=[maria(), person("Lucia@clinic.example", "Lucía")]
    )
    setup = practice(client(), policy=policy(ignored_domains=[configured]))

    decided = only(judge(decline(supervision, "Lucia@clinic.example"), setup, {}))

    assert_not_counted(decided, Verdict.IGNORE)
    assert decided.client is None


def test_group_session_judges_each_declining_attendee_alone() -> None:
    group = session(
        key="group-tuesday",
        title="Tuesday group",
        attendees=[maria(), person(ANA, "Ana Ruiz"), person(BEN, "Ben"), person(CARLA, "Carla")],
    )
    setup = practice(client(), client(BEN, "Ben Ode"), client(CARLA, "Carla", exempt=True))
    history = {ANA: earlier(10 * DAY)}

    ana = only(judge(decline(group, ANA), setup, history))
    ben = only(judge(decline(group, BEN, comment="flu, sorry - feeling sick"), setup, history))
    carla = only(judge(decline(group, CARLA), setup, history))

    assert_counted(ana, Verdict.FORFEIT, offence=2, email=ANA)
    assert_not_counted(ben, Verdict.REVIEW)
    assert ben.client is not None
    assert ben.client.email == BEN
    assert_not_counted(carla, Verdict.IGNORE)
    assert carla.reasons == ("Carla is exempt from the policy",)


def test_group_session_deleted_as_the_clients_decides_for_each_client() -> None:
    group = session(
        title="Tuesday group",
        attendees=[maria(), person(ANA, "Ana Ruiz"), person(BEN, "Ben"), room()],
    )
    setup = practice(client(), policy=policy(own_deletion="client"))

    decisions = judge(fact(FactKind.DELETED, group), setup, {ANA: earlier(10 * DAY)})

    assert [(d.client.email if d.client else None, d.verdict) for d in decisions] == [
        (ANA, Verdict.FORFEIT),
        (BEN, Verdict.REMINDER),
    ]


def test_client_known_only_from_the_calendar_is_named_as_invited() -> None:
    stranger = session(attendees=[maria(), person("Dana@Elsewhere.example", "Dana Li")])

    decided = only(judge(decline(stranger, "Dana@Elsewhere.example"), practice(), {}))

    assert_counted(decided, Verdict.REMINDER, offence=1, email="dana@elsewhere.example")
    assert decided.client is not None
    assert decided.client.name == "Dana Li"


def test_directory_details_travel_with_the_decision() -> None:
    known = client(name="", language="es", time_zone="Europe/Madrid", prepaid_balance=4)

    decided = only(judge(decline(session()), practice(known), {}))

    assert decided.client is not None
    assert (decided.client.name, decided.client.language, decided.client.prepaid_balance) == (
        "Ana Ruiz",
        "es",
        4,
    )


def test_client_found_by_name_in_title_when_no_attendee() -> None:
    directory = practice(
        client(aliases=("Ani",)),
        client(BEN, "Ben Ode"),
        policy=policy(own_deletion="client"),
    )

    by_name = only(
        judge(fact(FactKind.DELETED, session(title="Ana Ruiz", attendees=())), directory, {})
    )
    by_alias = only(
        judge(fact(FactKind.DELETED, session(title="ani – coaching", attendees=())), directory, {})
    )
    marked = only(
        judge(
            fact(FactKind.DELETED, session(title="LC Ben Ode", attendees=())),
            practice(client(BEN, "Ben Ode")),
            {},
        )
    )

    assert_counted(by_name, Verdict.REMINDER, offence=1, email=ANA)
    assert_counted(by_alias, Verdict.REMINDER, offence=1, email=ANA)
    assert_counted(marked, Verdict.REMINDER, offence=1, email=BEN)
    assert marked.reasons[1] == "recorded as the client's cancellation"


def test_a_name_inside_another_word_is_not_a_client() -> None:
    anamaria = session(title="Anamaria's birthday", attendees=())

    decided = only(judge(fact(FactKind.DELETED, anamaria), practice(client(name="Ana")), {}))

    assert_not_counted(decided, Verdict.IGNORE)
    assert decided.reasons == ("no client is invited to this session",)


def test_restored_session_needs_no_decision() -> None:
    assert judge(fact(FactKind.RESTORED, session()), practice(client()), {}) == []


# --- Moves and filters ----------------------------------------------------------------------


def test_reschedule_is_ignored_by_default_but_late_moves_can_count() -> None:
    moved = fact(FactKind.MOVED, session(), new_start=NOW + 2 * DAY)
    moved_early = fact(FactKind.MOVED, session(starts_in=3 * DAY), new_start=NOW + 5 * DAY)
    counting = practice(client(), policy=policy(late_moves_count=True))

    by_default = only(judge(moved, practice(client()), {}))
    late_move = only(judge(moved, counting, {}))
    early_move = only(judge(moved_early, counting, {}))

    assert_not_counted(by_default, Verdict.IGNORE)
    assert by_default.reasons == ("the session was rescheduled, not cancelled",)
    assert_counted(late_move, Verdict.REMINDER, offence=1)
    assert late_move.reasons == (
        LATE_3H10,
        "moved late, and late moves count",
        "1st late cancellation in the last 365 days",
    )
    assert_not_counted(early_move, Verdict.IGNORE)


def test_a_title_naming_someone_at_an_ignored_domain_names_no_client() -> None:
    colleague = client(BEN, "Ben Ode")
    domain = BEN.rpartition("@")[2]
    deleted = fact(FactKind.DELETED, session(title="LC Ben Ode", attendees=()))

    ignored = only(judge(deleted, practice(colleague, policy=policy(ignored_domains=[domain])), {}))
    counted = only(judge(deleted, practice(colleague, policy=policy(own_deletion="client")), {}))

    assert ignored.verdict is Verdict.IGNORE
    assert ignored.client is None
    assert not ignored.counts
    assert counted.client is not None


def test_title_include_and_exclude_filters() -> None:
    only_coaching = practice(client(), policy=policy(title_include=["coaching"]))
    no_free_calls = practice(client(), policy=policy(title_exclude=["Free"]))

    lunch = only(judge(decline(session(title="Lunch with Ana")), only_coaching, {}))
    coaching = only(judge(decline(session(title="COACHING – Ana")), only_coaching, {}))
    free = only(judge(decline(session(title="free intro call")), no_free_calls, {}))
    paid = only(judge(decline(session(title="Coaching with Ana")), no_free_calls, {}))

    assert_not_counted(lunch, Verdict.IGNORE)
    assert lunch.reasons == ("the title matches none of the policy's title_include words",)
    assert_counted(coaching, Verdict.REMINDER, offence=1)
    assert_not_counted(free, Verdict.IGNORE)
    assert free.reasons == ("the title contains 'Free', which title_exclude leaves out",)
    assert_counted(paid, Verdict.REMINDER, offence=1)


def test_exclude_wins_over_include() -> None:
    both = practice(client(), policy=policy(title_include=["coaching"], title_exclude=["free"]))

    decided = only(judge(decline(session(title="Free coaching taster")), both, {}))

    assert_not_counted(decided, Verdict.IGNORE)


# --- Wording ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_in", "words"),
    [
        (timedelta(hours=3, minutes=10), "3 h 10 min before the session"),
        (timedelta(hours=3, minutes=10, seconds=59), "3 h 10 min before the session"),
        (timedelta(minutes=45), "45 min before the session"),
        (timedelta(hours=5), "5 h before the session"),
        (timedelta(seconds=20), "0 min before the session"),
        (-timedelta(minutes=5), "5 min after the session started"),
    ],
)
def test_reasons_quote_the_notice_given(starts_in: timedelta, words: str) -> None:
    decided = only(judge(decline(session(starts_in=starts_in)), practice(client()), {}))

    assert decided.notice == starts_in
    assert decided.reasons[0] == f"cancelled {words}, inside the 24 h late window"
    assert describe_notice(starts_in) == words


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(hours=24), "24 h"),
        (timedelta(hours=25), "25 h"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=365), "365 days"),
        (timedelta(days=2, hours=1), "49 h"),
        (timedelta(minutes=90), "1 h 30 min"),
        (timedelta(minutes=1), "1 min"),
    ],
)
def test_spans_are_short_and_exact(span: timedelta, words: str) -> None:
    assert describe_span(span) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
        (112, "112th"),
    ],
)
def test_offences_are_counted_in_ordinals(number: int, words: str) -> None:
    assert ordinal(number) == words


def test_every_decision_keeps_its_fact() -> None:
    cancelled = decline(session())

    decided = only(judge(cancelled, practice(client()), {}))

    assert decided.fact is cancelled
