"""Sessions to and from the JSON kept in the snapshot and fact tables."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from worker.model import Attendee, Response, Session
from worker.store.db import from_utc_text


def _time(value: datetime | None) -> str | None:
    # Full precision: a start rounded to the second would read as a move on the next poll.
    return None if value is None else value.astimezone(UTC).isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else from_utc_text(value)


def session_to_json(session: Session) -> str:
    body: dict[str, Any] = asdict(session)
    for name in ("start", "end", "updated"):
        body[name] = _time(body[name])
    for attendee in body["attendees"]:
        attendee["responded_at"] = _time(attendee["responded_at"])
        attendee["response"] = str(attendee["response"])
    return json.dumps(body, sort_keys=True)


def session_from_json(text: str) -> Session:
    body = json.loads(text)
    attendees = tuple(
        Attendee(
            **{
                **a,
                "response": Response(a["response"]),
                "responded_at": _parse_time(a["responded_at"]),
            }
        )
        for a in body.pop("attendees")
    )
    start, end = from_utc_text(body.pop("start")), from_utc_text(body.pop("end"))
    updated = _parse_time(body.pop("updated"))
    return Session(**body, start=start, end=end, updated=updated, attendees=attendees)
