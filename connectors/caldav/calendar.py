"""A CalDAV calendar (iCloud, Fastmail, Nextcloud, Radicale…) as a `CalendarSource`.

The connector keeps, in memory, every event of the calendar as the server last sent it
(path → etag and parsed iCalendar) and brings that copy up to date with one request per idle
poll: a sync-collection REPORT where the server offers it, else a ctag PROPFIND (see
`connectors.caldav.sync`). Each poll then returns a complete listing of the sessions that
start within a window around now, read with the local calendar's iCalendar rules
(`connectors.ical`: declines, STATUS:CANCELLED overrides, EXDATEs), and the worker diffs it
against its snapshot, so a deleted event or occurrence is simply absent.

- First poll, a restarted worker, or a cursor the worker dropped: everything is listed again.
- A sync token the server refuses: everything is listed again, with the reason in `resync`;
  the listing is diffed like any poll, so a decline made meanwhile is still judged.
- A poll that fails part-way changes nothing: the copy and marker move only together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from icalendar import Calendar

from connectors.caldav.credentials import auth_command, read_login
from connectors.caldav.http import DEFAULT_TIMEOUT, DavClient, SyncTokenInvalid
from connectors.caldav.sync import Listing, Marker, list_changes, list_everything
from connectors.ical import FileReading, IcsError, SessionReader, fixed_starts, parse_calendar
from worker.model import CalendarChanges

_SLACK = timedelta(days=1)  # floating times may be placed a day either way by X-WR-TIMEZONE


@dataclass(frozen=True)
class _Event:
    """One calendar object as last sent: parsed, or the reason it could not be."""

    etag: str
    name: str
    calendar: Calendar | None
    reason: str = ""
    span: tuple[datetime, datetime] | None = None


class CalDavCalendar:
    """The calendar at `url`, read with the login stored for `account` at `login_path`.

    Sessions starting within [now − `past`, now + `ahead`) are listed. `practitioner_email`
    tells the practitioner's own events from those a client organised; `time_zone` (IANA)
    places all-day events and floating times. `sync_collection=False` compares ctag and
    etags even where the server offers sync-collection. `timeout` bounds each answer;
    `sleep` and `session` replace the pause between retries and the HTTP session (tests).
    """

    def __init__(
        self,
        *,
        account: str,
        url: str,
        login_path: Path,
        practitioner_email: str,
        time_zone: str,
        clock: Callable[[], datetime],
        past: timedelta = timedelta(days=7),
        ahead: timedelta = timedelta(days=60),
        sync_collection: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self._account = account
        self._url = url
        self._login_path = login_path
        self._practitioner_email = practitioner_email
        self._zone = ZoneInfo(time_zone)
        self._clock = clock
        self._past = past
        self._ahead = ahead
        self._sync_collection = sync_collection
        self._timeout = timeout
        self._sleep = sleep
        self._session = session or requests.Session()
        self._events: dict[str, _Event] = {}
        self._marker: Marker | None = None

    def poll(self, cursor: str | None) -> CalendarChanges:
        """Every session in the window, as a complete listing, and the marker as the cursor.

        Raises Recoverable when the server cannot be read, AccountNeedsPractitioner when
        the login is refused or the calendar is not there.
        """
        client = self._client()
        stored = Marker.decode(cursor)
        resync = "the stored CalDAV sync state could not be read" if cursor and not stored else ""
        if stored is None or self._marker is None or self._marker.url != self._url:
            listing = list_everything(client, self._url, sync_collection=self._sync_collection)
        else:
            known = {path: event.etag for path, event in self._events.items()}
            try:
                listing = list_changes(client, self._marker, known)
            except SyncTokenInvalid as lost:
                resync = lost.message
                listing = list_everything(client, self._url, sync_collection=self._sync_collection)
        self._events = self._updated(listing)
        self._marker = listing.marker
        return self._changes(resync)

    def _client(self) -> DavClient:
        login = read_login(self._login_path, account=self._account, url=self._url)
        return DavClient(
            account=self._account,
            login=login,
            fix=auth_command(self._account, login),
            timeout=self._timeout,
            sleep=self._sleep,
            session=self._session,
        )

    def _updated(self, listing: Listing) -> dict[str, _Event]:
        events = {} if listing.complete else dict(self._events)
        for path in listing.deleted:
            events.pop(path, None)
        for path, (etag, data) in listing.changed.items():
            events[path] = self._parsed(path, etag, data)
        return events

    def _parsed(self, path: str, etag: str, data: str) -> _Event:
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if not data:
            return _Event(etag, name, None, "the server sent no calendar data for it")
        try:
            calendar = parse_calendar(data.encode("utf-8"))
        except IcsError as error:
            return _Event(etag, name, None, str(error))
        return _Event(etag, name, calendar, span=fixed_starts(calendar, self._zone))

    def _changes(self, resync: str) -> CalendarChanges:
        now = self._clock().astimezone(UTC)
        window = (now - self._past, now + self._ahead)
        reader = SessionReader(
            zone=self._zone, practitioner_email=self._practitioner_email, window=window
        )
        reading = FileReading()
        for event in self._events.values():
            if event.calendar is None:
                reading.problems.append(
                    f"{event.name}: skipped because {event.reason}. Its sessions are neither "
                    "read nor treated as deleted until the server sends it intact."
                )
                reading.unreadable.append(f"{event.name}:")
            elif event.span is None or _overlaps(event.span, window):
                reading.extend(reader.read(event.calendar, event.name))
        return CalendarChanges(
            sessions=tuple(sorted(reading.sessions, key=lambda s: (s.start, s.key))),
            complete=True,
            cursor=self._marker.encode() if self._marker else None,
            resync=resync,
            window=window,
            unreadable=tuple(reading.unreadable),
            problems=tuple(reading.problems),
        )


def _overlaps(span: tuple[datetime, datetime], window: tuple[datetime, datetime]) -> bool:
    return span[1] + _SLACK >= window[0] and span[0] - _SLACK < window[1]
