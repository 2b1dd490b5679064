"""An Outlook calendar read through Graph's calendarView delta, as a `CalendarSource`.

A delta round lists every event of a fixed window (now − past … now + ahead), page by page,
and ends with a deltaLink that later rounds follow to get only what changed. The cursor the
worker stores is this module's JSON: the final deltaLink, the window and when it was built.
A cursor is only returned once a round reached its deltaLink, so a failure halfway through
leaves the previous one in place.

- First poll, window older than a day or resized: a complete listing of a new window. The
  worker diffs it, so deletions in the window are still noticed; a session outside the new
  window is neither listed nor taken as deleted.
- 410 / syncStateNotFound / resyncRequired, or a stored cursor this version cannot read: the
  same complete listing, with the reason in `resync`. The worker diffs it like any poll, so
  a decline made while the token was lost is still judged (on its response time).
- Otherwise an incremental listing. Graph reports events leaving the window as removed
  too, so each removed id is looked up: only those Graph no longer has are `removed`;
  those it still has come back as changed sessions (a move far ahead is a move, not a
  deletion). Replays and duplicates are harmless: the last word on each id wins.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from connectors.microsoft.events import EventReader, MalformedEvent
from connectors.microsoft.http import DEFAULT_TIMEOUT, GRAPH_URL, AccessTokens, SyncStateLost
from connectors.microsoft.tokens import graph_for
from worker.errors import Recoverable
from worker.model import CalendarChanges, Session

REBUILD_AFTER = timedelta(days=1)
MAX_PAGES = 1000
_CURSOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class _Cursor:
    delta_link: str
    window: tuple[datetime, datetime]
    built_at: datetime

    def encode(self) -> str:
        start, end = self.window
        return json.dumps(
            {
                "version": _CURSOR_VERSION,
                "delta_link": self.delta_link,
                "window": [start.isoformat(), end.isoformat()],
                "built_at": self.built_at.isoformat(),
            },
            sort_keys=True,
        )

    @classmethod
    def decode(cls, text: str | None) -> _Cursor | None:
        """The cursor in `text`, or None if absent or not one of ours (then: rebuild)."""
        if not text:
            return None
        try:
            raw = json.loads(text)
            if raw["version"] != _CURSOR_VERSION or not isinstance(raw["delta_link"], str):
                return None
            start, end = (_utc(value) for value in raw["window"])
            return cls(raw["delta_link"], (start, end), _utc(raw["built_at"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class _Round:
    """The last word of one delta round on each event id it named, and its deltaLink.

    `events[id]` is the event's JSON, or None when Graph said it was removed.
    """

    events: dict[str, Mapping[str, Any] | None] = field(default_factory=dict)
    delta_link: str = ""

    def changed(self) -> list[Mapping[str, Any]]:
        return [event for event in self.events.values() if event is not None]

    def removed(self) -> list[str]:
        return [key for key, event in self.events.items() if event is None]


@dataclass
class _Reading:
    sessions: dict[str, Session] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


class OutlookCalendar:
    """The signed-in account's primary Outlook calendar; implements `CalendarSource`.

    `account` and `tokens_dir` locate the sign-in made with `sign_in`; `graph_url` is the
    Graph root (national clouds differ). Sessions starting within [now − `past`,
    now + `ahead`) are watched. `practitioner_email` tells the practitioner's own events from
    those a client organised; `time_zone` (IANA) places all-day events; `timeout` bounds each
    answer. `tokens` and `sleep` replace the token source and the pause between retries (tests).
    """

    def __init__(
        self,
        *,
        account: str,
        tokens_dir: Path,
        graph_url: str = GRAPH_URL,
        past: timedelta = timedelta(days=1),
        ahead: timedelta = timedelta(days=60),
        practitioner_email: str,
        time_zone: str,
        clock: Callable[[], datetime],
        tokens: AccessTokens | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._graph = graph_for(
            account=account,
            tokens_dir=tokens_dir,
            tokens=tokens,
            graph_url=graph_url,
            clock=clock,
            sleep=sleep,
            timeout=timeout,
        )
        self._reader = EventReader(practitioner_email=practitioner_email, zone=ZoneInfo(time_zone))
        self._clock = clock
        self._past = past
        self._ahead = ahead

    def poll(self, cursor: str | None) -> CalendarChanges:
        """What changed since `cursor` (see the module docstring for which kind of listing).

        Raises Recoverable for outages and malformed pages, AccountNeedsPractitioner when
        the account's sign-in or permissions no longer work.
        """
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        state = _Cursor.decode(cursor)
        if state is None:
            unreadable = "the stored delta link could not be read" if cursor else ""
            return self._listing(now, resync=unreadable)
        if now - state.built_at >= REBUILD_AFTER or not self._sized(state.window):
            return self._rebuild(state, now)
        try:
            found = self._round(state.delta_link)
        except SyncStateLost as lost:
            return self._listing(now, resync=lost.message)
        gone, still_there = self._confirm(found.removed())
        reading = self._read([*found.changed(), *still_there])
        return CalendarChanges(
            sessions=tuple(reading.sessions.values()),
            complete=False,
            removed=tuple(gone),
            cursor=_Cursor(found.delta_link, state.window, state.built_at).encode(),
            window=state.window,
            unreadable=tuple(reading.unreadable),
            problems=tuple(reading.problems),
        )

    def _rebuild(self, state: _Cursor, now: datetime) -> CalendarChanges:
        """A new window, after one last round on the old one.

        That round finds events moved out of the window since the last poll: a complete
        listing of the new window alone would read them as deleted.
        """
        try:
            last = self._round(state.delta_link)
        except SyncStateLost as lost:
            return self._listing(now, resync=lost.message)
        _, still_there = self._confirm(last.removed())
        return self._listing(now, carried=[*last.changed(), *still_there])

    def _listing(
        self, now: datetime, *, resync: str = "", carried: Iterable[Mapping[str, Any]] = ()
    ) -> CalendarChanges:
        """Every event of a new window (and `carried` changes from the old one), complete."""
        window = (now - self._past, now + self._ahead)
        query = urlencode(
            {"startDateTime": _graph_time(window[0]), "endDateTime": _graph_time(window[1])}
        )
        found = self._round(f"me/calendarView/delta?{query}")
        reading = self._read(carried)
        listed = self._read(found.changed())
        reading.sessions.update(listed.sessions)
        reading.problems += listed.problems
        reading.unreadable += listed.unreadable
        return CalendarChanges(
            sessions=tuple(reading.sessions.values()),
            complete=True,
            cursor=_Cursor(found.delta_link, window, now).encode(),
            resync=resync,
            window=window,
            unreadable=tuple(reading.unreadable),
            problems=tuple(reading.problems),
        )

    def _round(self, url: str) -> _Round:
        found = _Round()
        for _ in range(MAX_PAGES):
            page = self._graph.get_json(url) or {}
            for item in _items(page):
                # A later mention of the same id (a replay, or a change mid-round) wins.
                found.events.pop(item["id"], None)
                found.events[item["id"]] = None if "@removed" in item else item
            next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
            if isinstance(next_link, str) and next_link:
                url = next_link
            elif isinstance(delta_link, str) and delta_link:
                found.delta_link = delta_link
                return found
            else:
                raise Recoverable(
                    "Microsoft Graph sent a page of events with no next or delta link"
                )
        raise Recoverable(f"Microsoft Graph kept paging past {MAX_PAGES} pages of events")

    def _confirm(self, removed: list[str]) -> tuple[list[str], list[Mapping[str, Any]]]:
        """Split removed ids into those Graph no longer has and the events it still has."""
        gone: list[str] = []
        still_there: list[Mapping[str, Any]] = []
        for event_id in removed:
            event = self._graph.get_json(f"me/events/{quote(event_id, safe='=')}", missing_ok=True)
            if event is None:
                gone.append(event_id)
            else:
                still_there.append(event)
        return gone, still_there

    def _read(self, events: Iterable[Mapping[str, Any]]) -> _Reading:
        reading = _Reading()
        for event in events:
            if str(event.get("type") or "").lower() == "seriesmaster":
                continue  # a calendar view lists the occurrences, each judged on its own
            try:
                session = self._reader.session(event)
            except MalformedEvent as problem:
                reading.problems.append(_problem(event, problem))
                reading.unreadable.append(str(event.get("id")))
                continue
            reading.sessions[session.key] = session
        return reading

    def _sized(self, window: tuple[datetime, datetime]) -> bool:
        return window[1] - window[0] == self._past + self._ahead


def _items(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = page.get("value")
    if not isinstance(value, list):
        raise Recoverable("Microsoft Graph sent a page of events without a list of events")
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
            raise Recoverable("Microsoft Graph listed an event without an id")
    return value


def _problem(event: Mapping[str, Any], problem: MalformedEvent) -> str:
    subject = event.get("subject")
    name = f"{subject!r}" if isinstance(subject, str) and subject else "an untitled event"
    return (
        f"Outlook event {name} (id …{str(event.get('id'))[-12:]}): skipped because {problem}. "
        "It is neither read nor treated as deleted until Outlook sends it intact."
    )


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError("not a timestamp")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive timestamp")
    return moment.astimezone(UTC)
