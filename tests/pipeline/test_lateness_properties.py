"""Properties of the judgement that must hold for every time zone, DST night and policy.

Lateness is elapsed time: a session at 10:00 on the Sunday the clocks spring forward, declined
at 10:00 on the Saturday, had 23 h of notice, not 24. Sessions here start at local wall
times near the 2026 transitions of zones with odd offsets and odd DST rules (Lord Howe moves
by 30 min, Chatham sits at +12:45, Kathmandu at +5:45), converted with zoneinfo — both
readings (`fold`) of the repeated autumn hour included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    person,
    policy,
    practice,
    session,
)
from worker.config import Policy
from worker.model import (
    Attendee,
    CancelTime,
    CancelTimeSource,
    Client,
    Decision,
    Fact,
    FactKind,
    Response,
    Session,
    Verdict,
)
from worker.pipeline.ladder import Offence, ordinal
from worker.pipeline.rules import judge

ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Asia/Kathmandu",
    "Pacific/Chatham",
)
# US spring, EU spring, EU autumn, US autumn, and the southern hemisphere's April and
# September/October changes (Lord Howe, Adelaide, Chatham, Santiago).
TRANSITION_DAYS = (
    date(2026, 3, 8),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 11, 1),
    date(2026, 4, 5),
    date(2026, 9, 6),
    date(2026, 9, 27),
    date(2026, 10, 4),
)
LENGTH = HOUR
QUICK = settings(max_examples=100, deadline=None)
THOROUGH = settings(max_examples=200, deadline=None)


@st.composite
def local_starts(draw: st.DrawFn) -> datetime:
    """A session's start as a wall-clock time within two days of a DST transition."""
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    day = draw(st.sampled_from(TRANSITION_DAYS))
    minutes = draw(st.integers(min_value=-48 * 60, max_value=48 * 60))
    wall = datetime.combine(day, time(2, 0)) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=zone, fold=draw(st.integers(0, 1)))


late_windows = st.integers(min_value=60, max_value=72 * 60).map(lambda m: timedelta(minutes=m))


def only(decisions: list[Decision]) -> Decision:
    assert len(decisions) == 1, decisions
    return decisions[0]


def judged(
    start: datetime,
    cancel: CancelTime,
    window: timedelta,
    history: dict[str, list[Offence]] | None = None,
) -> Decision:
    booked = session(start=start.astimezone(UTC), length=LENGTH)
    declined = Fact(
        FactKind.DECLINED,
        booked,
        cancel,
        attendee=person(ANA, response=Response.DECLINED, responded_at=cancel.latest),
    )
    setup = practice(client(), policy=policy(late_window=window))
    return only(judge(declined, setup, history or {}))


# --- Lateness is elapsed time -----------------------------------------------------------------


@THOROUGH
@given(
    start=local_starts(),
    notice=st.timedeltas(min_value=-LENGTH + timedelta(seconds=1), max_value=100 * HOUR),
    window=late_windows,
)
def test_late_iff_elapsed_notice_is_under_the_window(
    start: datetime, notice: timedelta, window: timedelta
) -> None:
    cancelled = start.astimezone(UTC) - notice

    decided = judged(start, CancelTime(cancelled, CancelTimeSource.RESPONSE_TIME), window)

    late = notice < window
    assert decided.counts is late
    assert decided.verdict is (Verdict.REMINDER if late else Verdict.IGNORE)
    assert decided.notice == notice


@THOROUGH
@given(
    start=local_starts(),
    wall_minutes=st.integers(min_value=-59, max_value=100 * 60),
    cancel_fold=st.integers(0, 1),
    window=late_windows,
)
def test_a_cancel_time_read_off_the_local_clock_is_judged_in_elapsed_time(
    start: datetime, wall_minutes: int, cancel_fold: int, window: timedelta
) -> None:
    # The client cancelled `wall_minutes` earlier by the clock on the wall, in the same zone.
    wall = start.replace(tzinfo=None) - timedelta(minutes=wall_minutes)
    cancelled = wall.replace(tzinfo=start.tzinfo, fold=cancel_fold).astimezone(UTC)
    start_utc = start.astimezone(UTC)
    elapsed = start_utc - cancelled
    if elapsed <= -LENGTH:
        return  # after the session ended: clean-up, judged elsewhere

    decided = judged(start, CancelTime(cancelled, CancelTimeSource.RESPONSE_TIME), window)

    assert decided.counts is (elapsed < window)
    assert decided.notice == elapsed


def _utc(zone: str, wall: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "session_at", "session_fold", "cancelled_at", "elapsed", "late"),
    [
        # Spring forward: the Saturday-to-Sunday night is 23 h long.
        ("Europe/London", "2026-03-29 10:00", 0, "2026-03-28 10:00", "23:00", True),
        ("Europe/London", "2026-03-29 10:00", 0, "2026-03-28 09:01", "23:59", True),
        ("Europe/London", "2026-03-29 10:00", 0, "2026-03-28 08:59", "24:01", False),
        ("America/New_York", "2026-03-08 10:00", 0, "2026-03-07 10:00", "23:00", True),
        ("America/New_York", "2026-03-08 10:00", 0, "2026-03-07 09:01", "23:59", True),
        ("America/New_York", "2026-03-08 10:00", 0, "2026-03-07 08:59", "24:01", False),
        ("Pacific/Chatham", "2026-09-27 10:00", 0, "2026-09-26 09:30", "23:30", True),
        # Fall back: the night is 25 h long (30 min longer on Lord Howe).
        ("Europe/London", "2026-10-25 10:00", 0, "2026-10-24 10:00", "25:00", False),
        ("Europe/London", "2026-10-25 10:00", 0, "2026-10-24 10:30", "24:30", False),
        ("Europe/London", "2026-10-25 10:00", 0, "2026-10-24 11:01", "23:59", True),
        ("America/New_York", "2026-11-01 10:00", 0, "2026-10-31 10:30", "24:30", False),
        ("Australia/Lord_Howe", "2026-04-05 10:00", 0, "2026-04-04 10:15", "24:15", False),
        ("Australia/Lord_Howe", "2026-04-05 10:00", 0, "2026-04-04 10:31", "23:59", True),
        # No DST, odd offset: the wall clock and elapsed time agree.
        ("Asia/Kathmandu", "2026-03-29 10:00", 0, "2026-03-28 10:00", "24:00", False),
        ("Asia/Kathmandu", "2026-03-29 10:00", 0, "2026-03-28 10:01", "23:59", True),
        # The repeated hour: 01:30 happens twice on 25 October in London.
        ("Europe/London", "2026-10-25 01:30", 0, "2026-10-24 01:30", "24:00", False),
        ("Europe/London", "2026-10-25 01:30", 1, "2026-10-24 01:30", "25:00", False),
        ("Europe/London", "2026-10-25 01:30", 0, "2026-10-24 02:00", "23:30", True),
        ("Europe/London", "2026-10-25 01:30", 1, "2026-10-24 02:00", "24:30", False),
    ],
)
def test_dst_nights_are_judged_by_elapsed_time(
    zone: str, session_at: str, session_fold: int, cancelled_at: str, elapsed: str, late: bool
) -> None:
    start = _utc(zone, session_at, session_fold)
    cancelled = _utc(zone, cancelled_at)
    hours, minutes = (int(part) for part in elapsed.split(":"))
    assert start - cancelled == timedelta(hours=hours, minutes=minutes)  # the example is right

    decided = judged(start, CancelTime(cancelled, CancelTimeSource.RESPONSE_TIME), 24 * HOUR)

    assert decided.verdict is (Verdict.REMINDER if late else Verdict.IGNORE)


# --- Gaps in watching -------------------------------------------------------------------------


@st.composite
def gaps_across_the_boundary(draw: st.DrawFn) -> tuple[timedelta, timedelta, timedelta]:
    """(late window, least notice, most notice) with least < window <= most."""
    window = draw(late_windows)
    seconds = int(window.total_seconds())
    least = draw(st.integers(min_value=-int(LENGTH.total_seconds()) + 1, max_value=seconds - 1))
    most = draw(st.integers(min_value=seconds, max_value=seconds + 72 * 3600))
    return window, timedelta(seconds=least), timedelta(seconds=most)


@THOROUGH
@given(
    start=local_starts(),
    gap=gaps_across_the_boundary(),
    priors=st.integers(min_value=0, max_value=5),
)
def test_a_gap_across_the_boundary_always_goes_to_review_never_forfeit(
    start: datetime, gap: tuple[timedelta, timedelta, timedelta], priors: int
) -> None:
    window, least, most = gap
    start_utc = start.astimezone(UTC)
    seen = CancelTime(start_utc - least, CancelTimeSource.FIRST_SEEN, earliest=start_utc - most)
    history = {
        ANA: [
            Offence(start_utc - least - (n + 1) * DAY, start_utc - least - (n + 1) * DAY + HOUR)
            for n in range(priors)
        ]
    }

    decided = judged(start, seen, window, history)

    assert decided.verdict is Verdict.REVIEW
    assert decided.counts is False
    assert decided.offence == 0
    assert decided.notice == least


@QUICK
@given(
    start=local_starts(),
    window=late_windows,
    first=st.integers(min_value=-3599, max_value=100 * 3600),
    second=st.integers(min_value=-3599, max_value=100 * 3600),
)
def test_a_gap_that_cannot_change_the_answer_is_decided(
    start: datetime, window: timedelta, first: int, second: int
) -> None:
    least, most = sorted((timedelta(seconds=first), timedelta(seconds=second)))
    start_utc = start.astimezone(UTC)
    seen = CancelTime(start_utc - least, CancelTimeSource.FIRST_SEEN, earliest=start_utc - most)

    decided = judged(start, seen, window)

    if least >= window:
        assert decided.verdict is Verdict.IGNORE
    elif most >= window:
        assert decided.verdict is Verdict.REVIEW
    else:
        assert decided.verdict is Verdict.REMINDER
        assert decided.counts is True


# --- The ladder -------------------------------------------------------------------------------


# An earlier late cancellation: how long before this one it happened (seconds), how long after
# it its notice reached the client (None: it never did), and whether it joined another's notice.
earlier_cases = st.tuples(
    st.integers(min_value=1, max_value=800 * 86400),
    st.none() | st.integers(min_value=0, max_value=30 * 86400),
    st.booleans(),
)


@QUICK
@given(
    earlier=st.lists(earlier_cases, max_size=8),
    lookback_days=st.integers(min_value=1, max_value=730),
    steps=st.lists(st.sampled_from(["reminder", "forfeit"]), min_size=1, max_size=4),
    start=local_starts(),
)
def test_the_step_is_one_more_than_the_warnings_that_reached_the_client_before_it(
    earlier: list[tuple[int, int | None, bool]],
    lookback_days: int,
    steps: list[str],
    start: datetime,
) -> None:
    start_utc = start.astimezone(UTC)
    cancelled = start_utc - 2 * HOUR
    lookback = timedelta(days=lookback_days)
    history = {
        ANA: [
            Offence(
                cancelled_at=cancelled - timedelta(seconds=ago),
                warned_at=None if after is None else cancelled - timedelta(seconds=ago - after),
                notice=f"the reminder FW-{n}",
                joined=joined,
            )
            for n, (ago, after, joined) in enumerate(earlier)
        ],
        BEN: [Offence(cancelled - DAY, cancelled - DAY + HOUR)],
    }
    setup = practice(client(), policy=policy(lookback=lookback, steps=steps))

    decided = only(judge(decline(session(start=start_utc), at=cancelled), setup, history))

    recent = [
        (ago, after, joined) for ago, after, joined in earlier if ago <= lookback_days * 86400
    ]
    warned = [(ago, after) for ago, after, joined in recent if not joined and after is not None]
    step = 1 + sum(1 for ago, after in warned if after < ago)
    assert decided.offence == step
    assert decided.verdict is Verdict(steps[min(step, len(steps)) - 1])
    count = f"{ordinal(len(recent) + 1)} late cancellation in the last "
    assert sum(r.startswith(count) for r in decided.reasons) == 1
    if step > 1:
        assert decided.reasons[-1].startswith("rests on the reminder FW-")
        assert datetime.fromisoformat(decided.details["warned_at"]) < cancelled
    else:
        assert "warned_at" not in decided.details


# --- Whatever happens, judge answers with reasons ---------------------------------------------

PEOPLE = (
    person(PRACTITIONER, "Maria"),
    person(PRACTITIONER.upper(), "Maria"),
    person(ROOM, "Room 2", is_resource=True),
    person(ANA, "Ana Ruiz"),
    person(ANA.upper(), "ANA"),
    person(BEN, "Ben"),
    person(CARLA),
    person("lucia@clinic.example", "Lucía"),
    person(""),
    person("not-an-address"),
)
CLIENTS = PEOPLE[3:7]
COMMENTS = ("", "sorry!", "in the hospital", "Tengo una urgencia", "ill", "LC")
TITLES = ("Coaching with Ana", "LC Ana Ruiz", "Free intro", "Supervision", "Ben Ode", "")
DIRECTORY = (
    client(),
    client(BEN, "Ben Ode", aliases=("Benji",)),
    client(CARLA, "", exempt=True),
    client("zoe@client.example", "Zoë", prepaid_balance=0),
)


@st.composite
def attendees(draw: st.DrawFn) -> Attendee:
    who = draw(st.sampled_from(PEOPLE) | st.sampled_from(CLIENTS))
    return Attendee(
        email=who.email,
        name=who.name,
        response=draw(st.sampled_from(Response)),
        comment=draw(st.sampled_from(COMMENTS) | st.text(max_size=20)),
        is_resource=who.is_resource,
    )


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    start = NOW + timedelta(
        minutes=draw(st.integers(min_value=-3 * 24 * 60, max_value=4 * 24 * 60))
    )
    return Session(
        key="s",
        title=draw(st.sampled_from(TITLES) | st.text(max_size=30)),
        start=start,
        end=start + timedelta(minutes=draw(st.integers(min_value=0, max_value=240))),
        organizer_email=draw(st.sampled_from([PRACTITIONER, ANA, "lucia@clinic.example", ""])),
        organizer_is_practitioner=draw(st.booleans()),
        attendees=tuple(draw(st.lists(attendees(), max_size=4))),
        description=draw(
            st.sampled_from(("", "cancelled by client", "funeral")) | st.text(max_size=20)
        ),
        all_day=draw(st.booleans()),
        series_id=draw(st.sampled_from(("", "weekly"))),
    )


@st.composite
def facts(draw: st.DrawFn) -> Fact:
    booked = draw(sessions())
    latest = NOW
    earliest = draw(
        st.none()
        | st.integers(min_value=-60, max_value=3 * 24 * 60).map(
            lambda m: latest - timedelta(minutes=m)
        )
    )
    kind = draw(st.sampled_from(FactKind))
    who = None
    if kind is FactKind.DECLINED:
        who = draw(st.none() | st.sampled_from(booked.attendees or PEOPLE) | attendees())
    return Fact(
        kind,
        booked,
        CancelTime(latest, draw(st.sampled_from(CancelTimeSource)), earliest),
        attendee=who,
        new_start=draw(st.none() | st.just(booked.start + DAY)),
    )


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    return policy(
        late_window=draw(late_windows),
        lookback=timedelta(days=draw(st.integers(min_value=1, max_value=730))),
        steps=draw(st.lists(st.sampled_from(["reminder", "forfeit"]), min_size=1, max_size=3)),
        own_deletion=draw(st.sampled_from(["review", "client", "ignore"])),
        late_moves_count=draw(st.booleans()),
        markers=draw(st.lists(st.sampled_from(["LC", "late cancel", "", "Ana"]), max_size=3)),
        ignored_domains=draw(st.sampled_from([(), (), ("clinic.example",), ("client.example",)])),
        title_include=draw(st.sampled_from([(), (), (), ("Coaching", "ana"), ("intro",)])),
        title_exclude=draw(st.sampled_from([(), (), ("Free",), ("supervision", "Ben")])),
        colleagues=draw(st.sampled_from([(), (), ("lucia@clinic.example",), (BEN,)])),
        judge=draw(st.sampled_from(["invited", "directory"])),
    )


@THOROUGH
@given(
    fact=facts(),
    rules=policies(),
    known=st.lists(st.sampled_from(DIRECTORY), unique=True),
    ago=st.lists(st.tuples(st.integers(0, 800), st.none() | st.integers(0, 900)), max_size=4),
    other=st.sampled_from([(), ("lucia@clinic.example",), (CARLA,)]),
)
def test_judge_always_answers_with_reasons(
    fact: Fact,
    rules: Policy,
    known: list[Client],
    ago: list[tuple[int, int | None]],
    other: tuple[str, ...],
) -> None:
    setup = practice(*known, policy=rules, other_addresses=other)
    history = {
        c.email: [
            Offence(
                NOW - timedelta(days=days),
                None if hours is None else NOW - timedelta(days=days) + timedelta(hours=hours),
            )
            for days, hours in ago
        ]
        for c in DIRECTORY
    }

    decisions = judge(fact, setup, history)

    if fact.kind is FactKind.RESTORED:
        assert decisions == []
        return
    assert decisions
    when = fact.cancelled_at
    least = fact.session.start - when.latest
    most = fact.session.start - (when.earliest or when.latest)
    uncertain = least < rules.late_window <= most
    for decided in decisions:
        assert decided.fact is fact
        assert decided.reasons
        assert all(isinstance(r, str) and r.strip() for r in decided.reasons)
        assert decided.counts is decided.verdict.sends_notice
        assert (decided.offence >= 1) is decided.counts
        if decided.verdict.sends_notice:
            assert decided.client is not None
            assert not decided.client.exempt
            assert decided.client.email.lower() != PRACTITIONER
            assert decided.client.email.lower() != ROOM
            assert decided.client.email.rpartition("@")[2] not in rules.ignored_domains
            assert decided.client.email.lower() not in (*rules.colleagues, *other)
            if rules.judge == "directory":
                assert decided.client.email.lower() in {c.email for c in known}
            assert not uncertain
            assert least < rules.late_window
        if decided.offence > 1:
            # Nobody climbs past the first step without a warning sent before they cancelled.
            assert datetime.fromisoformat(decided.details["warned_at"]) < when.latest
