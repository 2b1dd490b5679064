"""Free times to offer: inside working hours on the practitioner's wall clock (DST days too),
clear of every known event, not sooner than the late window, outside the client's quiet hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from worker.model import Attendee, Response, Session
from worker.pipeline.free_times import busy_intervals, free_times

LONDON = "Europe/London"
FIFTY = timedelta(minutes=50)
DAY = timedelta(hours=24)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(**days: list[tuple[time, time]]) -> dict[int, tuple[tuple[time, time], ...]]:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return {names.index(day): tuple(ranges) for day, ranges in days.items()}


def find(
    working: dict[int, tuple[tuple[time, time], ...]],
    now: datetime,
    *,
    busy: Iterable[tuple[datetime, datetime]] = (),
    length: timedelta = FIFTY,
    late: timedelta = DAY,
    quiet: tuple[time, time] | None = None,
    client: str = LONDON,
    count: int = 3,
    within: timedelta = timedelta(days=14),
) -> list[datetime]:
    return free_times(
        working,
        busy,
        length,
        now,
        late_window=late,
        quiet_hours=quiet,
        zone=LONDON,
        client_zone=client,
        count=count,
        within=within,
    )


def test_spring_forward_keeps_the_wall_clock_and_skips_the_missing_hour() -> None:
    # Clocks go forward in London at 01:00 UTC on Sunday 29 March 2026.
    now = utc(2026, 3, 27, 10, 0)
    monday = find(hours(mon=[(time(9), time(12, 30))]), now)
    sunday = find(hours(sun=[(time(0, 30), time(3))]), now, length=timedelta(minutes=30))

    # Monday is on summer time: 09:00 in London is 08:00 UTC.
    assert monday == [utc(2026, 3, 30, 8), utc(2026, 3, 30, 9), utc(2026, 3, 30, 10)]
    # 01:00 and 01:30 never happen that night; 00:30 GMT is followed by 02:00 BST.
    assert sunday == [utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)]
    local = [t.astimezone(ZoneInfo(LONDON)).strftime("%H:%M") for t in sunday]
    assert local == ["00:30", "02:00", "02:30"]


def test_fall_back_keeps_the_wall_clock() -> None:
    # Clocks go back in London at 01:00 UTC on Sunday 25 October 2026.
    now = utc(2026, 10, 21, 12, 0)
    mornings = hours(fri=[(time(9), time(10))], mon=[(time(9), time(10))])

    found = find(mornings, now, length=timedelta(hours=1), count=2)

    assert found == [utc(2026, 10, 23, 8), utc(2026, 10, 26, 9)]  # 09:00 BST, then 09:00 GMT


def test_a_client_in_new_york_is_offered_nothing_in_their_night() -> None:
    # 09:00 in London is 04:00 in New York; quiet hours there end at 08:00 (13:00 London).
    now = utc(2026, 12, 4, 12, 0)  # Friday
    week = hours(mon=[(time(9), time(17))])

    found = find(week, now, quiet=(time(21), time(8)), client="America/New_York")
    without_quiet = find(week, now, client="America/New_York")

    assert found == [utc(2026, 12, 7, 13), utc(2026, 12, 7, 14), utc(2026, 12, 7, 15)]
    assert without_quiet[0] == utc(2026, 12, 7, 9)


def test_a_session_may_not_run_into_the_quiet_hours() -> None:
    now = utc(2026, 12, 4, 12, 0)
    evening = hours(mon=[(time(19), time(22))])

    found = find(
        evening,
        now,
        length=timedelta(minutes=90),
        quiet=(time(21), time(8)),
        within=timedelta(days=5),
    )
    loud = find(evening, now, length=timedelta(minutes=90), within=timedelta(days=5))

    assert found == [utc(2026, 12, 7, 19)]  # 20:30-22:00 would run past 21:00
    assert loud == [utc(2026, 12, 7, 19), utc(2026, 12, 7, 20, 30)]


def test_busy_events_and_all_day_events_block_their_times() -> None:
    now = utc(2026, 11, 30, 8, 0)  # Monday
    week = hours(tue=[(time(9), time(12))], wed=[(time(9), time(12))], thu=[(time(9), time(12))])
    meeting = Session("m", "Supervision", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 10, 15))
    away = Session(
        "a", "Conference", utc(2026, 12, 2), utc(2026, 12, 3), all_day=True
    )  # Wednesday, midnight to midnight in London

    busy = busy_intervals([meeting, away], ["dana@example.com"], LONDON)
    found = find(week, now, busy=busy, count=4)

    # Tuesday 09:00 would overlap the meeting; 10:30 fits before noon; Wednesday is taken.
    assert found == [
        utc(2026, 12, 1, 10, 30),
        utc(2026, 12, 3, 9),
        utc(2026, 12, 3, 10),
        utc(2026, 12, 3, 11),
    ]


def test_an_all_day_event_blocks_the_whole_day_in_the_practitioners_zone() -> None:
    # In summer, London's day starts at 23:00 UTC the evening before.
    holiday = Session("h", "Holiday", utc(2026, 6, 30, 23), utc(2026, 7, 1, 23), all_day=True)

    assert busy_intervals([holiday], [], LONDON) == [(utc(2026, 6, 30, 23), utc(2026, 7, 1, 23))]


def test_cancelled_and_declined_sessions_do_not_block() -> None:
    start = utc(2026, 12, 1, 9)
    sam = Attendee("sam@example.org", response=Response.DECLINED)
    dana = Attendee("Dana@Example.com", response=Response.ACCEPTED)
    room = Attendee("room@example.com", is_resource=True)
    kept = Session("k", "Coaching", start, start + FIFTY, attendees=(dana, room))
    declined = Session("d", "Coaching", start, start + FIFTY, attendees=(dana, sam, room))
    cancelled = Session("c", "Coaching", start, start + FIFTY, cancelled=True)

    assert busy_intervals([kept, declined, cancelled], ["dana@example.com"], LONDON) == [
        (start, start + FIFTY)
    ]


def test_nothing_sooner_than_the_late_window_and_nothing_in_the_past() -> None:
    now = utc(2026, 11, 30, 8, 0)  # Monday 08:00 in London
    weekdays = hours(mon=[(time(9), time(17))], tue=[(time(9), time(17))])

    assert find(weekdays, now, late=timedelta(hours=26), count=1) == [utc(2026, 12, 1, 10)]
    assert find(weekdays, now, late=timedelta(0), count=1) == [utc(2026, 11, 30, 9)]
    assert find(weekdays, utc(2026, 11, 30, 9, 10), late=timedelta(0), count=1) == [
        utc(2026, 11, 30, 9, 30)
    ]


def test_offered_times_are_on_the_half_hour_and_never_overlap() -> None:
    now = utc(2026, 11, 30, 8, 0)
    odd = hours(tue=[(time(9, 10), time(12, 30))])

    found = find(odd, now, count=5, within=timedelta(days=2))

    assert found == [utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 10, 30), utc(2026, 12, 1, 11, 30)]


def test_nothing_beyond_offer_within_and_none_found_is_empty() -> None:
    now = utc(2026, 11, 30, 8, 0)
    tuesdays = hours(tue=[(time(9), time(10))])
    all_tuesday = [(utc(2026, 12, 1, 9), utc(2026, 12, 1, 10))]

    assert find(tuesdays, now, busy=all_tuesday, within=timedelta(days=7)) == []
    assert find(tuesdays, now, busy=all_tuesday, within=timedelta(days=9)) == [utc(2026, 12, 8, 9)]
    assert find({}, now) == []
    assert find(tuesdays, now, count=0) == []
