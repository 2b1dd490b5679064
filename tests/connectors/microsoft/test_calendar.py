"""The Outlook calendar over Graph's calendarView delta, on Microsoft's documented payloads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from responses import matchers

from connectors.microsoft import OutlookCalendar
from tests.connectors.microsoft.helpers import GRAPH, Sleeps, StaticTokens, load
from tests.practice import Clock
from worker.errors import Recoverable
from worker.model import CalendarChanges, Response

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PRACTITIONER = "dana@riveracoaching.example"
DELTA = f"{GRAPH}/me/calendarView/delta"
FIRST_PAGE = {"startDateTime": "2026-11-19T12:00:00Z", "endDateTime": "2027-01-19T12:00:00Z"}
SECOND_PAGE = {"$skiptoken": "R0usmcCM996atia_s"}
BASELINE_TOKEN = {"$deltatoken": "R0usmcMDNGg0J1E"}

PAGE_1 = load("delta-initial-page1.json")
SAM_ID, OCCURRENCE_ID, LATER_OCCURRENCE_ID = (e["id"] for e in PAGE_1["value"])
CLIENT_ID, RETREAT_ID = (e["id"] for e in load("delta-initial-page2.json")["value"])
SERIES_ID = PAGE_1["value"][1]["seriesMasterId"]


def graph(
    mocked: responses.RequestsMock,
    query: dict[str, str],
    payload: Any,
    status: int = 200,
) -> responses.BaseResponse:
    """Graph answers GET …/calendarView/delta?<query> with `payload` (a data file's name)."""
    body = load(payload) if isinstance(payload, str) else payload
    return mocked.add(
        responses.GET,
        DELTA,
        json=body,
        status=status,
        match=[matchers.query_param_matcher(query)],
    )


def baseline(mocked: responses.RequestsMock) -> None:
    graph(mocked, FIRST_PAGE, "delta-initial-page1.json")
    graph(mocked, SECOND_PAGE, "delta-initial-page2.json")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def calendar(clock: Clock, sleeps: Sleeps) -> OutlookCalendar:
    return OutlookCalendar(
        account="main",
        tokens_dir=NotImplemented,
        practitioner_email=PRACTITIONER,
        time_zone="Europe/Madrid",
        clock=clock,
        tokens=StaticTokens(),
        sleep=sleeps,
    )


def polled(calendar: OutlookCalendar, mocked: responses.RequestsMock) -> CalendarChanges:
    """The first poll, against the documented two-page initial round."""
    baseline(mocked)
    return calendar.poll(None)


def test_the_first_poll_lists_the_whole_window_page_by_page(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    changes = polled(calendar, mocked)

    assert changes.complete
    assert not changes.resync
    assert changes.window == (NOW - timedelta(days=1), NOW + timedelta(days=60))
    assert {s.key for s in changes.sessions} == {
        SAM_ID,
        OCCURRENCE_ID,
        LATER_OCCURRENCE_ID,
        CLIENT_ID,
        RETREAT_ID,
    }
    cursor = json.loads(changes.cursor or "")
    assert cursor["delta_link"] == load("delta-initial-page2.json")["@odata.deltaLink"]
    assert cursor["built_at"] == NOW.isoformat()
    assert len(mocked.calls) == 2
    for call in mocked.calls:
        assert call.request.headers["Authorization"] == "Bearer access-static"
        assert 'outlook.timezone="UTC"' in call.request.headers["Prefer"]


def test_graph_events_become_sessions_one_occurrence_at_a_time(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    sessions = {s.key: s for s in polled(calendar, mocked).sessions}

    sam = sessions[SAM_ID]
    assert sam.title == "Coaching – Sam Taylor"
    assert (sam.start, sam.end) == (
        datetime(2026, 11, 23, 10, tzinfo=UTC),
        datetime(2026, 11, 23, 10, 50, tzinfo=UTC),
    )
    assert sam.organizer_is_practitioner
    assert sam.description == "Session 4 of 10 (prepaid)."
    assert sam.updated == datetime(2026, 11, 2, 9, 15, 12, 43457, tzinfo=UTC)
    [client] = sam.attendees
    assert (client.address, client.name, client.response) == (
        "sam@example.org",
        "Sam Taylor",
        Response.ACCEPTED,
    )
    assert client.responded_at == datetime(2026, 11, 2, 10, 1, 33, tzinfo=UTC)
    assert client.comment == ""  # Graph keeps no decline note on the organizer's copy

    first, later = sessions[OCCURRENCE_ID], sessions[LATER_OCCURRENCE_ID]
    assert first.series_id == later.series_id == SERIES_ID
    assert first.attendees[0].response is Response.NEEDS_ACTION
    assert first.attendees[0].responded_at is None  # Graph's "0001-01-01T00:00:00Z"
    assert later.attendees[0].response is Response.TENTATIVE


def test_a_session_a_client_organised_is_not_the_practitioners(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    intro = {s.key: s for s in polled(calendar, mocked).sessions}[CLIENT_ID]

    assert intro.organizer_email == "tom.okafor@example.org"
    assert not intro.organizer_is_practitioner
    assert {a.address: a.response for a in intro.attendees}["tom.okafor@example.org"] is (
        Response.ACCEPTED
    )


def test_an_all_day_session_is_placed_in_the_practitioners_zone(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    retreat = {s.key: s for s in polled(calendar, mocked).sessions}[RETREAT_ID]

    assert retreat.all_day
    assert retreat.start == datetime(2026, 11, 27, 23, tzinfo=UTC)  # midnight in Madrid
    assert retreat.end == datetime(2026, 11, 28, 23, tzinfo=UTC)
    room = next(a for a in retreat.attendees if a.is_resource)
    assert room.address == "garden.room@riveracoaching.example"


def test_an_idle_poll_makes_exactly_one_graph_request(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    first = polled(calendar, mocked)
    graph(mocked, BASELINE_TOKEN, "delta-empty.json")
    before = len(mocked.calls)

    changes = calendar.poll(first.cursor)

    assert len(mocked.calls) - before == 1
    assert (changes.complete, changes.sessions, changes.removed, changes.resync) == (
        False,
        (),
        (),
        "",
    )
    cursor = json.loads(changes.cursor or "")
    assert cursor["delta_link"] == load("delta-empty.json")["@odata.deltaLink"]
    assert cursor["window"] == json.loads(first.cursor or "")["window"]


def test_a_decline_arrives_with_the_time_the_client_answered(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    first = polled(calendar, mocked)
    graph(mocked, BASELINE_TOKEN, "delta-declined.json")

    [sam] = calendar.poll(first.cursor).sessions

    [client] = sam.attendees
    assert client.response is Response.DECLINED
    assert client.responded_at == datetime(2026, 11, 20, 11, 42, 5, tzinfo=UTC)
    assert sam.updated == datetime(2026, 11, 20, 11, 42, 6, 183465, tzinfo=UTC)


def test_a_client_cancelling_their_own_meeting_marks_it_cancelled(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    first = polled(calendar, mocked)
    graph(mocked, BASELINE_TOKEN, "delta-client-cancelled.json")

    [intro] = calendar.poll(first.cursor).sessions

    assert intro.cancelled
    assert not intro.organizer_is_practitioner
    assert intro.updated == datetime(2026, 11, 20, 11, 50, 0, 512000, tzinfo=UTC)


def test_removed_events_are_looked_up_before_they_count_as_deleted(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    first = polled(calendar, mocked)
    graph(mocked, BASELINE_TOKEN, "delta-removed.json")
    mocked.add(
        responses.GET,
        f"{GRAPH}/me/events/{OCCURRENCE_ID}",
        status=404,
        json=load("item-not-found.json"),
    )
    mocked.add(
        responses.GET, f"{GRAPH}/me/events/{SAM_ID}", json=load("event-moved-far-ahead.json")
    )

    changes = calendar.poll(first.cursor)

    assert changes.removed == (OCCURRENCE_ID,)
    [moved] = changes.sessions
    assert moved.key == SAM_ID
    assert moved.start == datetime(2027, 3, 22, 10, tzinfo=UTC)  # moved out of the window


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (410, load("sync-state-not-found.json")),
        (400, {"error": {"code": "resyncRequired", "message": "Resync required."}}),
    ],
)
def test_a_delta_token_graph_forgot_lists_a_new_window_whole_saying_why(
    calendar: OutlookCalendar,
    mocked: responses.RequestsMock,
    clock: Clock,
    status: int,
    body: dict[str, Any],
) -> None:
    first = polled(calendar, mocked)
    graph(mocked, BASELINE_TOKEN, body, status=status)
    clock.advance(timedelta(hours=2))
    graph(
        mocked,
        {"startDateTime": "2026-11-19T14:00:00Z", "endDateTime": "2027-01-19T14:00:00Z"},
        "delta-initial-page1.json",
    )

    changes = calendar.poll(first.cursor)

    assert changes.complete
    assert changes.resync.startswith("Graph dropped the calendar's change token (HTTP ")
    assert changes.window == (clock.now - timedelta(days=1), clock.now + timedelta(days=60))
    assert len(changes.sessions) == 5
    assert json.loads(changes.cursor or "")["built_at"] == clock.now.isoformat()


def test_the_window_moves_daily_with_a_complete_listing_that_is_not_a_resync(
    calendar: OutlookCalendar, mocked: responses.RequestsMock, clock: Clock
) -> None:
    first = polled(calendar, mocked)
    clock.advance(timedelta(days=1, minutes=1))
    last_round = graph(mocked, BASELINE_TOKEN, "delta-empty.json")
    graph(
        mocked,
        {"startDateTime": "2026-11-20T12:01:00Z", "endDateTime": "2027-01-20T12:01:00Z"},
        "delta-initial-page1.json",
    )

    changes = calendar.poll(first.cursor)

    assert last_round.call_count == 1
    assert changes.complete
    assert not changes.resync
    assert changes.window == (clock.now - timedelta(days=1), clock.now + timedelta(days=60))


def test_a_rebuild_keeps_a_session_moved_out_of_the_window_as_a_move(
    calendar: OutlookCalendar, mocked: responses.RequestsMock, clock: Clock
) -> None:
    first = polled(calendar, mocked)
    clock.advance(timedelta(days=2))
    graph(mocked, BASELINE_TOKEN, "delta-removed.json")
    mocked.add(
        responses.GET,
        f"{GRAPH}/me/events/{OCCURRENCE_ID}",
        status=404,
        json=load("item-not-found.json"),
    )
    mocked.add(
        responses.GET, f"{GRAPH}/me/events/{SAM_ID}", json=load("event-moved-far-ahead.json")
    )
    listing = copy.deepcopy(load("delta-initial-page2.json"))
    graph(
        mocked,
        {"startDateTime": "2026-11-21T12:00:00Z", "endDateTime": "2027-01-21T12:00:00Z"},
        listing,
    )

    changes = calendar.poll(first.cursor)

    sessions = {s.key: s for s in changes.sessions}
    assert changes.complete
    assert sessions[SAM_ID].start == datetime(2027, 3, 22, 10, tzinfo=UTC)
    assert OCCURRENCE_ID not in sessions


def test_a_round_that_fails_halfway_returns_no_cursor(
    calendar: OutlookCalendar, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    graph(mocked, FIRST_PAGE, "delta-initial-page1.json")
    failing = graph(mocked, SECOND_PAGE, "service-unavailable.json", status=503)

    with pytest.raises(Recoverable, match="503"):
        calendar.poll(None)

    assert failing.call_count == 4
    assert len(sleeps.seconds) == 3


def test_a_malformed_event_is_reported_and_neither_read_nor_deleted(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    page = copy.deepcopy(load("delta-initial-page1.json"))
    page["value"][0]["start"] = {"dateTime": "next Tuesday", "timeZone": "UTC"}
    graph(mocked, FIRST_PAGE, page)
    graph(mocked, SECOND_PAGE, "delta-initial-page2.json")

    changes = calendar.poll(None)

    assert SAM_ID not in {s.key for s in changes.sessions}
    assert len(changes.sessions) == 4
    [problem] = changes.problems
    assert "'Coaching – Sam Taylor'" in problem
    assert "next Tuesday" in problem
    remembered = next(s for s in changes.sessions if s.key == OCCURRENCE_ID)
    from dataclasses import replace

    assert not changes.covers(replace(remembered, key=SAM_ID))


def test_a_page_without_a_list_of_events_is_recoverable(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    graph(mocked, FIRST_PAGE, {"@odata.deltaLink": f"{DELTA}?$deltatoken=x", "value": "oops"})

    with pytest.raises(Recoverable, match="without a list"):
        calendar.poll(None)


def test_replayed_and_duplicated_changes_are_harmless(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    first = polled(calendar, mocked)
    declined = load("delta-declined.json")
    twice = copy.deepcopy(declined)
    twice["value"] = declined["value"] * 2
    graph(mocked, BASELINE_TOKEN, twice)
    graph(mocked, {"$deltatoken": "R0usmcFuQtZdtpk4"}, declined)

    once = calendar.poll(first.cursor)
    again = calendar.poll(once.cursor)

    assert len(once.sessions) == 1
    assert again.sessions == once.sessions


def test_an_unreadable_cursor_starts_over_with_a_complete_listing_saying_why(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    baseline(mocked)

    changes = calendar.poll(
        "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=old"
    )

    assert changes.complete
    assert changes.window == (NOW - timedelta(days=1), NOW + timedelta(days=60))
    assert changes.resync == "the stored delta link could not be read"


def test_a_resized_window_is_rebuilt_at_once(
    clock: Clock, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    def calendar(ahead: timedelta) -> OutlookCalendar:
        return OutlookCalendar(
            account="main",
            tokens_dir=NotImplemented,
            ahead=ahead,
            practitioner_email=PRACTITIONER,
            time_zone="Europe/Madrid",
            clock=clock,
            tokens=StaticTokens(),
            sleep=sleeps,
        )

    first = polled(calendar(timedelta(days=60)), mocked)
    graph(mocked, BASELINE_TOKEN, "delta-empty.json")
    graph(
        mocked,
        {"startDateTime": "2026-11-19T12:00:00Z", "endDateTime": "2027-02-18T12:00:00Z"},
        "delta-initial-page2.json",
    )

    changes = calendar(timedelta(days=90)).poll(first.cursor)

    assert changes.complete
    assert changes.window == (NOW - timedelta(days=1), NOW + timedelta(days=90))


def test_a_link_away_from_graph_is_never_followed(
    calendar: OutlookCalendar, mocked: responses.RequestsMock
) -> None:
    page = copy.deepcopy(load("delta-initial-page1.json"))
    page["@odata.nextLink"] = "https://graph.example.net/v1.0/me/calendarView/delta?$skiptoken=x"
    graph(mocked, FIRST_PAGE, page)

    with pytest.raises(Recoverable, match="refusing to follow"):
        calendar.poll(None)

    assert len(mocked.calls) == 1
