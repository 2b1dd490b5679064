"""Graph event JSON → `Session`, checking each shape before trusting it.

Requests carry `Prefer: outlook.timezone="UTC"`, so times arrive as UTC wall-clock times.
All-day events are dates, not instants: they are read by date in the practitioner's zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from worker.model import Attendee, Response, Session

_RESPONSES = {
    "accepted": Response.ACCEPTED,
    "organizer": Response.ACCEPTED,
    "declined": Response.DECLINED,
    "tentativelyaccepted": Response.TENTATIVE,
    "none": Response.NEEDS_ACTION,
    "notresponded": Response.NEEDS_ACTION,
}
_UTC_NAMES = frozenset({"utc", "etc/utc", "gmt", "z"})


class MalformedEvent(ValueError):
    """An event whose JSON lacks or garbles a field the worker needs; the text says which."""


@dataclass(frozen=True, slots=True)
class EventReader:
    """Reads Graph events for a practitioner whose address is `practitioner_email`."""

    practitioner_email: str
    zone: ZoneInfo

    def session(self, event: Mapping[str, Any]) -> Session:
        """The session for one event (one occurrence of a series); MalformedEvent if garbled."""
        event_id = _text(event, "id", required=True)
        all_day = event.get("isAllDay") is True
        start = self._moment(event.get("start"), "start", all_day)
        end = self._moment(event.get("end"), "end", all_day)
        organizer = _address(event.get("organizer"), "organizer")
        practitioner = self.practitioner_email.strip().lower()
        return Session(
            key=event_id,
            title=_text(event, "subject"),
            start=start,
            end=max(end, start),
            organizer_email=organizer,
            organizer_is_practitioner=event.get("isOrganizer") is True
            or organizer in ("", practitioner),
            attendees=_attendees(event.get("attendees")),
            description=_text(event, "bodyPreview"),
            cancelled=event.get("isCancelled") is True,
            all_day=all_day,
            series_id=_text(event, "seriesMasterId"),
            updated=instant(event.get("lastModifiedDateTime"), "lastModifiedDateTime"),
        )

    def _moment(self, value: object, name: str, all_day: bool) -> datetime:
        if not isinstance(value, Mapping) or not isinstance(value.get("dateTime"), str):
            raise MalformedEvent(f"its {name} has no dateTime")
        text = value["dateTime"]
        try:
            wall = datetime.fromisoformat(text)
        except ValueError:
            raise MalformedEvent(f"its {name} {text!r} is not a date and time") from None
        if all_day:
            return datetime.combine(wall.date(), time(), self.zone).astimezone(UTC)
        return wall.replace(tzinfo=_zone(value.get("timeZone"), name)).astimezone(UTC)


def instant(value: object, name: str) -> datetime | None:
    """An aware UTC datetime from Graph's DateTimeOffset text; None when absent or year 1."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"its {name} is not a timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedEvent(f"its {name} {value!r} is not a timestamp") from None
    # Graph writes "0001-01-01T00:00:00Z" for "never" (e.g. no response yet).
    if moment.date() <= date(1, 1, 2):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _attendees(value: object) -> tuple[Attendee, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedEvent("its attendees are not a list")
    attendees = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise MalformedEvent("an attendee is not an object")
        email = _address(entry, "attendee")
        if not email:
            continue  # a distribution list or a room without an address: nobody to notify
        status = entry.get("status")
        status = status if isinstance(status, Mapping) else {}
        response = str(status.get("response") or "none").lower()
        attendees.append(
            Attendee(
                email=email,
                name=_name(entry),
                response=_RESPONSES.get(response, Response.NEEDS_ACTION),
                responded_at=instant(status.get("time"), "attendee response time"),
                is_resource=str(entry.get("type") or "").lower() == "resource",
            )
        )
    return tuple(attendees)


def _address(holder: object, name: str) -> str:
    if holder is None:
        return ""
    if not isinstance(holder, Mapping):
        raise MalformedEvent(f"its {name} is not an object")
    email = holder.get("emailAddress")
    if email is None:
        return ""
    if not isinstance(email, Mapping):
        raise MalformedEvent(f"its {name} emailAddress is not an object")
    address = email.get("address")
    return address.strip().lower() if isinstance(address, str) else ""


def _name(entry: Mapping[str, Any]) -> str:
    email = entry.get("emailAddress")
    name = email.get("name") if isinstance(email, Mapping) else None
    return name.strip() if isinstance(name, str) else ""


def _text(event: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = event.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedEvent(f"its {name} is missing or not text")
    return value


def _zone(value: object, name: str) -> tzinfo:
    if not isinstance(value, str) or value.strip().lower() in _UTC_NAMES:
        return UTC
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise MalformedEvent(f"its {name} is in an unknown time zone {value!r}") from None
