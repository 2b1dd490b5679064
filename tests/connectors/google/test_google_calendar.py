"""The Google calendar source against the fake Google: sync tokens, paging, payloads, errors."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.google import GoogleCalendar
from tests.connectors.google.fake_google import PRACTITIONER, FakeGoogle, Fault
from tests.practice import Clock
from worker.errors import AccountNeedsPractitioner, Recoverable
from worker.model import Response

SAM = {"email": "sam@example.org", "displayName": "Sam Taylor", "responseStatus": "accepted"}
HOUR = timedelta(hours=1)


def book(fake: FakeGoogle, clock: Clock, hours_ahead: float = 5, **kwargs: object) -> str:
    start = clock.now + timedelta(hours=hours_ahead)
    settings: dict[str, object] = {
        "summary": "Coaching – Sam Taylor",
        "start": start,
        "end": start + timedelta(minutes=50),
        "attendees": [SAM],
        **kwargs,
    }
    return fake.add_event(**settings)  # type: ignore[arg-type]


def params(request: object) -> dict[str, str]:
    return {k: v[0] for k, v in request.query.items()}  # type: ignore[attr-defined]


def test_first_poll_lists_every_page_and_keeps_the_token_of_the_last(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    fake.page_size = 2
    keys = [book(fake, clock, hours_ahead=h) for h in range(1, 6)]

    changes = calendar.poll(None)

    assert changes.complete
    assert {s.key for s in changes.sessions} == set(keys)
    assert changes.cursor
    assert changes.cursor.startswith("CPDAlvWDx70CEP")
    assert changes.window is not None
    assert changes.window[0] == clock.now - timedelta(days=7)
    first, second, third = (params(r) for r in fake.calls("calendar"))
    assert first["timeMin"] == "2026-11-16T09:00:00Z"
    assert (first["showDeleted"], first["singleEvents"]) == ("true", "true")
    assert "pageToken" not in first
    assert second["pageToken"]
    assert third["pageToken"]
    assert "syncToken" not in first


def test_idle_poll_is_exactly_one_request_with_only_the_sync_token(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    book(fake, clock)
    cursor = calendar.poll(None).cursor
    before = len(fake.calls("calendar"))

    changes = calendar.poll(cursor)

    [request] = fake.calls("calendar")[before:]
    sent = params(request)
    assert sent["syncToken"] == cursor
    assert not {"timeMin", "timeMax", "updatedMin", "q", "orderBy"} & sent.keys()
    assert not changes.complete
    assert (changes.sessions, changes.removed, changes.resync) == ((), (), "")
    assert changes.cursor


def test_a_decline_arrives_with_the_clients_comment_and_the_change_time(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    key = book(fake, clock)
    cursor = calendar.poll(None).cursor
    clock.advance(timedelta(minutes=3))
    fake.decline(key, "sam@example.org", "So sorry – my daughter is ill")

    [session] = calendar.poll(cursor).sessions

    sam = session.attendee("sam@example.org")
    assert sam is not None
    assert (sam.response, sam.comment, sam.name) == (
        Response.DECLINED,
        "So sorry – my daughter is ill",
        "Sam Taylor",
    )
    assert session.updated == clock.now
    assert session.organizer_is_practitioner
    me = session.attendee(PRACTITIONER)
    assert me is not None
    assert me.response is Response.ACCEPTED


def test_a_deleted_event_arrives_as_just_its_id_and_is_named_removed(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    key = book(fake, clock)
    cursor = calendar.poll(None).cursor
    fake.delete(key)

    changes = calendar.poll(cursor)

    assert changes.removed == (key,)
    assert changes.sessions == ()


def test_a_deleted_event_that_keeps_its_details_arrives_cancelled_with_its_time(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    key = book(fake, clock)
    cursor = calendar.poll(None).cursor
    clock.advance(timedelta(minutes=2))
    fake.delete(key, keep_details=True)

    [session] = calendar.poll(cursor).sessions

    assert session.key == key
    assert session.cancelled
    assert session.updated == clock.now


def test_occurrences_of_a_weekly_session_have_their_own_keys_and_one_can_be_cancelled(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    first = clock.now + timedelta(days=1)
    keys = fake.add_weekly(summary="Weekly coaching", first=first, length=HOUR, weeks=3)
    changes = calendar.poll(None)
    series = {s.key: s.series_id for s in changes.sessions}
    assert set(series) == set(keys)
    assert len(set(series.values())) == 1
    assert all(series.values())
    fake.cancel_occurrence(keys[1])

    after = calendar.poll(changes.cursor)

    assert after.removed == (keys[1],)


def test_an_event_a_client_organised_is_not_the_practitioners(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    book(fake, clock, organizer="sam@example.org")

    [session] = calendar.poll(None).sessions

    assert not session.organizer_is_practitioner
    assert session.organizer_email == "sam@example.org"


def test_all_day_and_floating_times_are_placed_in_the_practitioners_zone(
    fake: FakeGoogle, calendar: GoogleCalendar
) -> None:
    all_day = fake.add_event(
        summary="Retreat day", start={"date": "2026-11-28"}, end={"date": "2026-11-29"}
    )
    floating = fake.add_event(
        summary="Zoom with Lucía",
        start={"dateTime": "2026-11-25T10:00:00", "timeZone": "Europe/Madrid"},
        end={"dateTime": "2026-11-25T11:00:00", "timeZone": "Europe/Madrid"},
    )
    summer = fake.add_event(
        summary="Summer retreat", start={"date": "2027-07-01"}, end={"date": "2027-07-02"}
    )

    sessions = {s.key: s for s in calendar.poll(None).sessions}

    assert sessions[all_day].all_day
    assert sessions[all_day].start == datetime(2026, 11, 28, tzinfo=UTC)
    assert sessions[summer].start == datetime(2027, 6, 30, 23, tzinfo=UTC)
    assert sessions[floating].start == datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert all(s.start.tzinfo is UTC for s in sessions.values())


def test_an_expired_sync_token_lists_everything_again_saying_why(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    key = book(fake, clock)
    cursor = calendar.poll(None).cursor
    fake.expire_sync_tokens()

    changes = calendar.poll(cursor)

    assert changes.resync == "Google Calendar dropped the sync token (HTTP 410 fullSyncRequired)"
    assert changes.complete
    assert changes.window is not None
    assert changes.window[0] == clock.now - timedelta(days=7)
    assert [s.key for s in changes.sessions] == [key]
    assert changes.cursor != cursor
    gone, again = fake.calls("calendar")[-2:]
    assert params(gone)["syncToken"] == cursor
    assert "syncToken" not in params(again)
    assert "timeMin" in params(again)


def test_the_fake_refuses_a_sync_token_with_a_time_filter(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    """So that the idle-poll test above proves something: Google answers 400 to this."""
    book(fake, clock)
    cursor = calendar.poll(None).cursor
    assert cursor is not None

    with pytest.raises(Recoverable, match="HTTP 400 invalid") as caught:
        calendar._api.read(
            lambda s: s.events().list(calendarId="primary", syncToken=cursor, timeMin="x"),
            what="listing events",
        )
    assert caught.value.fields["status"] == 400


@pytest.mark.parametrize(
    "fault",
    [
        Fault(429, "error_429_too_many_requests", {"Retry-After": "7"}),
        Fault(403, "error_403_rate_limit"),
        Fault(403, "error_403_user_rate_limit"),
        Fault(503, "error_503_unavailable"),
        Fault(500, "error_500_backend"),
    ],
    ids=["429", "403-rate", "403-user-rate", "503", "500"],
)
def test_a_throttled_or_failed_read_is_retried_after_a_wait(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock, sleeps: list[float], fault: Fault
) -> None:
    book(fake, clock)
    fake.fail("calendar", fault)

    changes = calendar.poll(None)

    assert len(changes.sessions) == 1
    assert len(fake.calls("calendar")) == 2
    [waited] = sleeps
    if "Retry-After" in fault.headers:
        assert waited >= 7


def test_a_read_that_keeps_failing_is_recoverable_and_returns_no_cursor(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock, sleeps: list[float]
) -> None:
    book(fake, clock)
    fake.fail("calendar", Fault(503, "error_503_unavailable"), times=3)

    with pytest.raises(Recoverable, match="HTTP 503") as caught:
        calendar.poll(None)

    assert caught.value.fields["status"] == 503
    assert len(fake.calls("calendar")) == 3
    assert len(sleeps) == 2


def test_a_retry_after_longer_than_the_longest_wait_is_left_to_the_next_cycle(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock, sleeps: list[float]
) -> None:
    fake.fail("calendar", Fault(429, "error_429_too_many_requests", {"Retry-After": "3600"}))

    with pytest.raises(Recoverable, match="429"):
        calendar.poll(None)

    assert sleeps == []


def test_a_truncated_answer_is_recoverable_and_nothing_is_applied(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    book(fake, clock)
    cursor = calendar.poll(None).cursor
    fake.fail("calendar", Fault(truncate=True))

    with pytest.raises(Recoverable, match=r"unreadable page of events.*cut short"):
        calendar.poll(cursor)


def test_a_failure_on_a_later_page_returns_no_cursor_at_all(
    fake: FakeGoogle, make_calendar: Callable[..., GoogleCalendar], clock: Clock
) -> None:
    fake.page_size = 1
    book(fake, clock, hours_ahead=2)
    book(fake, clock, hours_ahead=3)
    calendar = make_calendar()
    calendar.poll(None)
    fake.fail("calendar", Fault(truncate=True))
    with pytest.raises(Recoverable):
        calendar.poll(None)
    # Page one was fine and page two was cut short: nothing is returned, not even page one.
    assert len(fake.calls("calendar")) == 3


def test_a_slow_answer_times_out_and_the_read_is_tried_again(
    fake: FakeGoogle, make_calendar: Callable[..., GoogleCalendar], clock: Clock
) -> None:
    book(fake, clock)
    fake.fail("calendar", Fault(delay=0.6))
    calendar = make_calendar(timeout=0.3)

    changes = calendar.poll(None)

    assert len(changes.sessions) == 1
    assert len(fake.calls("calendar")) == 2


def test_a_malformed_event_is_skipped_reported_and_never_taken_as_deleted(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    good = book(fake, clock)
    bad = book(fake, clock, hours_ahead=8)
    fake.change(bad, start={"dateTime": "next Tuesday"})

    changes = calendar.poll(None)

    assert [s.key for s in changes.sessions] == [good]
    [problem] = changes.problems
    assert bad in problem
    assert "start" not in problem.split("skipped")[0]
    assert "neither read nor taken as deleted" in problem
    assert changes.unreadable == (bad,)


def test_an_expired_access_token_is_refreshed_once_and_saved_privately(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock, token_path: Path
) -> None:
    book(fake, clock)
    stale = json.loads(token_path.read_text())
    stale["expiry"] = "2020-01-01T00:00:00Z"
    token_path.write_text(json.dumps(stale))

    cursor = calendar.poll(None).cursor
    calendar.poll(cursor)

    assert len(fake.calls("token")) == 1
    saved = json.loads(token_path.read_text())
    assert saved["token"] != stale["token"]
    assert saved["refresh_token"] == stale["refresh_token"]
    assert saved["token_uri"] == fake.token_uri
    assert stat.S_IMODE(os.stat(token_path).st_mode) == 0o600


def test_a_revoked_grant_needs_the_practitioner_with_the_command_that_fixes_it(
    fake: FakeGoogle, calendar: GoogleCalendar, clock: Clock
) -> None:
    book(fake, clock)
    cursor = calendar.poll(None).cursor
    fake.revoke_everything()
    before = len(fake.calls("calendar"))

    with pytest.raises(AccountNeedsPractitioner) as caught:
        calendar.poll(cursor)

    message = caught.value.message
    assert "invalid_grant" in message
    assert "fairwarning auth google --account main --client-secrets" in message
    assert "7 days" in message
    # One request met the 401; the refresh failed; nothing was retried in a loop.
    assert len(fake.calls("calendar")) - before == 1


def test_an_unreachable_token_endpoint_is_recoverable(
    fake: FakeGoogle, make_calendar: Callable[..., GoogleCalendar], token_path: Path
) -> None:
    stale = json.loads(token_path.read_text())
    stale.update(expiry="2020-01-01T00:00:00Z", token_uri="http://127.0.0.1:9/token")
    token_path.write_text(json.dumps(stale))

    with pytest.raises(Recoverable, match="token endpoint"):
        make_calendar().poll(None)


def test_no_token_file_needs_the_practitioner(
    make_calendar: Callable[..., GoogleCalendar], tmp_path: Path
) -> None:
    with pytest.raises(AccountNeedsPractitioner, match="no Google authorisation yet"):
        make_calendar(token_path=tmp_path / "missing.json").poll(None)


def test_a_missing_scope_needs_the_practitioner(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    fake.fail("calendar", Fault(403, "error_403_insufficient_scope"))

    with pytest.raises(AccountNeedsPractitioner, match="insufficientPermissions"):
        calendar.poll(None)


def test_an_unknown_calendar_id_needs_the_practitioner(
    fake: FakeGoogle, calendar: GoogleCalendar
) -> None:
    fake.fail("calendar", Fault(404))

    with pytest.raises(AccountNeedsPractitioner, match="calendar_id"):
        calendar.poll(None)
