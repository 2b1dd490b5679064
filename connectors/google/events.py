"""Google Calendar answers read into sessions, checked before they are trusted.

google-api-python-client hands back a truncated JSON body as a plain string, and an event may
lack any field but its id, so every page and every item is checked here: a bad page fails the
poll, a bad item is skipped and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from worker.errors import Recoverable
from worker.model import Attendee, Response, Session

_RESPONSES = {
    "accepted": Response.ACCEPTED,
    "declined": Response.DECLINED,
    "tentative": Response.TENTATIVE,
    "needsAction": Response.NEEDS_ACTION,
}


@dataclass(frozen=True, slots=True)
class Page:
    """One page of `events.list`: its items, and either the next page's token or the sync token."""

    items: tuple[object, ...]
    next_page: str | None
    sync_token: str | None


def read_page(answer: object, *, account: str) -> Page:
    """Check the shape of an `events.list` answer; anything unexpected is `Recoverable`."""
    if not isinstance(answer, dict):
        raise Recoverable(
            f"Google Calendar sent account {account} an unreadable page of events "
            f"({_describe(answer)}); nothing was applied, trying again next cycle.",
            account=account,
        )
    items = answer.get("items", [])
    next_page, sync_token = answer.get("nextPageToken"), answer.get("nextSyncToken")
    if not isinstance(items, list) or not (_token(next_page) or _token(sync_token)):
        raise Recoverable(
            f"Google Calendar sent account {account} a page of events without "
            f"{'a list of items' if not isinstance(items, list) else 'a next page or sync token'}"
            "; nothing was applied, trying again next cycle.",
            account=account,
        )
    return Page(tuple(items), _token(next_page), None if _token(next_page) else _token(sync_token))


@dataclass
class Listing:
    """What a walk over every page of `events.list` found."""

    sessions: list[Session] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class EventReader:
    """Turns event payloads into sessions in the practitioner's terms.

    `zone` places all-day events and times given without an offset or zone. The attendee
    marked `self` is the practitioner, whatever address the calendar shows for them.
    """

    def __init__(self, *, zone: ZoneInfo, practitioner_email: str) -> None:
        self._zone = zone
        self._practitioner = practitioner_email.strip().lower()

    def read(self, item: object, listing: Listing) -> None:
        """Add one item to `listing`: a session, a removed key, or a problem."""
        if not isinstance(item, dict) or not _token(item.get("id")):
            listing.problems.append(
                f"Google Calendar listed an item that is not an event with an id "
                f"({_describe(item)}); skipped, and no session is taken as deleted this time."
            )
            listing.unreadable.append("")  # a prefix of every key: nothing reads as deleted
            return
        key = str(item["id"])
        cancelled = item.get("status") == "cancelled"
        if cancelled and not ("start" in item and "end" in item):
            # A deleted event may be only {id, status}; a cancelled occurrence only
            # {id, recurringEventId, originalStartTime}. The snapshot knows the rest.
            listing.removed.append(key)
            return
        try:
            listing.sessions.append(self.session(item))
        except (TypeError, ValueError, KeyError) as error:
            title = item.get("summary") if isinstance(item.get("summary"), str) else ""
            listing.problems.append(
                f"Google Calendar event {key}{f' ({title!r})' if title else ''}: skipped because "
                f"{error}. It is neither read nor taken as deleted until it reads cleanly."
            )
            listing.unreadable.append(key)

    def session(self, item: dict[str, Any]) -> Session:
        """A full event payload as a session; raises ValueError naming what is wrong."""
        start, all_day = self._moment(item.get("start"), "start")
        end, _ = self._moment(item.get("end"), "end")
        found = item.get("organizer")
        organizer: dict[str, Any] = found if isinstance(found, dict) else {}
        organizer_email = _text(organizer.get("email"))
        attendees = item.get("attendees", [])
        if not isinstance(attendees, list):
            raise ValueError("its attendees are not a list")
        return Session(
            key=str(item["id"]),
            title=_text(item.get("summary")),
            start=start,
            end=end,
            organizer_email=organizer_email,
            organizer_is_practitioner=not organizer
            or organizer.get("self") is True
            or organizer_email.strip().lower() == self._practitioner,
            attendees=tuple(a for a in (self._attendee(x) for x in attendees) if a is not None),
            description=_text(item.get("description")),
            cancelled=item.get("status") == "cancelled",
            all_day=all_day,
            series_id=_text(item.get("recurringEventId")),
            updated=_instant(item["updated"]) if _token(item.get("updated")) else None,
        )

    def _attendee(self, entry: object) -> Attendee | None:
        if not isinstance(entry, dict) or not _token(entry.get("email")):
            return None  # no address: never a client a notice could go to
        email = self._practitioner if entry.get("self") is True else str(entry["email"])
        return Attendee(
            email=email,
            name=_text(entry.get("displayName")),
            response=_RESPONSES.get(_text(entry.get("responseStatus")), Response.NEEDS_ACTION),
            comment=_text(entry.get("comment")),
            is_resource=entry.get("resource") is True,
        )

    def _moment(self, value: object, name: str) -> tuple[datetime, bool]:
        if not isinstance(value, dict):
            raise ValueError(f"it has no {name} time")
        if _token(value.get("dateTime")):
            moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self._zone_named(value.get("timeZone")))
            return moment.astimezone(UTC), False
        if _token(value.get("date")):
            day = date.fromisoformat(str(value["date"]))
            return datetime.combine(day, time(0), self._zone).astimezone(UTC), True
        raise ValueError(f"its {name} has neither a date nor a dateTime")

    def _zone_named(self, name: object) -> ZoneInfo:
        try:
            return ZoneInfo(str(name)) if _token(name) else self._zone
        except (ValueError, KeyError):  # unknown zone names: the practitioner's zone
            return self._zone


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"its time {text!r} has no offset")
    return moment.astimezone(UTC)


def _token(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _describe(value: object) -> str:
    if isinstance(value, str):
        return f"text of {len(value)} characters starting {value[:40]!r}, likely cut short"
    return f"a {type(value).__name__}"
