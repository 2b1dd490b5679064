"""iCalendar data as sessions: parsing, recurrence expansion and the time-zone rules.

Apart from `connectors.local` so that any other source of .ics text can reuse it. Every
problem with one event is reported in words a practitioner can act on; none stops a poll.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import recurring_ical_events
from icalendar import Calendar, Event

from worker.model import Attendee, Response, Session

_RESPONSES = {
    "ACCEPTED": Response.ACCEPTED,
    "DECLINED": Response.DECLINED,
    "TENTATIVE": Response.TENTATIVE,
    "NEEDS-ACTION": Response.NEEDS_ACTION,
}
_RESOURCE_TYPES = {"ROOM", "RESOURCE"}
_TIMED_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID")
_SERIES_PROPERTIES = ("RRULE", "RDATE", "RECURRENCE-ID")
# Floating and all-day values are placed in a zone only after expansion, so the library
# is asked for a slightly wider span and the exact window is applied here.
_MARGIN = timedelta(days=2)


class IcsError(Exception):
    """The data is not a calendar that can be read; the message says what is wrong."""


def parse_calendar(data: bytes) -> Calendar:
    """Parse the bytes of one .ics file, or raise `IcsError` saying why they are unusable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IcsError(
            f"it is not UTF-8 text (invalid byte at position {error.start}); save it as UTF-8"
        ) from None
    if not text.strip():
        raise IcsError("it is empty; delete it or export the event again")
    try:
        calendar = Calendar.from_ical(text)
    # icalendar raises assorted exception types on damaged input.
    except Exception as error:
        raise IcsError(_parse_failure(error)) from None
    if not isinstance(calendar, Calendar):
        raise IcsError(
            f"it holds a {calendar.name} outside any VCALENDAR; "
            "wrap it in BEGIN:VCALENDAR … END:VCALENDAR"
        )
    declared_zone = calendar.get("X-WR-TIMEZONE")
    if declared_zone is not None and not _is_zone(str(declared_zone)):
        raise IcsError(
            f"its X-WR-TIMEZONE {str(declared_zone)!r} is not a time zone; "
            "use an IANA name such as 'Europe/London'"
        )
    return calendar


def _parse_failure(error: Exception) -> str:
    message = str(error)
    if message.startswith(("Found no components", "Found multiple components")):
        return (
            "it does not hold exactly one complete BEGIN:VCALENDAR … END:VCALENDAR block "
            "(was it cut short?); export it again from your calendar app"
        )
    detail = message.splitlines()[0][:120] if message else type(error).__name__
    return f"it is not valid iCalendar ({detail}); export it again from your calendar app"


def to_utc(value: date, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime; dates and floating times are read in `zone`."""
    if isinstance(value, datetime):
        local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    else:
        local = datetime.combine(value, time(), zone)
    return local.astimezone(UTC)


@dataclass
class FileReading:
    """The sessions read from one calendar, and what had to be skipped."""

    sessions: list[Session] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def extend(self, other: FileReading) -> None:
        """Add what was read from another file."""
        self.sessions.extend(other.sessions)
        self.problems.extend(other.problems)
        self.unreadable.extend(other.unreadable)


@dataclass(frozen=True)
class SessionReader:
    """Reads the sessions that start within `window` from parsed calendars.

    `zone` is the practitioner's zone, used for all-day dates and floating times (unless the
    calendar declares its own with X-WR-TIMEZONE).
    """

    zone: ZoneInfo
    practitioner_email: str
    window: tuple[datetime, datetime]

    def read(self, calendar: Calendar, file_name: str) -> FileReading:
        """Every session of `calendar`, keyed by `file_name`; bad events become problems.

        An event that cannot be read is skipped whole (with its series, since a skipped
        override would otherwise show the original occurrence) and its key prefix is
        reported as unreadable, so it is not mistaken for a deletion.
        """
        reading = FileReading()
        for uid, events in _by_uid(calendar).items():
            prefix = f"{file_name}:{uid}" if uid else f"{file_name}:"
            faults = [fault for event in events for fault in _faults(event, self.zone)]
            if not uid:
                faults.insert(0, "it has no UID")
            elif sum("RECURRENCE-ID" not in event for event in events) > 1:
                faults.append("several events share its UID")
            if not faults:
                try:
                    reading.sessions.extend(self._expand(calendar, events, prefix))
                    continue
                # A hand-edited series can break recurrence expansion in many ways.
                except Exception as error:
                    faults.append(f"its dates could not be expanded ({error})")
            reading.problems.append(_skipped(file_name, events[0], faults))
            reading.unreadable.append(prefix)
        return reading

    def _expand(self, calendar: Calendar, events: list[Event], key: str) -> list[Session]:
        series = Calendar()
        for name in ("X-WR-TIMEZONE", "CALSCALE"):
            if name in calendar:
                series[name] = calendar[name]
        for event in events:
            series.add_component(event)
        is_series = any(name in event for event in events for name in _SERIES_PROPERTIES)
        shifts = self._future_shifts(events)
        start, end = self.window
        occurrences = recurring_ical_events.of(series).between(start - _MARGIN, end + _MARGIN)
        sessions = [self._session(o, key, is_series, shifts) for o in occurrences]
        if len({session.key for session in sessions}) < len(sessions):
            raise ValueError("two of its occurrences have the same original start")
        return [session for session in sessions if start <= session.start < end]

    def _future_shifts(self, events: list[Event]) -> dict[datetime, timedelta]:
        """How far each RANGE=THISANDFUTURE override moves the occurrences from it on."""
        shifts = {}
        for event in events:
            if _parameter(event.get("RECURRENCE-ID"), "RANGE").upper() == "THISANDFUTURE":
                original = to_utc(_moment(event, "RECURRENCE-ID"), self.zone)
                shifts[original] = to_utc(_moment(event, "DTSTART"), self.zone) - original
        return shifts

    def _session(
        self, occurrence: Event, key: str, is_series: bool, shifts: dict[datetime, timedelta]
    ) -> Session:
        raw_start = _moment(occurrence, "DTSTART")
        all_day = not isinstance(raw_start, datetime)
        start = to_utc(raw_start, self.zone)
        if "DTEND" in occurrence:
            end = to_utc(_moment(occurrence, "DTEND"), self.zone)
        else:
            end = start + timedelta(days=1) if all_day else start
        organizer = _address(_first(occurrence.get("ORGANIZER")))
        return Session(
            key=f"{key}/{self._original_start(occurrence, start, shifts)}" if is_series else key,
            title=_text(occurrence, "SUMMARY"),
            start=start,
            end=end,
            organizer_email=organizer,
            organizer_is_practitioner=organizer in ("", self.practitioner_email.strip().lower()),
            attendees=tuple(_attendee(address) for address in _all(occurrence.get("ATTENDEE"))),
            description=_text(occurrence, "DESCRIPTION"),
            cancelled=_text(occurrence, "STATUS").upper() == "CANCELLED",
            all_day=all_day,
            series_id=key if is_series else "",
            updated=self._updated(occurrence),
        )

    def _original_start(
        self, occurrence: Event, start: datetime, shifts: dict[datetime, timedelta]
    ) -> str:
        """The occurrence's slot in its series as UTC ISO 8601: stable when it is moved."""
        # The library gives every occurrence a RECURRENCE-ID: the override's own, or the
        # occurrence start. Occurrences after a THISANDFUTURE override carry that override's,
        # so their original start is found by undoing its shift.
        original = to_utc(_moment(occurrence, "RECURRENCE-ID"), self.zone)
        if _parameter(occurrence.get("RECURRENCE-ID"), "RANGE").upper() == "THISANDFUTURE":
            original = start - shifts.get(original, timedelta())
        return original.isoformat()

    def _updated(self, event: Event) -> datetime | None:
        for name in ("LAST-MODIFIED", "DTSTAMP"):
            if name in event:
                return to_utc(_moment(event, name), self.zone)
        return None


def fixed_starts(calendar: Calendar, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The earliest and latest start in `calendar` when no event in it recurs, else None.

    Times without a zone are placed in `zone`; callers allow a day either side, since a
    calendar's X-WR-TIMEZONE may place them differently.
    """
    starts = []
    for event in calendar.subcomponents:
        if not isinstance(event, Event):
            continue
        if event.errors or any(name in event for name in ("RRULE", "RDATE")):
            return None
        try:
            starts.append(to_utc(_moment(event, "DTSTART"), zone))
        except (KeyError, TypeError):
            return None
    return (min(starts), max(starts)) if starts else None


def _by_uid(calendar: Calendar) -> dict[str, list[Event]]:
    """The calendar's events grouped by UID: a single event, or a series and its overrides."""
    groups: dict[str, list[Event]] = {}
    for component in calendar.subcomponents:
        if isinstance(component, Event):
            groups.setdefault(_text(component, "UID").strip(), []).append(component)
    return groups


def _faults(event: Event, zone: ZoneInfo) -> list[str]:
    """What makes `event` unreadable, in words; empty when it can be read."""
    faults = [f"its {name} is not valid ({message})" for name, message in event.errors]
    broken = {name for name, _ in event.errors}
    if "DTSTART" not in event:
        faults.append("it has no DTSTART")
    for name in _TIMED_PROPERTIES:
        tzid = _parameter(event.get(name), "TZID")
        # icalendar quietly leaves a time with an unknown TZID floating.
        if tzid and name not in broken and _is_floating(event.decoded(name)):
            faults.append(f"its {name} uses the unknown time zone {tzid!r}")
    if not faults and "DTEND" in event and _ends_before_start(event, zone):
        faults.append("its DTEND is before its DTSTART")
    return faults


def _ends_before_start(event: Event, zone: ZoneInfo) -> bool:
    return to_utc(_moment(event, "DTEND"), zone) < to_utc(_moment(event, "DTSTART"), zone)


def _skipped(file_name: str, event: Event, faults: Iterable[str]) -> str:
    title = _text(event, "SUMMARY") or "(untitled)"
    return (
        f"{file_name}: skipped the event {title!r} because {'; '.join(faults)}. "
        "Correct it in your calendar app or in the file; until then it is neither read "
        "nor treated as deleted."
    )


def _attendee(address: Any) -> Attendee:
    partstat = _parameter(address, "PARTSTAT").upper()
    return Attendee(
        email=_address(address),
        name=_parameter(address, "CN"),
        response=_RESPONSES.get(partstat, Response.NEEDS_ACTION),
        # Google's export carries the attendee's note with their answer here.
        comment=_parameter(address, "X-RESPONSE-COMMENT"),
        is_resource=_parameter(address, "CUTYPE").upper() in _RESOURCE_TYPES,
    )


def _address(address: Any) -> str:
    """The lower-case email of a calendar address (RFC 7986 EMAIL parameter, else mailto:)."""
    if address is None:
        return ""
    value = _parameter(address, "EMAIL") or str(address).strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    return value.strip().lower()


def _parameter(address: Any, name: str) -> str:
    value = getattr(address, "params", {}).get(name, "")
    # A parameter value with unquoted commas is parsed as a list.
    return ", ".join(value) if isinstance(value, list) else str(value)


def _text(event: Event, name: str) -> str:
    return str(_first(event.get(name)) or "")


def _first(value: Any) -> Any:
    """The value of a property that should appear once (the first, if it is repeated)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _all(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _moment(event: Event, name: str) -> date:
    """The date or datetime value of property `name` (a datetime is a date too)."""
    value = event.decoded(name)
    if not isinstance(value, date):
        raise TypeError(f"its {name} is not a date or time")
    return value


def _is_floating(value: object) -> bool:
    return isinstance(value, datetime) and value.tzinfo is None


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
