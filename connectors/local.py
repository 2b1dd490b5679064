"""A calendar kept in local .ics files: a vdir folder (vdirsyncer, khal) or one exported file.

Files have no change tokens, so every poll is a complete listing of the sessions that start
within a window around now, and the worker diffs it against its snapshot. A vdir synced from
a provider keeps years of past events; an unchanged file whose events all lie outside the
window is not parsed again, and neither is an unchanged file that could not be parsed (it is
still reported, and its sessions are still neither read nor taken as deleted).

A path that is missing (a folder removed, a drive not mounted) fails the poll instead of
listing nothing: an empty complete listing would read as every session deleted. When it
comes back, the listing is diffed against the snapshot of the last good poll, so a decline
made meanwhile is judged then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from connectors.ical import FileReading, IcsError, SessionReader, fixed_starts, parse_calendar
from worker.errors import CalendarFileError
from worker.model import CalendarChanges

# Room for times without a zone, which a file's X-WR-TIMEZONE may place differently.
_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class _Unchanged:
    """A file as last read: its identity on disk and the span of its (fixed) event starts."""

    stamp: tuple[int, int, int]
    first_start: datetime
    last_start: datetime

    def outside(self, window: tuple[datetime, datetime]) -> bool:
        start, end = window
        return self.last_start + _SLACK < start or self.first_start - _SLACK >= end


@dataclass(frozen=True)
class _Unparsable:
    """A file whose content could not be parsed, as it was on disk then, and why."""

    stamp: tuple[int, int, int]
    reason: str


class LocalCalendar:
    """Sessions read from .ics files on disk; implements `CalendarSource`.

    `path` is a folder holding one .ics file per event (as vdirsyncer and khal keep them)
    or a single .ics file. `practitioner_email` tells the practitioner's own events from
    those a client organised. `time_zone` (IANA name) places all-day events and floating
    times. `clock` gives the current time; sessions starting within
    [now - `past`, now + `ahead`) are listed.
    """

    def __init__(
        self,
        *,
        path: Path,
        practitioner_email: str,
        time_zone: str,
        clock: Callable[[], datetime],
        past: timedelta = timedelta(days=7),
        ahead: timedelta = timedelta(days=60),
    ) -> None:
        self._path = path
        self._practitioner_email = practitioner_email
        self._zone = ZoneInfo(time_zone)
        self._clock = clock
        self._past = past
        self._ahead = ahead
        self._unchanged: dict[str, _Unchanged] = {}
        self._unparsable: dict[Path, _Unparsable] = {}

    def poll(self, cursor: str | None) -> CalendarChanges:
        """Every session starting within the window, as a complete listing.

        `cursor` is ignored and none is returned: files carry no change tokens. A folder's
        unreadable files are skipped and reported; an unreadable single file raises
        `CalendarFileError`, as does a missing path.
        """
        now = self._clock().astimezone(UTC)
        reader = SessionReader(
            zone=self._zone,
            practitioner_email=self._practitioner_email,
            window=(now - self._past, now + self._ahead),
        )
        if self._path.is_dir():
            reading = self._read_folder(reader)
        elif self._path.is_file():
            reading = reader.read(self._read_single_file(), self._path.name)
        else:
            raise CalendarFileError(
                f"The calendar path {self._path} does not exist or is not a file or folder; "
                "check `path` in the [accounts.calendar] section.",
                path=str(self._path),
            )
        return CalendarChanges(
            sessions=tuple(sorted(reading.sessions, key=lambda s: (s.start, s.key))),
            complete=True,
            window=reader.window,
            unreadable=tuple(reading.unreadable),
            problems=tuple(reading.problems),
        )

    def _read_folder(self, reader: SessionReader) -> FileReading:
        reading = FileReading()
        files = self._calendar_files()
        self._unchanged = {
            f.name: self._unchanged[f.name] for f in files if f.name in self._unchanged
        }
        self._unparsable = {f: self._unparsable[f] for f in files if f in self._unparsable}
        for file in files:
            reading.extend(self._read_file(file, reader))
        return reading

    def _read_file(self, file: Path, reader: SessionReader) -> FileReading:
        try:
            # Stat before reading, so a change made during the read is seen next time.
            stamp = _stamp(file)
            known = self._unchanged.get(file.name)
            if known and known.stamp == stamp and known.outside(reader.window):
                return FileReading()
            calendar = self._parse(file, stamp)
        except (OSError, IcsError) as error:
            problem = (
                f"{file.name}: skipped because {_reason(error)}. Its sessions are neither "
                "read nor treated as deleted until it reads cleanly."
            )
            return FileReading(problems=[problem], unreadable=[f"{file.name}:"])
        self._remember(file.name, stamp, calendar)
        return reader.read(calendar, file.name)

    def _parse(self, file: Path, stamp: tuple[int, int, int]) -> Calendar:
        """The parsed file; a file that did not parse is not read again until it changes.

        Only content failures are kept: a file that could not be opened may become readable
        (its permissions fixed) without its size or modification time changing.
        """
        failed = self._unparsable.get(file)
        if failed is not None and failed.stamp == stamp:
            raise IcsError(failed.reason)
        self._unparsable.pop(file, None)
        try:
            return parse_calendar(file.read_bytes())
        except IcsError as error:
            self._unparsable[file] = _Unparsable(stamp, str(error))
            raise

    def _remember(self, name: str, stamp: tuple[int, int, int], calendar: Calendar) -> None:
        span = fixed_starts(calendar, self._zone)
        if span is None:
            self._unchanged.pop(name, None)
        else:
            self._unchanged[name] = _Unchanged(stamp, *span)

    def _calendar_files(self) -> list[Path]:
        try:
            entries = sorted(self._path.iterdir())
        except OSError as error:
            raise CalendarFileError(
                f"The calendar folder {self._path} could not be listed "
                f"({error.strerror or error}); check its permissions.",
                path=str(self._path),
            ) from error
        # Editors leave lock files such as ".#event.ics"; they are not events.
        return [
            entry
            for entry in entries
            if entry.suffix == ".ics" and not entry.name.startswith(".") and not entry.is_dir()
        ]

    def _read_single_file(self) -> Calendar:
        # A single file holds the whole calendar: if it cannot be read, nothing in the
        # listing can be trusted, so the poll fails rather than reporting deletions.
        try:
            return self._parse(self._path, _stamp(self._path))
        except (OSError, IcsError) as error:
            raise CalendarFileError(
                f"The calendar file {self._path.name} could not be read: {_reason(error)}.",
                file=self._path.name,
                path=str(self._path),
            ) from error


def _stamp(file: Path) -> tuple[int, int, int]:
    status = file.stat()
    return status.st_mtime_ns, status.st_size, status.st_ino


def _reason(error: OSError | IcsError) -> str:
    if isinstance(error, FileNotFoundError):
        return "it disappeared while being read (perhaps a sync was running)"
    if isinstance(error, OSError):
        return f"it could not be opened ({error.strerror or error}); check its permissions"
    return str(error)
