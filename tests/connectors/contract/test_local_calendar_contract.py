"""The local calendar passes the calendar source contract, as a vdir folder and as one file.

The driver writes .ics files the way khal and vdirsyncer do: one file per event named after
its UID, or every event in one exported file.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar, Event, vCalAddress

from connectors.local import LocalCalendar
from tests.connectors.contract.calendar_contract import NOW, CalendarContract, CalendarDriver
from worker.model import Attendee, Response
from worker.pipeline.calendar import CalendarSource

PRACTITIONER = "sam@riverscoaching.co.uk"
SINGLE_FILE = "sessions.ics"


@dataclass
class Entry:
    """One event as the driver last wrote it."""

    uid: str
    title: str
    start: datetime
    end: datetime
    attendees: list[Attendee]
    cancelled: bool = False


class LocalDriver:
    """Writes .ics files into a folder: one per event (vdir) or all in one file."""

    supports_comments = True

    def __init__(self, folder: Path, *, single_file: bool) -> None:
        self.folder = folder
        self.single_file = single_file
        self.entries: dict[str, Entry] = {}

    def add_session(
        self, *, title: str, start: datetime, end: datetime, attendees: Sequence[Attendee]
    ) -> str:
        uid = f"session-{len(self.entries) + 1}@riverscoaching.co.uk"
        file_name = SINGLE_FILE if self.single_file else f"{uid}.ics"
        key = f"{file_name}:{uid}"
        self.entries[key] = Entry(uid, title, start, end, list(attendees))
        self._write()
        return key

    def delete(self, key: str) -> None:
        del self.entries[key]
        if not self.single_file:
            (self.folder / key.partition(":")[0]).unlink()
        self._write()

    def decline(self, key: str, email: str, comment: str) -> None:
        entry = self.entries[key]
        entry.attendees = [
            replace(a, response=Response.DECLINED, comment=comment) if a.address == email else a
            for a in entry.attendees
        ]
        self._write()

    def cancel(self, key: str) -> None:
        self.entries[key].cancelled = True
        self._write()

    def move(self, key: str, by: timedelta) -> None:
        entry = self.entries[key]
        entry.start, entry.end = entry.start + by, entry.end + by
        self._write()

    def source(self) -> CalendarSource:
        path = self.folder / SINGLE_FILE if self.single_file else self.folder
        return LocalCalendar(
            path=path, practitioner_email=PRACTITIONER, time_zone="Europe/London", clock=lambda: NOW
        )

    def _write(self) -> None:
        if self.single_file:
            events = [_event(entry) for entry in self.entries.values()]
            (self.folder / SINGLE_FILE).write_bytes(_calendar(events))
            return
        for key, entry in self.entries.items():
            (self.folder / key.partition(":")[0]).write_bytes(_calendar([_event(entry)]))


def _calendar(events: list[Event]) -> bytes:
    calendar = Calendar()
    calendar.add("PRODID", "-//PIMUTILS.ORG//NONSGML khal / icalendar //EN")
    calendar.add("VERSION", "2.0")
    for event in events:
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def _event(entry: Entry) -> Event:
    event = Event()
    event.add("UID", entry.uid)
    event.add("DTSTAMP", NOW)
    event.add("LAST-MODIFIED", NOW)
    event.add("DTSTART", entry.start)
    event.add("DTEND", entry.end)
    event.add("SUMMARY", entry.title)
    event.add("ORGANIZER", vCalAddress(f"mailto:{PRACTITIONER}"))
    event.add("STATUS", "CANCELLED" if entry.cancelled else "CONFIRMED")
    for attendee in entry.attendees:
        address = vCalAddress(f"mailto:{attendee.email}")
        address.params["CN"] = attendee.name
        address.params["PARTSTAT"] = attendee.response.value.upper()
        if attendee.comment:
            address.params["X-RESPONSE-COMMENT"] = attendee.comment
        event.add("ATTENDEE", address)
    return event


class TestLocalCalendar(CalendarContract):
    @pytest.fixture(params=["vdir", "single-file"])
    def driver(self, request: pytest.FixtureRequest, tmp_path: Path) -> CalendarDriver:
        return LocalDriver(tmp_path, single_file=request.param == "single-file")
