"""The CalDAV calendar against a real Radicale: requests per poll, lost sync tokens, what the
iCalendar data says (declines, cancelled occurrences, EXDATEs) and hostile content."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.connectors.caldav.helpers import CalDavDriver
from tests.connectors.contract.calendar_contract import MAYA, MONDAY_TEN, NOW, Watcher
from tests.servers.radicale import RadicaleServer
from worker.model import Response

PRACTITIONER = "sam@riverscoaching.co.uk"
MODES = pytest.mark.parametrize("sync_collection", [True, False], ids=["sync-collection", "ctag"])


@pytest.fixture
def driver(radicale_server: RadicaleServer, tmp_path: Path) -> CalDavDriver:
    return CalDavDriver(
        radicale_server, tmp_path / "main.caldav.json", clock=lambda: NOW, practitioner=PRACTITIONER
    )


def _ics(*lines: str) -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *lines])
    return (body + "\r\nEND:VCALENDAR\r\n").encode("utf-8")


def _at(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%SZ}"


def _weekly(uid: str, *extra: str) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_at(NOW - timedelta(days=3))}",
        f"DTSTART:{_at(MONDAY_TEN)}",
        f"DTEND:{_at(MONDAY_TEN + timedelta(minutes=50))}",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:Weekly coaching – Maya",
        f"ORGANIZER:mailto:{PRACTITIONER}",
        f"ATTENDEE;CN=Maya Patel;PARTSTAT=ACCEPTED:mailto:{MAYA.email}",
        *extra,
        "END:VEVENT",
    ]


@MODES
def test_an_idle_poll_is_one_request(
    radicale_server: RadicaleServer, tmp_path: Path, sync_collection: bool
) -> None:
    driver = CalDavDriver(
        radicale_server,
        tmp_path / "login.json",
        clock=lambda: NOW,
        practitioner=PRACTITIONER,
        sync_collection=sync_collection,
    )
    for hour in range(3):
        driver.add_session(
            title="Coaching",
            start=MONDAY_TEN + timedelta(hours=hour),
            end=MONDAY_TEN + timedelta(hours=hour, minutes=50),
            attendees=[MAYA],
        )
    watcher = Watcher(driver.source())
    watcher.poll()
    driver.session.sent.clear()

    for _ in range(5):
        watcher.poll()

    assert len(driver.session.sent) == 5
    assert len(watcher.known) == 3


def test_with_sync_collection_a_changed_event_comes_back_in_that_one_request(
    driver: CalDavDriver,
) -> None:
    key = driver.add_session(
        title="Coaching", start=MONDAY_TEN, end=MONDAY_TEN + timedelta(hours=1), attendees=[MAYA]
    )
    watcher = Watcher(driver.source())
    watcher.poll()
    driver.session.sent.clear()

    driver.decline(key, MAYA.email, "")
    watcher.poll()

    assert [line.split()[0] for line in driver.session.sent] == ["REPORT"]
    maya = watcher.known[key].attendee(MAYA.email)
    assert maya is not None
    assert maya.response is Response.DECLINED


@MODES
def test_a_sync_token_the_server_lost_lists_everything_again_and_keeps_the_change(
    radicale_server: RadicaleServer, tmp_path: Path, sync_collection: bool
) -> None:
    driver = CalDavDriver(
        radicale_server,
        tmp_path / "login.json",
        clock=lambda: NOW,
        practitioner=PRACTITIONER,
        sync_collection=sync_collection,
    )
    key = driver.add_session(
        title="Coaching", start=MONDAY_TEN, end=MONDAY_TEN + timedelta(hours=1), attendees=[MAYA]
    )
    watcher = Watcher(driver.source())
    watcher.poll()
    _forget_sync_tokens(radicale_server, driver.url)

    driver.decline(key, MAYA.email, "")
    changes = watcher.poll()

    maya = watcher.known[key].attendee(MAYA.email)
    assert maya is not None
    assert maya.response is Response.DECLINED
    assert changes.complete
    if sync_collection:
        assert "no longer accepts the calendar's sync token" in changes.resync
        assert "HTTP 403" in changes.resync
        assert watcher.poll().resync == "", "the fresh token is used from then on"
    else:
        assert changes.resync == "", "ctag comparison has no token to lose"


def test_a_deleted_occurrence_and_a_cancelled_one_read_as_on_the_local_calendar(
    driver: CalDavDriver,
) -> None:
    second, third = MONDAY_TEN + timedelta(weeks=1), MONDAY_TEN + timedelta(weeks=2)
    driver.put_raw("series.ics", _ics(*_weekly("series-1")))
    watcher = Watcher(driver.source())
    watcher.poll()
    assert len(watcher.known) == 3

    cancelled_override = [
        "BEGIN:VEVENT",
        "UID:series-1",
        f"RECURRENCE-ID:{_at(third)}",
        f"DTSTAMP:{_at(NOW)}",
        f"DTSTART:{_at(third)}",
        f"DTEND:{_at(third + timedelta(minutes=50))}",
        "STATUS:CANCELLED",
        "SUMMARY:Weekly coaching – Maya",
        "END:VEVENT",
    ]
    driver.put_raw(
        "series.ics", _ics(*_weekly("series-1", f"EXDATE:{_at(second)}"), *cancelled_override)
    )
    changes = watcher.poll()

    keys = {s.key: s for s in changes.sessions}
    assert f"series.ics:series-1/{second.isoformat()}" not in keys
    assert keys[f"series.ics:series-1/{third.isoformat()}"].cancelled
    assert not keys[f"series.ics:series-1/{MONDAY_TEN.isoformat()}"].cancelled


@MODES
def test_hostile_titles_names_and_broken_events_break_nothing(
    radicale_server: RadicaleServer, tmp_path: Path, sync_collection: bool
) -> None:
    driver = CalDavDriver(
        radicale_server,
        tmp_path / "login.json",
        clock=lambda: NOW,
        practitioner=PRACTITIONER,
        sync_collection=sync_collection,
    )
    title = "]]></C:calendar-data><D:href>x</D:href> <script>alert(1)</script> Ünïcødé"

    def weird(title: str) -> None:
        driver.put_raw(
            "weird name & 100%25 ü.ics",
            _ics(
                "BEGIN:VEVENT",
                "UID:weird",
                f"DTSTAMP:{_at(NOW)}",
                f"DTSTART:{_at(MONDAY_TEN)}",
                f"DTEND:{_at(MONDAY_TEN + timedelta(hours=1))}",
                f"SUMMARY:{title}",
                f'ATTENDEE;CN="Maya\\, <b>";PARTSTAT=DECLINED:mailto:{MAYA.email}',
                "END:VEVENT",
            ),
        )

    weird(title)
    backwards = [f"DTSTART:{_at(MONDAY_TEN)}", f"DTEND:{_at(MONDAY_TEN - timedelta(hours=1))}"]
    driver.put_raw(
        "broken.ics",
        _ics("BEGIN:VEVENT", "UID:broken", f"DTSTAMP:{_at(NOW)}", *backwards, "END:VEVENT"),
    )
    watcher = Watcher(driver.source())

    changes = watcher.poll()

    [session] = changes.sessions
    assert session.title == title
    assert session.key == "weird name & 100% ü.ics:weird"
    assert any(
        "broken.ics" in problem and "DTEND is before its DTSTART" in problem
        for problem in changes.problems
    )
    assert "broken.ics:broken" in changes.unreadable
    weird(title + " (moved to Zoom)")
    [session] = watcher.poll().sessions  # in ctag mode fetched again by calendar-multiget
    assert session.title == title + " (moved to Zoom)"


def _forget_sync_tokens(server: RadicaleServer, url: str) -> None:
    """Radicale loses the calendar's sync history (as after a restore from backup)."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    caches = list(server.folder.glob(f"collections/collection-root/*/{name}/.Radicale.cache"))
    assert caches
    for cache in caches:
        shutil.rmtree(cache / "sync-token", ignore_errors=True)
