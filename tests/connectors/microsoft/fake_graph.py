"""Microsoft Graph in memory: one primary calendar with delta tokens, and sendMail.

It answers the requests OutlookCalendar and OutlookSender make, through `responses`
callbacks, the way Graph does: a calendarView delta round lists the window page by page
(skip tokens) and ends with a deltaLink; following it lists what changed since, with events
that were deleted or left the window as `@removed`; an expired token gets 410
syncStateNotFound; sendMail takes base64 MIME (or JSON) and answers 202.
"""

from __future__ import annotations

import base64
import copy
import email
import email.policy
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import responses
from requests import PreparedRequest

from tests.connectors.microsoft.helpers import GRAPH, load

_Answer = tuple[int, dict[str, str], str]


@dataclass(frozen=True)
class NoAnswer:
    """A sendMail request that gets no answer: `error` is raised to the client.

    `taken` says whether Graph had the message by then (a read timeout after sending) or
    never saw it (connection refused).
    """

    error: Exception
    taken: bool


def graph_time(moment: datetime) -> str:
    """Graph's dateTime text for a UTC moment (seven fractional digits, no offset)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")


def parse_graph_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class _Token:
    position: int
    window: tuple[datetime, datetime]


class FakeGraph:
    """The practitioner's mailbox as Graph shows it. `clock` stamps every change."""

    def __init__(
        self,
        mock: responses.RequestsMock,
        *,
        practitioner: str,
        clock: Callable[[], datetime],
        page_size: int = 2,
    ) -> None:
        self.practitioner = practitioner
        self.clock = clock
        self.page_size = page_size
        self.events: dict[str, dict[str, Any]] = {}
        self.changes: list[str] = []
        self.sent: list[EmailMessage] = []
        self.sent_json: list[dict[str, Any]] = []
        self.attempts: list[EmailMessage | dict[str, Any]] = []
        self.send_script: list[_Answer | NoAnswer] = []
        self.requests: list[str] = []
        self.replay_next = False
        self._tokens: dict[str, _Token] = {}
        self._pages: dict[str, tuple[list[dict[str, Any]], str]] = {}
        self._serial = itertools.count(1)
        delta = re.compile(re.escape(f"{GRAPH}/me/calendarView/delta") + r"(\?.*)?$")
        mock.add_callback(responses.GET, delta, self._delta)
        event = re.compile(re.escape(f"{GRAPH}/me/events/") + r"[^/?]+(\?.*)?$")
        mock.add_callback(responses.GET, event, self._event)
        mock.add_callback(responses.POST, f"{GRAPH}/me/sendMail", self._send_mail)

    # The practitioner's (or a client's) actions -------------------------------------------

    def add_event(
        self,
        *,
        subject: str,
        start: datetime,
        end: datetime,
        attendees: list[tuple[str, str, str]],
        organizer: tuple[str, str] | None = None,
        series: str = "",
    ) -> str:
        """A new event; `attendees` are (address, name, response). Returns its id."""
        event_id = f"AAMkADk0MGFkODE3LWE4MmYtNDRhOS04OGQ{next(self._serial):06d}AAA="
        event = copy.deepcopy(load("event.json"))
        name, address = organizer or ("Dana Rivera", self.practitioner)
        event.update(
            id=event_id,
            subject=subject,
            bodyPreview="",
            start={"dateTime": graph_time(start), "timeZone": "UTC"},
            end={"dateTime": graph_time(end), "timeZone": "UTC"},
            organizer={"emailAddress": {"name": name, "address": address}},
            isOrganizer=address == self.practitioner,
            seriesMasterId=series or None,
            type="occurrence" if series else "singleInstance",
            attendees=[
                {
                    "type": "required",
                    "status": {"response": response, "time": "0001-01-01T00:00:00Z"},
                    "emailAddress": {"name": person, "address": email_address},
                }
                for email_address, person, response in attendees
            ],
        )
        self.events[event_id] = event
        self._touch(event_id)
        return event_id

    def delete(self, event_id: str) -> None:
        del self.events[event_id]
        self.changes.append(event_id)

    def decline(self, event_id: str, address: str) -> None:
        for attendee in self.events[event_id]["attendees"]:
            if attendee["emailAddress"]["address"].lower() == address.lower():
                attendee["status"] = {
                    "response": "declined",
                    "time": self.clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
                }
        self._touch(event_id)

    def cancel(self, event_id: str) -> None:
        self.events[event_id]["isCancelled"] = True
        self.events[event_id]["subject"] = "Canceled: " + self.events[event_id]["subject"]
        self._touch(event_id)

    def move(self, event_id: str, by: timedelta) -> None:
        event = self.events[event_id]
        for edge in ("start", "end"):
            moved = parse_graph_time(event[edge]["dateTime"]) + by
            event[edge] = {"dateTime": graph_time(moved), "timeZone": "UTC"}
        self._touch(event_id)

    def expire_tokens(self) -> None:
        """Graph forgets every delta token (its cache overflowed, or maintenance)."""
        self._tokens.clear()

    def sendmail_answers(self, *answers: _Answer | NoAnswer) -> None:
        """The next sendMail requests get these answers (then 202 again)."""
        self.send_script.extend(answers)

    def _touch(self, event_id: str) -> None:
        event = self.events[event_id]
        event["lastModifiedDateTime"] = (
            self.clock().astimezone(UTC).isoformat().replace("+00:00", "Z")
        )
        self.changes.append(event_id)

    # Graph's side -------------------------------------------------------------------------

    def _delta(self, request: PreparedRequest) -> _Answer:
        self.requests.append(f"GET {request.url}")
        query = parse_qs(urlsplit(str(request.url)).query)
        if "$skiptoken" in query:
            items, delta_token = self._pages.pop(query["$skiptoken"][0])
            return self._page(items, delta_token)
        if "$deltatoken" in query:
            token = self._tokens.get(query["$deltatoken"][0])
            if token is None:
                return 410, {}, json.dumps(load("sync-state-not-found.json"))
            items = self._changes_since(token)
            window = token.window
        else:
            window = (
                datetime.fromisoformat(query["startDateTime"][0]),
                datetime.fromisoformat(query["endDateTime"][0]),
            )
            items = [copy.deepcopy(e) for e in self.events.values() if self._in(e, window)]
        delta_token = f"dt{next(self._serial)}"
        self._tokens[delta_token] = _Token(len(self.changes), window)
        return self._page(items, delta_token)

    def _changes_since(self, token: _Token) -> list[dict[str, Any]]:
        changed = list(dict.fromkeys(reversed(self.changes[token.position :])))[::-1]
        items = []
        for event_id in changed:
            event = self.events.get(event_id)
            if event is not None and self._in(event, token.window):
                items.append(copy.deepcopy(event))
            else:
                removed = {"reason": "deleted"}
                items.append(
                    {"@odata.type": "#microsoft.graph.event", "id": event_id, "@removed": removed}
                )
        if self.replay_next:
            items = items + copy.deepcopy(items)
            self.replay_next = False
        return items

    def _page(self, items: list[dict[str, Any]], delta_token: str) -> _Answer:
        page: dict[str, Any] = {"@odata.context": f"{GRAPH}/$metadata#Collection(event)"}
        head, rest = items[: self.page_size], items[self.page_size :]
        if rest:
            skip = f"st{next(self._serial)}"
            self._pages[skip] = (rest, delta_token)
            page["@odata.nextLink"] = f"{GRAPH}/me/calendarView/delta?$skiptoken={skip}"
        else:
            page["@odata.deltaLink"] = f"{GRAPH}/me/calendarView/delta?$deltatoken={delta_token}"
        page["value"] = head
        return 200, {}, json.dumps(page)

    def _event(self, request: PreparedRequest) -> _Answer:
        self.requests.append(f"GET {request.url}")
        event_id = unquote(urlsplit(str(request.url)).path.rsplit("/", 1)[1])
        event = self.events.get(event_id)
        if event is None:
            return 404, {}, json.dumps(load("item-not-found.json"))
        return 200, {}, json.dumps(event)

    def _send_mail(self, request: PreparedRequest) -> _Answer:
        self.requests.append(f"POST {request.url}")
        assert str(request.headers.get("Authorization", "")).startswith("Bearer ")
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        mime = request.headers.get("Content-Type") == "text/plain"
        message: EmailMessage | dict[str, Any]
        if mime:
            parsed = email.message_from_bytes(
                base64.b64decode(body, validate=True), policy=email.policy.default
            )
            assert isinstance(parsed, EmailMessage)
            message = parsed
        else:
            message = json.loads(body)
        self.attempts.append(message)
        answer = self.send_script.pop(0) if self.send_script else (202, {}, "")
        taken = answer.taken if isinstance(answer, NoAnswer) else answer[0] == 202
        if taken and isinstance(message, EmailMessage):
            self.sent.append(message)
        elif taken and isinstance(message, dict):
            self.sent_json.append(message)
        if isinstance(answer, NoAnswer):
            raise answer.error
        return answer

    @staticmethod
    def _in(event: dict[str, Any], window: tuple[datetime, datetime]) -> bool:
        start = parse_graph_time(event["start"]["dateTime"])
        end = parse_graph_time(event["end"]["dateTime"])
        return start < window[1] and end > window[0]

    def sent_to(self, address: str) -> list[EmailMessage]:
        """Messages Graph took for delivery to `address`."""
        return [m for m in self.sent if address in str(m["To"])]

    def attempts_to(self, address: str) -> int:
        """sendMail requests for `address`, taken or not."""
        return sum(
            1 for m in self.attempts if isinstance(m, EmailMessage) and address in str(m["To"])
        )
