"""Reading a poll: what changed on Maria's calendar since the worker last looked.

The worker polled a minute ago (`BEFORE`) and polls again at `NOW`; anything it sees for the
first time now happened somewhere in between, unless the calendar stamped the change later
than the previous poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.factories import (
    ANA,
    BEN,
    DAY,
    HOUR,
    NOW,
    client,
    listing,
    maria,
    person,
    practice,
    session,
)
from worker.model import (
    CalendarChanges,
    CancelTime,
    CancelTimeSource,
    Fact,
    FactKind,
    Response,
    Session,
    Verdict,
)
from worker.pipeline.facts import has_marker, observe
from worker.pipeline.rules import judge

BEFORE = NOW - timedelta(minutes=1)
MARKERS = ("LC", "late cancel", "cancelled by client")
FIRST_SEEN = CancelTime(NOW, CancelTimeSource.FIRST_SEEN, earliest=BEFORE)


def known(*sessions: Session) -> dict[str, Session]:
    return {s.key: s for s in sessions}


def look(
    snapshot: Mapping[str, Session],
    changes: CalendarChanges,
    *,
    previous_poll: datetime | None = BEFORE,
) -> tuple[list[Fact], list[Session]]:
    seen = observe(snapshot, changes, now=NOW, previous_poll=previous_poll, markers=MARKERS)
    return list(seen.facts), list(seen.upserts)


def the_fact(facts: list[Fact]) -> Fact:
    assert len(facts) == 1, facts
    return facts[0]


def declined_by_ana(
    of: Session, *, comment: str = "", responded_at: datetime | None = None, **fields: Any
) -> Session:
    attendees = tuple(
        replace(a, response=Response.DECLINED, comment=comment, responded_at=responded_at)
        if a.address == ANA
        else a
        for a in of.attendees
    )
    return replace(of, attendees=attendees, **fields)


# --- New and unchanged sessions ---------------------------------------------------------------


def test_a_new_session_is_remembered_without_a_fact() -> None:
    booked = session()

    facts, upserts = look({}, listing(booked))

    assert facts == []
    assert upserts == [booked]


def test_an_unchanged_session_needs_no_write() -> None:
    booked = session()

    assert look(known(booked), listing(booked)) == ([], [])


def test_a_new_session_already_cancelled_is_only_remembered() -> None:
    gone = session(cancelled=True)

    facts, upserts = look({}, listing(gone, complete=False))

    assert facts == []
    assert upserts == [gone]


# --- Declines ---------------------------------------------------------------------------------


def test_a_decline_names_the_attendee_and_their_comment() -> None:
    booked = session()
    declined = declined_by_ana(booked, comment="Sorry, stuck at work")

    facts, upserts = look(known(booked), listing(declined))

    found = the_fact(facts)
    assert found.kind is FactKind.DECLINED
    assert found.session == booked
    assert found.attendee is not None
    assert found.attendee.email == ANA
    assert found.attendee.comment == "Sorry, stuck at work"
    assert found.cancelled_at == FIRST_SEEN
    assert upserts == [declined]


def test_a_decline_with_a_response_time_uses_it() -> None:
    booked = session()
    responded = NOW - timedelta(seconds=30)

    facts, _ = look(known(booked), listing(declined_by_ana(booked, responded_at=responded)))

    assert the_fact(facts).cancelled_at == CancelTime(responded, CancelTimeSource.RESPONSE_TIME)


def test_a_response_time_from_before_the_previous_poll_is_not_trusted() -> None:
    booked = session()
    stale = BEFORE - HOUR

    facts, _ = look(known(booked), listing(declined_by_ana(booked, responded_at=stale)))

    assert the_fact(facts).cancelled_at == FIRST_SEEN


def test_a_response_time_in_the_future_is_capped_at_now() -> None:
    booked = session()

    facts, _ = look(known(booked), listing(declined_by_ana(booked, responded_at=NOW + HOUR)))

    assert the_fact(facts).cancelled_at == CancelTime(NOW, CancelTimeSource.RESPONSE_TIME)


def test_a_decline_without_response_time_uses_the_event_updated_stamp() -> None:
    booked = session()
    stamped = NOW - timedelta(seconds=20)

    facts, _ = look(known(booked), listing(declined_by_ana(booked, updated=stamped)))

    assert the_fact(facts).cancelled_at == CancelTime(stamped, CancelTimeSource.PROVIDER_UPDATED)


def test_each_declining_attendee_of_a_group_is_a_fact_of_its_own() -> None:
    group = session(attendees=[maria(), person(ANA), person(BEN)])
    both = replace(
        group,
        attendees=tuple(
            replace(a, response=Response.DECLINED) if a.address in (ANA, BEN) else a
            for a in group.attendees
        ),
    )

    facts, _ = look(known(group), listing(both))

    assert [(f.kind, f.attendee.email if f.attendee else None) for f in facts] == [
        (FactKind.DECLINED, ANA),
        (FactKind.DECLINED, BEN),
    ]


def test_a_decline_seen_again_is_not_a_new_fact() -> None:
    declined = declined_by_ana(session(), comment="sorry")
    edited = replace(declined, description="agenda: goals for December")

    facts, upserts = look(known(declined), listing(edited))

    assert facts == []
    assert upserts == [edited]


def test_declined_then_accepted_restores_for_that_attendee() -> None:
    declined = declined_by_ana(session())
    accepted = session()

    facts, upserts = look(known(declined), listing(accepted))

    found = the_fact(facts)
    assert found.kind is FactKind.RESTORED
    assert found.attendee is not None
    assert found.attendee.email == ANA
    assert found.attendee.response is Response.ACCEPTED
    assert upserts == [accepted]


def test_attendee_address_case_changes_are_not_a_decline() -> None:
    booked = session()
    shouting = replace(booked, attendees=(maria(), person(ANA.upper(), "Ana Ruiz")))

    facts, _ = look(known(booked), listing(shouting))

    assert facts == []


# --- Cancel times from the provider -----------------------------------------------------------


def test_updated_after_the_previous_poll_is_the_cancel_time() -> None:
    booked = session()
    stamped = NOW - timedelta(seconds=10)

    facts, _ = look(known(booked), listing(replace(booked, cancelled=True, updated=stamped)))

    found = the_fact(facts)
    assert found.kind is FactKind.DELETED
    assert found.cancelled_at == CancelTime(stamped, CancelTimeSource.PROVIDER_UPDATED)
    assert found.cancelled_at.is_exact


@pytest.mark.parametrize("stamped", [BEFORE, BEFORE - DAY])
def test_updated_older_than_the_previous_poll_is_only_first_seen(stamped: datetime) -> None:
    booked = session()

    facts, _ = look(known(booked), listing(replace(booked, cancelled=True, updated=stamped)))

    found = the_fact(facts)
    assert found.cancelled_at == FIRST_SEEN
    assert not found.cancelled_at.is_exact


def test_without_a_previous_poll_the_providers_stamp_is_trusted() -> None:
    booked = session()
    stamped = NOW - DAY

    facts, _ = look(
        known(booked),
        listing(replace(booked, cancelled=True, updated=stamped)),
        previous_poll=None,
    )

    assert the_fact(facts).cancelled_at == CancelTime(stamped, CancelTimeSource.PROVIDER_UPDATED)


def test_without_a_previous_poll_first_seen_has_no_lower_bound() -> None:
    booked = session()

    facts, _ = look(known(booked), listing(), previous_poll=None)

    assert the_fact(facts).cancelled_at == CancelTime(NOW, CancelTimeSource.FIRST_SEEN)


# --- Sessions that vanish from a complete listing ---------------------------------------------


def test_vanished_from_a_complete_listing_is_deleted() -> None:
    booked = session()

    facts, upserts = look(known(booked), listing())

    found = the_fact(facts)
    assert found.kind is FactKind.DELETED
    assert found.session == booked
    assert found.attendee is None
    assert found.cancelled_at == FIRST_SEEN
    assert upserts == [replace(booked, cancelled=True)]


def test_vanished_occurrence_of_a_series_is_an_instance_cancelled() -> None:
    weekly = session(key="weekly-ana@2026-11-23T12:10", series_id="weekly-ana")

    facts, upserts = look(known(weekly), listing())

    assert the_fact(facts).kind is FactKind.INSTANCE_CANCELLED
    assert upserts == [replace(weekly, cancelled=True)]


def test_vanished_session_the_client_organised_is_cancelled_by_them() -> None:
    hers = session(organizer_email=ANA, organizer_is_practitioner=False)

    facts, _ = look(known(hers), listing())

    assert the_fact(facts).kind is FactKind.CANCELLED_BY_CLIENT_ORGANIZER


def test_vanished_outside_the_listings_window_is_not_deleted() -> None:
    next_month = session(key="far", starts_in=40 * DAY)
    tomorrow = session(key="near", starts_in=DAY)
    window = (NOW - DAY, NOW + 30 * DAY)

    facts, upserts = look(known(next_month, tomorrow), listing(tomorrow, window=window))

    assert facts == []
    assert upserts == []


def test_vanished_from_the_window_start_edge_is_deleted() -> None:
    at_the_edge = session(start=NOW - DAY)

    facts, _ = look(known(at_the_edge), listing(window=(NOW - DAY, NOW + 30 * DAY)))

    assert the_fact(facts).kind is FactKind.DELETED


def test_vanished_under_an_unreadable_file_is_not_deleted() -> None:
    broken = session(key="ana-coaching.ics")
    readable = session(key="ben-coaching.ics")

    facts, upserts = look(
        known(broken, readable), listing(unreadable=("ana-coaching.ics",), window=None)
    )

    assert [(f.kind, f.session.key) for f in facts] == [(FactKind.DELETED, "ben-coaching.ics")]
    assert upserts == [replace(readable, cancelled=True)]


def test_an_already_cancelled_session_vanishing_is_not_news() -> None:
    gone = session(cancelled=True)

    assert look(known(gone), listing()) == ([], [])


# --- Incremental listings ---------------------------------------------------------------------


def test_incremental_listing_only_speaks_for_what_it_names() -> None:
    booked = session()

    assert look(known(booked), listing(complete=False)) == ([], [])


def test_removed_known_session_is_a_fact() -> None:
    booked = session()

    facts, upserts = look(known(booked), listing(complete=False, removed=(booked.key,)))

    assert the_fact(facts).kind is FactKind.DELETED
    assert the_fact(facts).cancelled_at == FIRST_SEEN
    assert upserts == [replace(booked, cancelled=True)]


def test_removed_unknown_id_is_ignored() -> None:
    # Graph reports events leaving its window as removed too.
    booked = session()

    facts, upserts = look(known(booked), listing(complete=False, removed=("somebody-else",)))

    assert (facts, upserts) == ([], [])


def test_removed_and_relisted_in_the_same_poll_is_not_deleted() -> None:
    booked = session()
    edited = replace(booked, title="Coaching with Ana (zoom)")

    facts, upserts = look(known(booked), listing(edited, complete=False, removed=(booked.key,)))

    assert facts == []
    assert upserts == [edited]


def test_status_cancelled_is_a_fact() -> None:
    booked = session(organizer_email=ANA, organizer_is_practitioner=False)
    cancelled = replace(booked, cancelled=True, updated=NOW - timedelta(seconds=5))

    facts, upserts = look(known(booked), listing(cancelled, complete=False))

    found = the_fact(facts)
    assert found.kind is FactKind.CANCELLED_BY_CLIENT_ORGANIZER
    assert found.session == booked
    assert upserts == [cancelled]


def test_cancelled_then_uncancelled_is_restored() -> None:
    cancelled = session(cancelled=True)
    back = session(updated=NOW - timedelta(seconds=5))

    facts, upserts = look(known(cancelled), listing(back, complete=False))

    found = the_fact(facts)
    assert found.kind is FactKind.RESTORED
    assert found.attendee is None
    assert found.cancelled_at == CancelTime(back.updated or NOW, CancelTimeSource.PROVIDER_UPDATED)
    assert upserts == [back]


def test_vanished_then_back_in_a_complete_listing_is_restored() -> None:
    booked = session()
    _, upserts = look(known(booked), listing())

    facts, again = look(known(*upserts), listing(booked))

    assert the_fact(facts).kind is FactKind.RESTORED
    assert again == [booked]


# --- Moves and markers ------------------------------------------------------------------------


def test_a_moved_start_is_a_move_with_the_new_start() -> None:
    booked = session()
    later = NOW + 2 * DAY
    moved = replace(booked, start=later, end=later + HOUR, updated=NOW - timedelta(seconds=3))

    facts, upserts = look(known(booked), listing(moved))

    found = the_fact(facts)
    assert found.kind is FactKind.MOVED
    assert found.session == booked
    assert found.new_start == later
    assert found.cancelled_at == CancelTime(
        NOW - timedelta(seconds=3), CancelTimeSource.PROVIDER_UPDATED
    )
    assert upserts == [moved]


def test_a_longer_session_is_not_a_move() -> None:
    booked = session()

    facts, _ = look(known(booked), listing(replace(booked, end=booked.end + HOUR)))

    assert facts == []


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("LC Coaching with Ana", ""),
        ("Coaching with Ana", "late cancel - texted 8am"),
        ("Coaching with Ana", "Cancelled by client"),
    ],
)
def test_marker_newly_added_is_marked(title: str, description: str) -> None:
    booked = session()
    marked = replace(booked, title=title, description=description)

    facts, upserts = look(known(booked), listing(marked))

    found = the_fact(facts)
    assert found.kind is FactKind.MARKED
    assert found.session == marked
    assert upserts == [marked]


def test_a_marker_already_there_is_not_marked_again() -> None:
    marked = session(title="LC Coaching with Ana")

    facts, _ = look(known(marked), listing(replace(marked, description="notes")))

    assert facts == []


def test_a_word_containing_the_marker_is_not_a_marker() -> None:
    booked = session()
    lcd = replace(booked, title="Coaching with Ana - bring LCD projector")

    facts, _ = look(known(booked), listing(lcd))

    assert facts == []
    assert not has_marker(lcd, MARKERS)
    assert has_marker(replace(booked, title="coaching (lc)"), MARKERS)
    assert not has_marker(replace(booked, title="LC"), ["", "  "])


def test_a_decline_and_a_move_in_one_poll_are_two_facts() -> None:
    booked = session()
    later = NOW + DAY
    both = declined_by_ana(booked, start=later, end=later + HOUR)

    facts, _ = look(known(booked), listing(both))

    assert sorted(f.kind for f in facts) == [FactKind.DECLINED, FactKind.MOVED]


def test_a_cancellation_is_one_fact_even_if_the_title_changed_too() -> None:
    booked = session()
    cancelled = replace(booked, cancelled=True, title="Coaching with Ana (zoom)")

    facts, upserts = look(known(booked), listing(cancelled))

    assert [f.kind for f in facts] == [FactKind.DELETED]
    assert upserts == [cancelled]


@pytest.mark.parametrize("evidence", ["marker", "decline"])
def test_a_cancelled_copy_keeps_the_clients_decline_or_marker(evidence: str) -> None:
    booked = session()
    if evidence == "decline":
        cancelled = declined_by_ana(booked, comment="can't make it", cancelled=True)
    else:
        cancelled = replace(booked, cancelled=True, title="LC Coaching with Ana")

    facts, _ = look(known(booked), listing(cancelled))
    decisions = [d for f in facts for d in judge(f, practice(client()), {})]

    assert [(d.verdict, d.counts) for d in decisions] == [(Verdict.REMINDER, True)]


# --- Idempotence ------------------------------------------------------------------------------


def apply(snapshot: Mapping[str, Session], upserts: list[Session]) -> dict[str, Session]:
    return {**snapshot, **{s.key: s for s in upserts}}


@pytest.mark.parametrize(
    "poll",
    [
        pytest.param(lambda b: listing(declined_by_ana(b)), id="decline"),
        pytest.param(lambda b: listing(), id="vanished"),
        pytest.param(lambda b: listing(complete=False, removed=(b.key,)), id="removed"),
        pytest.param(lambda b: listing(replace(b, cancelled=True)), id="status-cancelled"),
        pytest.param(lambda b: listing(replace(b, title=f"LC {b.title}")), id="marked"),
        pytest.param(
            lambda b: listing(replace(b, start=b.start + DAY, end=b.end + DAY)), id="moved"
        ),
    ],
)
def test_the_same_listing_twice_gives_no_facts_the_second_time(
    poll: Callable[[Session], CalendarChanges],
) -> None:
    booked = session()
    changes = poll(booked)

    first, upserts = look(known(booked), changes)
    second, rewrites = look(apply(known(booked), upserts), changes)

    assert len(first) == 1
    assert (second, rewrites) == ([], [])


def test_observe_does_not_touch_the_snapshot_it_is_given() -> None:
    booked = session()
    snapshot = known(booked)

    look(snapshot, listing())

    assert snapshot == {booked.key: booked}


def test_a_weekly_series_moved_as_a_whole_reads_as_reschedules_not_deletions() -> None:
    tuesday = session(key="f:weekly/tue", starts_in=DAY, series_id="f:weekly")
    wednesday = session(key="f:weekly/wed", starts_in=2 * DAY, series_id="f:weekly")
    seen = observe(
        {tuesday.key: tuesday},
        CalendarChanges(sessions=(wednesday,), complete=True),
        now=NOW,
        previous_poll=NOW - timedelta(minutes=1),
    )
    [moved] = seen.facts
    assert moved.kind is FactKind.MOVED
    assert moved.new_start == wednesday.start


def test_an_occurrence_removed_from_a_series_with_no_new_one_is_still_a_cancellation() -> None:
    tuesday = session(key="f:weekly/tue", starts_in=DAY, series_id="f:weekly")
    far_later = session(key="f:weekly/next-month", starts_in=30 * DAY, series_id="f:weekly")
    seen = observe(
        {tuesday.key: tuesday},
        CalendarChanges(sessions=(far_later,), complete=True),
        now=NOW,
        previous_poll=NOW - timedelta(minutes=1),
    )
    assert [f.kind for f in seen.facts] == [FactKind.INSTANCE_CANCELLED]
