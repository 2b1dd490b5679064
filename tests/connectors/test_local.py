"""The local calendar: a vdir folder or one exported .ics file, read into sessions.

Golden files under tests/data/ics/ are exports as Google Calendar, Apple Calendar, Outlook
and khal write them; the practitioner is Sam Rivers, a coach in London.
"""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from connectors.ical import SessionReader, parse_calendar
from connectors.local import LocalCalendar
from tests import practice
from worker.clients import load_directory
from worker.errors import CalendarFileError
from worker.model import CalendarChanges, Response, Session
from worker.notices.templates import TemplateLibrary
from worker.pipeline.cycle import AccountReport, Mailroom, Worker
from worker.pipeline.sender import MemorySender
from worker.store.db import open_database

DATA = Path(__file__).parents[1] / "data" / "ics"
VDIR = DATA / "vdir"
GOOGLE_EXPORT = DATA / "google-export.ics"
SAM = "sam@riverscoaching.co.uk"
FRIDAY_NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)

MAYA = "maya-weekly.ics:5k2vd0q9c1hm4r7t3f8sa1lq6b@google.com"
TOM = "tom-intro.ics:1q8vn3bb2c0s7de5ptk9a4mh2r@google.com"
PRIYA = "priya-workshop.ics:8C4F3A1E-2B7D-4E61-9A0C-5D2E7F9B1C44"
LENA = (
    "lena-outlook.ics:040000008200E00074C5B7101A82E00800000000D0C1A5F5D86BDB01"
    "000000000000000010000000A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"
)
SUPERVISION = "supervision-khal.ics:R8F2KQ1ZJ3XW5N0M7T4YVBC9HDA6LPGE"
RETREAT = "retreat-khal.ics:Q1W2E3R4T5Y6U7I8O9P0ASDFGHJKLZXC"


def maya_on(original_start: str) -> str:
    return f"{MAYA}/{original_start}"


def poll(
    path: Path = VDIR,
    *,
    zone: str = "Europe/London",
    now: datetime = FRIDAY_NOON,
    practitioner: str = SAM,
    past: timedelta = timedelta(days=7),
) -> CalendarChanges:
    calendar = LocalCalendar(
        path=path, practitioner_email=practitioner, time_zone=zone, clock=lambda: now, past=past
    )
    return calendar.poll(None)


def sessions(changes: CalendarChanges) -> dict[str, Session]:
    return {session.key: session for session in changes.sessions}


def write_event(folder: Path, name: str, *lines: str, header: str = "") -> Path:
    """One hand-written .ics file holding one VEVENT made of `lines`."""
    text = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Fair Warning tests//EN",
            *([header] if header else []),
            "BEGIN:VEVENT",
            *lines,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the listing as a whole -------------------------------------------------------------


def test_a_poll_lists_every_session_starting_in_the_window() -> None:
    changes = poll()

    assert changes.complete
    assert changes.cursor is None
    assert changes.window == (FRIDAY_NOON - timedelta(days=7), FRIDAY_NOON + timedelta(days=60))
    assert set(sessions(changes)) == {
        maya_on("2026-11-17T15:00:00+00:00"),
        maya_on("2026-11-24T15:00:00+00:00"),
        maya_on("2026-12-01T15:00:00+00:00"),
        maya_on("2026-12-08T15:00:00+00:00"),
        maya_on("2026-12-22T15:00:00+00:00"),
        maya_on("2026-12-29T15:00:00+00:00"),
        TOM,
        PRIYA,
        LENA,
        SUPERVISION,
        RETREAT,
    }


def test_sessions_come_in_order_of_start() -> None:
    starts = [session.start for session in poll().sessions]

    assert starts == sorted(starts)


def test_the_cursor_is_ignored_because_files_have_no_change_tokens() -> None:
    calendar = LocalCalendar(
        path=VDIR, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )

    assert calendar.poll("a-cursor-from-last-time") == calendar.poll(None)


def test_sessions_before_the_window_are_not_listed() -> None:
    listed = sessions(poll())

    # 10 November 15:00 is before Friday noon minus seven days.
    assert maya_on("2026-11-10T15:00:00+00:00") not in listed


def test_a_session_at_the_window_start_is_listed_and_one_at_its_end_is_not(
    tmp_path: Path,
) -> None:
    start, end = FRIDAY_NOON - timedelta(days=7), FRIDAY_NOON + timedelta(days=60)
    write_event(tmp_path, "first.ics", "UID:first", f"DTSTART:{start:%Y%m%dT%H%M%SZ}")
    write_event(tmp_path, "last.ics", "UID:last", f"DTSTART:{end:%Y%m%dT%H%M%SZ}")

    assert set(sessions(poll(tmp_path))) == {"first.ics:first"}


def test_files_that_are_not_ics_and_editor_lock_files_are_ignored(tmp_path: Path) -> None:
    write_event(tmp_path, "session.ics", "UID:one", "DTSTART:20261123T100000Z")
    (tmp_path / "displayname").write_text("Sessions\n")
    (tmp_path / ".#session.ics").symlink_to("sam@laptop.1234")
    (tmp_path / "archive.ics").mkdir()

    changes = poll(tmp_path)

    assert set(sessions(changes)) == {"session.ics:one"}
    assert changes.problems == ()


class Clock:
    """A clock the test moves forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_an_unchanged_past_file_is_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_event(tmp_path, "last-year.ics", "UID:old", "DTSTART:20251120T100000Z")
    write_event(tmp_path, "weekly.ics", "UID:w", "DTSTART:20251118T100000Z", "RRULE:FREQ=WEEKLY")
    parsed: list[bytes] = []

    def parse_and_count(data: bytes) -> Calendar:
        parsed.append(data)
        return parse_calendar(data)

    monkeypatch.setattr("connectors.local.parse_calendar", parse_and_count)
    calendar = LocalCalendar(
        path=tmp_path, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )

    calendar.poll(None)
    calendar.poll(None)

    # The weekly series is read every time; last year's session only once.
    assert len(parsed) == 3


def test_a_past_file_that_is_edited_is_read_again(tmp_path: Path) -> None:
    write_event(tmp_path, "session.ics", "UID:s", "DTSTART:20251120T100000Z")
    calendar = LocalCalendar(
        path=tmp_path, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )
    calendar.poll(None)

    write_event(tmp_path, "session.ics", "UID:s", "DTSTART:20261123T100000Z", "SUMMARY:Moved")

    assert [s.title for s in calendar.poll(None).sessions] == ["Moved"]


def test_a_session_far_ahead_is_listed_once_the_window_reaches_it(tmp_path: Path) -> None:
    write_event(tmp_path, "spring.ics", "UID:spring", "DTSTART:20270301T100000Z")
    clock = Clock(FRIDAY_NOON)
    calendar = LocalCalendar(
        path=tmp_path, practitioner_email=SAM, time_zone="Europe/London", clock=clock
    )
    assert calendar.poll(None).sessions == ()

    clock.now += timedelta(days=50)

    assert [s.key for s in calendar.poll(None).sessions] == ["spring.ics:spring"]


# --- keys and series ----------------------------------------------------------------------


def test_a_single_session_is_keyed_by_file_and_uid() -> None:
    tom = sessions(poll())[TOM]

    assert tom.series_id == ""
    assert tom.title == "Intro session – Tom Okafor"
    assert tom.description == "Introductory session (50 min)."


def test_each_weekly_session_is_keyed_by_its_original_start() -> None:
    maya = sessions(poll())[maya_on("2026-12-08T15:00:00+00:00")]

    assert maya.series_id == MAYA
    assert maya.start == datetime(2026, 12, 8, 15, tzinfo=UTC)
    assert maya.end == datetime(2026, 12, 8, 16, tzinfo=UTC)
    assert maya.title == "Coaching – Maya Patel"
    assert maya.description.endswith("less than 24 hours' notice are forfeited.")
    assert maya.updated == datetime(2026, 10, 2, 8, 12, tzinfo=UTC)


def test_a_week_taken_out_of_the_series_with_exdate_is_simply_absent() -> None:
    assert maya_on("2026-12-15T15:00:00+00:00") not in sessions(poll())


def test_a_cancelled_week_stays_listed_as_cancelled_with_its_own_change_time() -> None:
    cancelled = sessions(poll())[maya_on("2026-11-24T15:00:00+00:00")]

    assert cancelled.cancelled
    assert cancelled.start == datetime(2026, 11, 24, 15, tzinfo=UTC)
    assert cancelled.updated == datetime(2026, 11, 23, 21, 45, tzinfo=UTC)
    assert cancelled.attendee("maya.patel@example.com") is not None


def test_a_moved_week_keeps_the_key_of_its_original_slot() -> None:
    moved = sessions(poll())[maya_on("2026-12-01T15:00:00+00:00")]

    assert moved.start == datetime(2026, 12, 2, 17, tzinfo=UTC)
    assert moved.end == datetime(2026, 12, 2, 18, tzinfo=UTC)
    assert not moved.cancelled
    assert moved.updated == datetime(2026, 11, 19, 10, 4, tzinfo=UTC)


def test_an_invitation_to_one_week_of_someone_elses_series_is_an_occurrence(
    tmp_path: Path,
) -> None:
    write_event(
        tmp_path,
        "invite.ics",
        "UID:their-series",
        "RECURRENCE-ID:20261124T150000Z",
        "DTSTART:20261124T160000Z",
        "DTEND:20261124T170000Z",
    )

    (session,) = poll(tmp_path).sessions

    assert session.key == "invite.ics:their-series/2026-11-24T15:00:00+00:00"
    assert session.series_id == "invite.ics:their-series"


def test_weeks_moved_by_a_this_and_future_change_keep_their_own_keys(tmp_path: Path) -> None:
    write_event(
        tmp_path,
        "weekly.ics",
        "UID:weekly",
        "DTSTART:20261117T150000Z",
        "DTEND:20261117T160000Z",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:weekly",
        "RECURRENCE-ID;RANGE=THISANDFUTURE:20261201T150000Z",
        "DTSTART:20261201T170000Z",
        "DTEND:20261201T180000Z",
    )

    listed = sessions(poll(tmp_path))

    assert {key: s.start.hour for key, s in listed.items()} == {
        "weekly.ics:weekly/2026-11-17T15:00:00+00:00": 15,
        "weekly.ics:weekly/2026-11-24T15:00:00+00:00": 15,
        "weekly.ics:weekly/2026-12-01T15:00:00+00:00": 17,
        "weekly.ics:weekly/2026-12-08T15:00:00+00:00": 17,
    }


def test_two_occurrences_in_one_slot_are_reported_rather_than_listed_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_event(tmp_path, "weekly.ics", "UID:w", "DTSTART:20261117T150000Z", "RRULE:FREQ=WEEKLY")
    expand = recurring_ical_events.of

    def expand_twice(calendar: Calendar) -> object:
        class Twice:
            def between(self, start: datetime, end: datetime) -> list[object]:
                return 2 * list(expand(calendar).between(start, end))

        return Twice()

    monkeypatch.setattr(recurring_ical_events, "of", expand_twice)

    changes = poll(tmp_path)

    assert changes.sessions == ()
    assert "same original start" in changes.problems[0]
    assert changes.unreadable == ("weekly.ics:w",)


def test_a_daily_all_day_series_is_keyed_by_local_midnight_in_utc(tmp_path: Path) -> None:
    write_event(
        tmp_path,
        "retreat.ics",
        "UID:retreat",
        "DTSTART;VALUE=DATE:20261123",
        "RRULE:FREQ=DAILY;COUNT=2",
    )

    keys = set(sessions(poll(tmp_path, zone="America/New_York")))

    assert keys == {
        "retreat.ics:retreat/2026-11-23T05:00:00+00:00",
        "retreat.ics:retreat/2026-11-24T05:00:00+00:00",
    }


# --- times and time zones -----------------------------------------------------------------


def test_utc_times_stay_as_they_are() -> None:
    tom = sessions(poll())[TOM]

    assert tom.start == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert tom.end == datetime(2026, 11, 23, 10, 50, tzinfo=UTC)
    assert not tom.all_day


def test_a_time_in_a_named_zone_is_converted_to_utc() -> None:
    priya = sessions(poll())[PRIYA]

    # 14:00 in Paris in November is 13:00 UTC.
    assert priya.start == datetime(2026, 11, 26, 13, tzinfo=UTC)
    assert priya.end == datetime(2026, 11, 26, 14, tzinfo=UTC)


def test_outlooks_windows_zone_names_are_understood() -> None:
    lena = sessions(poll())[LENA]

    assert lena.start == datetime(2026, 12, 3, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/London", datetime(2026, 11, 23, 16, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2026, 11, 23, 15, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 11, 23, 21, tzinfo=UTC)),
    ],
)
def test_a_floating_time_is_read_in_the_practitioners_zone(zone: str, start: datetime) -> None:
    supervision = sessions(poll(zone=zone))[SUPERVISION]

    assert supervision.start == start
    assert supervision.end == start + timedelta(hours=1)


def test_a_floating_time_follows_the_zone_the_calendar_declares(tmp_path: Path) -> None:
    write_event(
        tmp_path,
        "declared.ics",
        "UID:declared",
        "DTSTART:20261123T090000",
        header="X-WR-TIMEZONE:America/New_York",
    )

    (session,) = poll(tmp_path, zone="Europe/London").sessions

    assert session.start == datetime(2026, 11, 23, 14, tzinfo=UTC)


def test_nine_oclock_in_london_is_eight_utc_in_summer_and_nine_in_winter() -> None:
    changes = poll(GOOGLE_EXPORT, now=datetime(2026, 10, 21, 12, tzinfo=UTC))
    breathwork = sorted(
        (s for s in changes.sessions if s.title == "Breathwork group"), key=lambda s: s.start
    )

    assert [s.start for s in breathwork] == [
        datetime(2026, 10, 15, 8, tzinfo=UTC),  # British Summer Time
        datetime(2026, 10, 22, 8, tzinfo=UTC),
        datetime(2026, 10, 29, 9, tzinfo=UTC),  # Greenwich Mean Time from 25 October
        datetime(2026, 11, 5, 9, tzinfo=UTC),
    ]
    assert all(s.end - s.start == timedelta(hours=1) for s in breathwork)


def test_a_single_session_at_nine_in_london_in_july_and_in_november(tmp_path: Path) -> None:
    for month in (7, 11):
        write_event(
            tmp_path,
            f"month-{month}.ics",
            f"UID:month-{month}",
            f"DTSTART;TZID=Europe/London:2026{month:02}10T090000",
        )

    now = datetime(2026, 9, 25, tzinfo=UTC)
    listed = sessions(poll(tmp_path, now=now, past=timedelta(days=90)))

    assert listed["month-7.ics:month-7"].start == datetime(2026, 7, 10, 8, tzinfo=UTC)
    assert listed["month-11.ics:month-11"].start == datetime(2026, 11, 10, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        ("Europe/London", datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)),
        (
            "America/New_York",
            datetime(2026, 11, 28, 5, tzinfo=UTC),
            datetime(2026, 11, 30, 5, tzinfo=UTC),
        ),
        (
            "Australia/Sydney",
            datetime(2026, 11, 27, 13, tzinfo=UTC),
            datetime(2026, 11, 29, 13, tzinfo=UTC),
        ),
    ],
)
def test_an_all_day_event_covers_whole_days_in_the_practitioners_zone(
    zone: str, start: datetime, end: datetime
) -> None:
    retreat = sessions(poll(zone=zone))[RETREAT]

    assert retreat.all_day
    assert (retreat.start, retreat.end) == (start, end)


@given(
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    zone=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_an_all_day_session_starts_and_ends_at_local_midnight_even_on_dst_days(
    day: date, zone: str
) -> None:
    calendar = parse_calendar(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:day\r\n"
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".encode()
    )
    around = datetime.combine(day, time(12), UTC)
    reader = SessionReader(
        zone=ZoneInfo(zone),
        practitioner_email=SAM,
        window=(around - timedelta(days=2), around + timedelta(days=2)),
    )

    (session,) = reader.read(calendar, "day.ics").sessions

    local_start = session.start.astimezone(ZoneInfo(zone))
    local_end = session.end.astimezone(ZoneInfo(zone))
    assert (local_start.date(), local_start.time()) == (day, time(0))
    assert (local_end.date(), local_end.time()) == (day + timedelta(days=1), time(0))


@pytest.mark.parametrize(
    ("lines", "end"),
    [
        (["DTSTART:20261123T100000Z", "DURATION:PT50M"], datetime(2026, 11, 23, 10, 50)),
        (["DTSTART:20261123T100000Z"], datetime(2026, 11, 23, 10, 0)),
        (["DTSTART;VALUE=DATE:20261123"], datetime(2026, 11, 24, 0, 0)),
        (["DTSTART;VALUE=DATE:20261123", "DURATION:P3D"], datetime(2026, 11, 26, 0, 0)),
    ],
    ids=["duration", "timed-without-end", "all-day-without-end", "all-day-with-duration"],
)
def test_the_end_comes_from_dtend_or_duration_or_the_start(
    tmp_path: Path, lines: list[str], end: datetime
) -> None:
    write_event(tmp_path, "session.ics", "UID:s", *lines)

    (session,) = poll(tmp_path).sessions

    assert session.end == end.replace(tzinfo=UTC)


# --- who is invited, who organised ----------------------------------------------------------


def test_a_declined_client_keeps_the_note_they_wrote() -> None:
    tom = sessions(poll())[TOM].attendee("tom.okafor@example.org")

    assert tom is not None
    assert tom.name == "Tom Okafor"
    assert tom.response is Response.DECLINED
    assert tom.comment == "So sorry – my daughter is ill, could we move to next week?"
    assert tom.responded_at is None
    assert not tom.is_resource


def test_rooms_and_resources_are_not_clients() -> None:
    listed = sessions(poll())
    google_room = listed[TOM].attendee("c_18892f7c3b1a@resource.calendar.google.com")
    outlook_room = listed[LENA].attendee("studio-b@riverscoaching.co.uk")

    assert google_room is not None
    assert google_room.is_resource
    assert outlook_room is not None
    assert outlook_room.is_resource


def test_the_practitioner_listed_as_an_attendee_is_kept() -> None:
    sam = sessions(poll())[TOM].attendee(SAM)

    assert sam is not None
    assert sam.response is Response.ACCEPTED


def test_addresses_lose_mailto_and_capitals() -> None:
    lena = sessions(poll())[LENA]

    assert [a.email for a in lena.attendees] == [
        "lena.berg@example.net",
        "studio-b@riverscoaching.co.uk",
    ]
    assert lena.attendees[0].response is Response.TENTATIVE
    assert lena.organizer_email == SAM
    assert lena.organizer_is_practitioner


@pytest.mark.parametrize(
    ("partstat", "response"),
    [
        ("ACCEPTED", Response.ACCEPTED),
        ("DECLINED", Response.DECLINED),
        ("TENTATIVE", Response.TENTATIVE),
        ("NEEDS-ACTION", Response.NEEDS_ACTION),
        ("DELEGATED", Response.NEEDS_ACTION),
        (None, Response.NEEDS_ACTION),
    ],
)
def test_an_attendees_answer_is_read_from_partstat(
    tmp_path: Path, partstat: str | None, response: Response
) -> None:
    parameter = f";PARTSTAT={partstat}" if partstat else ""
    write_event(
        tmp_path,
        "session.ics",
        "UID:s",
        "DTSTART:20261123T100000Z",
        f"ATTENDEE;CN=Ana{parameter}:mailto:ana@example.com",
    )

    (session,) = poll(tmp_path).sessions

    assert session.attendees[0].response is response
    assert session.attendees[0].comment == ""


def test_an_event_a_client_organised_is_not_the_practitioners() -> None:
    priya = sessions(poll())[PRIYA]

    assert priya.organizer_email == "priya@shah-design.fr"
    assert not priya.organizer_is_practitioner
    assert priya.cancelled
    assert priya.updated == datetime(2026, 11, 25, 19, tzinfo=UTC)


def test_an_event_without_an_organizer_is_the_practitioners() -> None:
    supervision = sessions(poll())[SUPERVISION]

    assert supervision.organizer_email == ""
    assert supervision.organizer_is_practitioner
    assert supervision.attendees == ()


def test_the_practitioners_address_is_matched_without_regard_to_case() -> None:
    tom = sessions(poll(practitioner="Sam@RiversCoaching.CO.UK"))[TOM]

    assert tom.organizer_is_practitioner


def test_last_change_comes_from_last_modified_else_dtstamp_else_nothing(
    tmp_path: Path,
) -> None:
    write_event(tmp_path, "bare.ics", "UID:bare", "DTSTART:20261123T100000Z")
    listed = sessions(poll()) | sessions(poll(tmp_path))

    assert listed[TOM].updated == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)
    assert listed[SUPERVISION].updated == datetime(2026, 11, 18, 20, 17, 34, tzinfo=UTC)
    assert listed["bare.ics:bare"].updated is None


# --- damaged files --------------------------------------------------------------------------


def test_a_damaged_file_is_skipped_reported_and_not_taken_for_a_deletion() -> None:
    changes = poll()

    (problem,) = changes.problems
    assert problem.startswith("broken.ics: ")
    assert "cut short" in problem
    assert changes.unreadable == ("broken.ics:",)
    noor = Session(
        key="broken.ics:3fh0c2kq8r9d1sl5vmb6t7ne4a@google.com",
        title="Coaching – Noor Haddad",
        start=datetime(2026, 11, 25, 9, tzinfo=UTC),
        end=datetime(2026, 11, 25, 9, 50, tzinfo=UTC),
    )
    assert not changes.covers(noor)
    assert changes.covers(sessions(changes)[TOM])


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("BEGIN:VCALENDAR\r\nSUMMARY:Séance\r\n".encode("latin-1"), "save it as UTF-8"),
        (b"", "empty"),
        (b"Meeting with Ana at 10\r\n", "not valid iCalendar"),
        (b"BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261123T100000Z\r\nEND:VEVENT\r\n", "VCALENDAR"),
        (
            b"BEGIN:VCALENDAR\r\nX-WR-TIMEZONE:London\r\nEND:VCALENDAR\r\n",
            "X-WR-TIMEZONE 'London' is not a time zone",
        ),
    ],
    ids=["not-utf8", "empty", "not-icalendar", "no-vcalendar", "unknown-calendar-zone"],
)
def test_an_unreadable_file_is_skipped_with_a_reason_and_a_fix(
    tmp_path: Path, content: bytes, says: str
) -> None:
    write_event(tmp_path, "good.ics", "UID:good", "DTSTART:20261123T100000Z")
    (tmp_path / "bad.ics").write_bytes(content)

    changes = poll(tmp_path)

    assert set(sessions(changes)) == {"good.ics:good"}
    (problem,) = changes.problems
    assert problem.startswith("bad.ics: ")
    assert says in problem
    assert changes.unreadable == ("bad.ics:",)


def test_a_file_that_vanishes_while_being_read_is_skipped(tmp_path: Path) -> None:
    # A link to nothing is listed but cannot be opened, like a file deleted mid-poll.
    (tmp_path / "gone.ics").symlink_to(tmp_path / "nowhere.ics")

    changes = poll(tmp_path)

    assert changes.sessions == ()
    assert changes.unreadable == ("gone.ics:",)
    assert "disappeared" in changes.problems[0]


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (["SUMMARY:Coaching – Ana"], "no DTSTART"),
        (["DTSTART:2026-11-23 10:00"], "DTSTART is not valid"),
        (["DTSTART:20261123T100000Z", "DTEND:tomorrow"], "DTEND is not valid"),
        (["DTSTART:20261123T100000Z", "DTEND:20261123T090000Z"], "DTEND is before its DTSTART"),
        (["DTSTART;TZID=Mars/Olympus:20261123T100000"], "unknown time zone 'Mars/Olympus'"),
        (["DTSTART:20261123T100000Z", "RRULE:FREQ=SOMETIMES"], "RRULE is not valid"),
        (["DTSTART:20261123T100000Z", "DURATION:an hour"], "DURATION is not valid"),
    ],
    ids=["no-start", "bad-start", "bad-end", "end-before-start", "unknown-zone", "rrule", "dur"],
)
def test_a_malformed_event_is_skipped_and_named(
    tmp_path: Path, lines: list[str], says: str
) -> None:
    write_event(tmp_path, "good.ics", "UID:good", "DTSTART:20261123T100000Z")
    write_event(tmp_path, "ana.ics", "UID:ana", "SUMMARY:Coaching – Ana", *lines)

    changes = poll(tmp_path)

    assert set(sessions(changes)) == {"good.ics:good"}
    (problem,) = changes.problems
    assert problem.startswith("ana.ics: skipped the event 'Coaching – Ana' because ")
    assert says in problem
    assert changes.unreadable == ("ana.ics:ana",)


def test_an_event_without_uid_makes_its_whole_file_unreadable(tmp_path: Path) -> None:
    write_event(tmp_path, "anon.ics", "SUMMARY:Coaching", "DTSTART:20261123T100000Z")

    changes = poll(tmp_path)

    assert changes.sessions == ()
    assert "no UID" in changes.problems[0]
    assert changes.unreadable == ("anon.ics:",)


def test_two_events_sharing_a_uid_are_reported_rather_than_one_silently_dropped(
    tmp_path: Path,
) -> None:
    write_event(
        tmp_path,
        "twins.ics",
        "UID:twin",
        "DTSTART:20261123T100000Z",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:twin",
        "DTSTART:20261124T100000Z",
    )

    changes = poll(tmp_path)

    assert changes.sessions == ()
    assert "several events share its UID" in changes.problems[0]


def test_a_broken_override_drops_its_whole_series_instead_of_reviving_the_slot(
    tmp_path: Path,
) -> None:
    write_event(
        tmp_path,
        "weekly.ics",
        "UID:weekly",
        "DTSTART:20261117T150000Z",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:weekly",
        "RECURRENCE-ID:20261124T150000Z",
        "DTSTART:next tuesday",
        "STATUS:CANCELLED",
    )

    changes = poll(tmp_path)

    assert changes.sessions == ()
    assert changes.unreadable == ("weekly.ics:weekly",)


# --- one exported file ----------------------------------------------------------------------


def test_a_single_exported_file_is_read_with_its_name_in_every_key() -> None:
    changes = poll(GOOGLE_EXPORT, now=datetime(2026, 10, 21, 12, tzinfo=UTC))
    rosa = sessions(changes)["google-export.ics:6u2hd9ak3c0lq7r1me5fsb8tvo@google.com"]

    assert changes.complete
    assert rosa.title == "Intro call – Rosa Díaz"
    assert rosa.start == datetime(2026, 10, 27, 13, 30, tzinfo=UTC)
    assert rosa.attendees[0].name == "Rosa Díaz"
    assert all(key.startswith("google-export.ics:") for key in sessions(changes))


def test_a_malformed_event_in_an_export_skips_only_that_event() -> None:
    changes = poll(GOOGLE_EXPORT, now=datetime(2026, 10, 21, 12, tzinfo=UTC))

    assert len(changes.sessions) == 5
    (problem,) = changes.problems
    assert problem.startswith("google-export.ics: skipped the event 'Follow-up – Omar Farouk'")
    assert "DTSTART" in problem
    assert changes.unreadable == ("google-export.ics:9d4ks1mv7b2q0hc8rt3pea6nlf@google.com",)


def test_an_unreadable_single_file_stops_the_poll_and_names_the_file() -> None:
    with pytest.raises(CalendarFileError, match=r"broken\.ics") as caught:
        poll(VDIR / "broken.ics")

    assert "cut short" in caught.value.message
    assert caught.value.fields["file"] == "broken.ics"


def test_a_single_file_that_is_not_utf8_stops_the_poll(tmp_path: Path) -> None:
    export = tmp_path / "export.ics"
    export.write_bytes("BEGIN:VCALENDAR\r\nSUMMARY:Séance\r\n".encode("latin-1"))

    with pytest.raises(CalendarFileError, match=r"export\.ics.*UTF-8"):
        poll(export)


def test_a_missing_path_names_the_path_and_the_setting_to_check(tmp_path: Path) -> None:
    missing = tmp_path / "Calendars" / "sessions"

    with pytest.raises(CalendarFileError) as caught:
        poll(missing)

    assert str(missing) in caught.value.message
    assert "`path` in the [accounts.calendar] section" in caught.value.message


# --- a junk file is parsed once while it does not change ------------------------------------


class ParseCounter:
    """Counts how often each content is handed to the parser."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed: list[bytes] = []
        monkeypatch.setattr("connectors.local.parse_calendar", self)

    def __call__(self, data: bytes) -> Calendar:
        self.parsed.append(data)
        return parse_calendar(data)

    def times(self, data: bytes) -> int:
        return self.parsed.count(data)


JUNK = b"PK\x03\x04" + bytes(range(256)) * 20_000  # a 5 MB archive saved as .ics by mistake


def test_a_junk_file_is_parsed_once_while_it_is_unchanged_and_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_event(tmp_path, "good.ics", "UID:good", "DTSTART:20261123T100000Z")
    (tmp_path / "junk.ics").write_bytes(JUNK)
    parser = ParseCounter(monkeypatch)
    calendar = LocalCalendar(
        path=tmp_path, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )

    polls = [calendar.poll(None) for _ in range(3)]

    assert parser.times(JUNK) == 1
    for changes in polls:
        assert set(sessions(changes)) == {"good.ics:good"}
        (problem,) = changes.problems
        assert problem.startswith("junk.ics: skipped because it is not UTF-8 text")
        assert changes.unreadable == ("junk.ics:",)
    assert polls[0].problems == polls[2].problems, "the same words, so it is reported once"


def test_a_junk_file_is_parsed_again_once_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    junk = tmp_path / "junk.ics"
    junk.write_bytes(JUNK)
    parser = ParseCounter(monkeypatch)
    calendar = LocalCalendar(
        path=tmp_path, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )
    calendar.poll(None)

    junk.write_bytes(JUNK + b"more")
    calendar.poll(None)
    calendar.poll(None)
    write_event(tmp_path, "junk.ics", "UID:fixed", "DTSTART:20261123T100000Z")
    fixed = calendar.poll(None)

    assert parser.times(JUNK) == 1
    assert parser.times(JUNK + b"more") == 1
    assert set(sessions(fixed)) == {"junk.ics:fixed"}
    assert (fixed.problems, fixed.unreadable) == ((), ())


def test_a_file_that_could_not_be_opened_is_tried_again_on_the_next_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fixing permissions changes neither size nor modification time: it must not be cached.
    locked = write_event(tmp_path, "locked.ics", "UID:locked", "DTSTART:20261123T100000Z")
    read_bytes = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path == locked:
            raise PermissionError(13, "Permission denied")
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    calendar = LocalCalendar(
        path=tmp_path, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )
    refused = calendar.poll(None)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)

    assert refused.unreadable == ("locked.ics:",)
    assert "check its permissions" in refused.problems[0]
    assert set(sessions(calendar.poll(None))) == {"locked.ics:locked"}


def test_a_junk_single_file_is_parsed_once_while_unchanged_and_still_stops_the_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "export.ics"
    export.write_bytes(JUNK)
    parser = ParseCounter(monkeypatch)
    calendar = LocalCalendar(
        path=export, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )

    messages = []
    for _ in range(3):
        with pytest.raises(CalendarFileError, match=r"export\.ics.*UTF-8") as caught:
            calendar.poll(None)
        messages.append(caught.value.message)
    write_event(tmp_path, "export.ics", "UID:one", "DTSTART:20261123T100000Z")

    assert [s.key for s in calendar.poll(None).sessions] == ["export.ics:one"]
    assert parser.times(JUNK) == 1
    assert len(set(messages)) == 1


# --- a folder that disappears and comes back ------------------------------------------------


def test_a_folder_that_disappears_fails_the_poll_instead_of_listing_nothing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    write_event(folder, "one.ics", "UID:one", "DTSTART:20261123T100000Z")
    calendar = LocalCalendar(
        path=folder, practitioner_email=SAM, time_zone="Europe/London", clock=lambda: FRIDAY_NOON
    )
    before = calendar.poll(None)
    folder.rename(tmp_path / "unmounted")

    with pytest.raises(CalendarFileError, match="does not exist"):
        calendar.poll(None)

    (tmp_path / "unmounted").rename(folder)
    assert calendar.poll(None) == before


class LocalPractice:
    """Dana's practice on a vdir folder, the real worker, and a clock the test moves."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = practice.Clock(practice.START)
        self.folder = tmp_path / "calendars" / "sessions"
        self.folder.mkdir(parents=True)
        self.config = practice.config_for(tmp_path)
        self.db = open_database(self.config.state_dir)
        calendar = LocalCalendar(
            path=self.folder,
            practitioner_email=practice.PRACTITIONER,
            time_zone="Europe/London",
            clock=self.clock,
        )
        self.sender = MemorySender()
        self.worker = Worker(
            config=self.config,
            directory=load_directory(self.config),
            templates=TemplateLibrary(user_dir=None),
            db=self.db,
            mailrooms=[Mailroom("main", calendar, self.sender)],
            clock=self.clock,
        )

    def write(self, folder: Path, start: datetime, answer: str, changed: datetime) -> None:
        write_event(
            folder,
            "sam.ics",
            "UID:sam-session",
            "SUMMARY:Coaching with Sam",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(minutes=50):%Y%m%dT%H%M%SZ}",
            f"DTSTAMP:{changed:%Y%m%dT%H%M%SZ}",
            f"ORGANIZER:mailto:{practice.PRACTITIONER}",
            f"ATTENDEE;PARTSTAT={answer}:mailto:{practice.SAM}",
        )

    def cycle(self) -> AccountReport:
        [report] = self.worker.cycle()
        return report

    def facts(self) -> list[str]:
        return [r["kind"] for r in self.db.execute("SELECT kind FROM facts ORDER BY id")]


@pytest.mark.parametrize(
    ("starts_in", "stamped", "verdict"),
    [
        (timedelta(hours=5), True, "reminder"),
        (timedelta(hours=26), False, "review"),
    ],
    ids=["decline-with-its-time", "decline-without-a-time"],
)
def test_a_decline_made_while_the_folder_was_gone_is_judged_when_it_comes_back(
    tmp_path: Path, starts_in: timedelta, stamped: bool, verdict: str
) -> None:
    office = LocalPractice(tmp_path)
    start = office.clock.now + starts_in
    booked_at = office.clock.now - timedelta(days=3)
    office.write(office.folder, start, "ACCEPTED", booked_at)
    assert office.cycle().sync.baseline  # type: ignore[union-attr]
    office.clock.advance(timedelta(hours=1))
    away = office.folder.rename(tmp_path / "unmounted")

    while_gone = office.cycle()
    office.clock.advance(timedelta(hours=1))
    office.write(away, start, "DECLINED", office.clock.now if stamped else booked_at)
    office.clock.advance(timedelta(hours=1))
    office.cycle()
    away.rename(office.folder)
    report = office.cycle()
    office.clock.advance(timedelta(minutes=11))
    office.cycle()

    assert "does not exist" in while_gone.error
    assert while_gone.sync is None
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict == verdict
    assert office.facts() == ["declined"], "never read as deleted and re-created"
    sent = [m for m in office.sender.sent if practice.SAM in str(m["To"])]
    assert len(sent) == (1 if verdict == "reminder" else 0)
