"""A practitioner's CalDAV calendar on the test Radicale, changed as a calendar app would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import requests

from connectors.caldav import CalDavCalendar
from connectors.caldav.credentials import save_login
from connectors.caldav.http import Login
from tests.connectors.contract.test_local_calendar_contract import Entry, _calendar, _event
from tests.servers.radicale import PASSWORD, USER, RadicaleServer
from worker.model import Attendee, Response


class Counted(requests.Session):
    """A requests session that counts what it sends, as the server would see it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.sent.append(f"{method!s} {url!s}")
        return super().request(method, url, *args, **kwargs)


def store_login(path: Path, server: RadicaleServer, password: str = PASSWORD) -> None:
    save_login(path, Login(server.root, USER, password))


class CalDavDriver:
    """Writes one event per resource (`<uid>.ics`) into a fresh Radicale calendar."""

    supports_comments = True

    def __init__(
        self,
        server: RadicaleServer,
        login_path: Path,
        *,
        clock: Callable[[], datetime],
        practitioner: str,
        sync_collection: bool = True,
    ) -> None:
        self.server = server
        self.url = server.new_calendar()
        self.login_path = login_path
        self.clock = clock
        self.practitioner = practitioner
        self.sync_collection = sync_collection
        self.entries: dict[str, Entry] = {}
        self.session = Counted()
        store_login(login_path, server)

    def add_session(
        self, *, title: str, start: datetime, end: datetime, attendees: Sequence[Attendee]
    ) -> str:
        uid = f"session-{len(self.entries) + 1}@riverscoaching.co.uk"
        key = f"{uid}.ics:{uid}"
        self.entries[key] = Entry(uid, title, start, end, list(attendees))
        self._write(key)
        return key

    def delete(self, key: str) -> None:
        del self.entries[key]
        self.server.delete(self._address(key))

    def decline(self, key: str, email: str, comment: str) -> None:
        entry = self.entries[key]
        entry.attendees = [
            replace(a, response=Response.DECLINED, comment=comment) if a.address == email else a
            for a in entry.attendees
        ]
        self._write(key)

    def cancel(self, key: str) -> None:
        self.entries[key].cancelled = True
        self._write(key)

    def move(self, key: str, by: timedelta) -> None:
        entry = self.entries[key]
        entry.start, entry.end = entry.start + by, entry.end + by
        self._write(key)

    def put_raw(self, name: str, ics: bytes) -> None:
        self.server.put(f"{self.url}{name}", ics)

    def source(self) -> CalDavCalendar:
        return CalDavCalendar(
            account="main",
            url=self.url,
            login_path=self.login_path,
            practitioner_email=self.practitioner,
            time_zone="Europe/London",
            clock=self.clock,
            sync_collection=self.sync_collection,
            sleep=lambda seconds: None,
            session=self.session,
        )

    def _address(self, key: str) -> str:
        return f"{self.url}{key.partition(':')[0]}"

    def _write(self, key: str) -> None:
        entry = self.entries[key]
        event = _event(entry)
        event["ORGANIZER"] = f"mailto:{self.practitioner}"
        self.server.put(self._address(key), _calendar([event]))
