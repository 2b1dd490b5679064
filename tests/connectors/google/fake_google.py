"""A local Google for the tests: Calendar `events.list`, Gmail `messages.send`, OAuth.

The real google-api-python-client and google-auth talk to it over HTTP on 127.0.0.1 (they use
httplib2, which `responses` cannot intercept). It keeps a calendar that tests change the way
the practitioner's calendar app or a client would, and behaves as Google documents:

- `events.list` pages (the sync token only on the last page), returns what changed since a
  sync token, answers 400 to a sync token combined with a filter and 410 to an expired token;
- deleted events may come back as `{id, status}`, cancelled occurrences as
  `{id, recurringEventId, originalStartTime}`, or with their details (organizer's copy);
- the token endpoint refreshes, answers `invalid_grant` for revoked grants, and exchanges
  authorisation codes only with the right PKCE verifier;
- Gmail keeps every raw message it accepts.

Faults are queued per API ("calendar", "gmail", "token") and used one per request.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
PRACTITIONER = "dana@riveracoaching.example"
CLIENT_ID = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fakeclientsecretfortests01"
SCOPES = [
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/gmail.send",
]
_SYNC_FORBIDDEN = {
    "timeMin",
    "timeMax",
    "updatedMin",
    "q",
    "orderBy",
    "iCalUID",
    "privateExtendedProperty",
    "sharedExtendedProperty",
}


def payload(name: str) -> Any:
    """A recorded payload from tests/connectors/google/data."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Fault:
    """What to do to one request instead of answering normally.

    `status` answers with that status and the recorded `body` (a data file name); `delay`
    waits before answering (a send is kept first, as Gmail would); `truncate` cuts a normal
    answer short; `drop` closes the connection without answering (after keeping a send).
    """

    status: int | None = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False
    drop: bool = False


@dataclass
class Request:
    """One request the fake received."""

    method: str
    api: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class _Stored:
    event: dict[str, Any]
    changed: int
    shape: str = "full"  # how a cancelled event is listed: full, deleted or occurrence


class FakeGoogle:
    """The fake's state and its controls; `url` is the root to give as `api_endpoint`."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.sent: list[dict[str, Any]] = []
        self.drafts: list[dict[str, Any]] = []  # users.drafts.create, as Gmail keeps them
        self.page_size = 250
        self.granted_scopes = list(SCOPES)
        self._events: dict[str, _Stored] = {}
        self._seq = 0
        self._token_floor = 0
        self._pages: dict[str, tuple[list[dict[str, Any]], str]] = {}
        self._faults: dict[str, list[Fault]] = {"calendar": [], "gmail": [], "token": []}
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        self._codes: dict[str, tuple[str, str]] = {}
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/"

    @property
    def token_uri(self) -> str:
        return f"{self.url}token"

    @contextmanager
    def running(self) -> Iterator[FakeGoogle]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()

    # --- credentials -------------------------------------------------------------------

    def grant(self, *, expired: bool = False) -> dict[str, Any]:
        """A token file's content for a fresh grant (access token already expired if asked)."""
        refresh = f"1//fake-refresh-{next(self._ids)}"
        access = self._issue_access(3600)
        with self.lock:
            self._refresh.add(refresh)
        expiry = datetime.now(UTC) + timedelta(hours=-1 if expired else 1)
        return {
            "type": "authorized_user",
            "token": access,
            "refresh_token": refresh,
            "token_uri": self.token_uri,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": list(SCOPES),
            "expiry": rfc3339(expiry),
        }

    def revoke_everything(self) -> None:
        """The practitioner removed the app's access (or 7 days passed in 'Testing')."""
        with self.lock:
            self._refresh.clear()
            self._access.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            self._access.clear()

    def consent(self, url: str, *, allow: bool = True) -> str:
        """What the browser is sent to after the consent page at `url` (the printed link)."""
        query = {
            k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()
        }
        assert query["code_challenge_method"] == "S256"
        assert query["access_type"] == "offline"
        redirect = query["redirect_uri"]
        if not allow:
            return f"{redirect}?error=access_denied&state={query['state']}"
        code = f"4/0Afake-code-{next(self._ids)}"
        with self.lock:
            self._codes[code] = (query["code_challenge"], redirect)
        back = urllib.parse.urlencode(
            {"state": query["state"], "code": code, "scope": " ".join(self.granted_scopes)}
        )
        return f"{redirect}?{back}"

    # --- the calendar, as apps and people change it --------------------------------------

    def add_event(
        self,
        *,
        summary: str,
        start: datetime | dict[str, str],
        end: datetime | dict[str, str],
        attendees: Iterable[dict[str, Any]] = (),
        organizer: str | None = None,
        event_id: str | None = None,
        **extra: Any,
    ) -> str:
        """A new event on the practitioner's calendar (organised by them unless `organizer`)."""
        event = payload("event")
        event_id = event_id or f"ev{next(self._ids):04d}fw{self._seq:03d}"
        event.update(
            id=event_id,
            iCalUID=f"{event_id}@google.com",
            summary=summary,
            start=start if isinstance(start, dict) else {"dateTime": rfc3339(start)},
            end=end if isinstance(end, dict) else {"dateTime": rfc3339(end)},
            created=rfc3339(self.clock()),
            **extra,
        )
        me = {"email": PRACTITIONER, "self": True, "responseStatus": "accepted"}
        if organizer is None:
            event["organizer"] = {"email": PRACTITIONER, "self": True}
            me["organizer"] = True
        else:
            event["organizer"] = {"email": organizer}
        event["attendees"] = [me, *copy.deepcopy(list(attendees))]
        self._save(event)
        return event_id

    def add_weekly(
        self, *, summary: str, first: datetime, length: timedelta, weeks: int, **kwargs: Any
    ) -> list[str]:
        """A weekly series, as `singleEvents=true` lists it: one event per occurrence."""
        series = f"series{next(self._ids):04d}"
        ids = []
        for week in range(weeks):
            start = first + timedelta(weeks=week)
            ids.append(
                self.add_event(
                    summary=summary,
                    start=start,
                    end=start + length,
                    event_id=f"{series}_{start.strftime('%Y%m%dT%H%M%SZ')}",
                    recurringEventId=series,
                    originalStartTime={"dateTime": rfc3339(start)},
                    **kwargs,
                )
            )
        return ids

    def respond(self, event_id: str, email: str, status: str, comment: str = "") -> None:
        """An attendee answers the invitation."""
        event = self.event(event_id)
        for attendee in event["attendees"]:
            if attendee["email"] == email:
                attendee["responseStatus"] = status
                if comment:
                    attendee["comment"] = comment
        self._save(event)

    def decline(self, event_id: str, email: str, comment: str = "") -> None:
        self.respond(event_id, email, "declined", comment)

    def delete(self, event_id: str, *, keep_details: bool = False) -> None:
        """The event is deleted; Google may list it as just `{id, status}`."""
        event = self.event(event_id)
        event["status"] = "cancelled"
        self._save(event, shape="full" if keep_details else "deleted")

    def cancel_occurrence(self, event_id: str) -> None:
        """One occurrence of a series is cancelled, listed as a cancelled exception."""
        event = self.event(event_id)
        event["status"] = "cancelled"
        self._save(event, shape="occurrence")

    def move(self, event_id: str, by: timedelta) -> None:
        event = self.event(event_id)
        for end in ("start", "end"):
            moment = datetime.fromisoformat(event[end]["dateTime"].replace("Z", "+00:00"))
            event[end]["dateTime"] = rfc3339(moment + by)
        self._save(event)

    def change(self, event_id: str, **fields: Any) -> None:
        event = self.event(event_id)
        event.update(fields)
        self._save(event)

    def event(self, event_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._events[event_id].event)

    def expire_sync_tokens(self) -> None:
        """Google invalidates every sync token issued so far (next use: 410)."""
        with self.lock:
            self._seq += 1
            self._token_floor = self._seq

    # --- faults and what was seen ------------------------------------------------------

    def fail(self, api: str, fault: Fault, times: int = 1) -> None:
        with self.lock:
            self._faults[api].extend(copy.deepcopy(fault) for _ in range(times))

    def calls(self, api: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.api == api]

    def messages(self) -> list[EmailMessage]:
        """Every message Gmail accepted, parsed from the raw bytes it was given."""
        return [
            message_from_bytes(base64.urlsafe_b64decode(m["raw"]), policy=policy.default)
            for m in self.sent
        ]

    # --- serving -----------------------------------------------------------------------

    def _save(self, event: dict[str, Any], shape: str = "full") -> None:
        with self.lock:
            self._seq += 1
            event["updated"] = rfc3339(self.clock())
            event["etag"] = f'"{3412345600000000 + self._seq}"'
            event["sequence"] = event.get("sequence", 0)
            self._events[event["id"]] = _Stored(copy.deepcopy(event), self._seq, shape)

    def _issue_access(self, seconds: int) -> str:
        token = f"ya29.fake-access-{next(self._ids)}"
        with self.lock:
            self._access[token] = time.time() + seconds
        return token

    def authorised(self, header: str) -> bool:
        token = header.removeprefix("Bearer ").strip()
        with self.lock:
            return self._access.get(token, 0) > time.time()

    def next_fault(self, api: str) -> Fault | None:
        with self.lock:
            return self._faults[api].pop(0) if self._faults[api] else None

    def list_events(self, query: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            if "pageToken" in query:
                if query["pageToken"] not in self._pages:
                    return 400, {"error": {"code": 400, "message": "Invalid page token"}}
                remaining, sync = self._pages.pop(query["pageToken"])
                return 200, self._page(remaining, sync)
            if "syncToken" in query:
                if _SYNC_FORBIDDEN & query.keys() or query.get("showDeleted") == "false":
                    return 400, payload("error_400_sync_token_with_filter")
                since = int(query["syncToken"].removeprefix("CPDAlvWDx70CEP").split("G")[0])
                if since < self._token_floor:
                    return 410, payload("error_410_full_sync_required")
                chosen = [s for s in self._events.values() if s.changed > since]
            else:
                shown = query.get("showDeleted") == "true"
                chosen = [
                    s
                    for s in self._events.values()
                    if (shown or s.event["status"] != "cancelled") and _ends_after(s, query)
                ]
            items = [_listed(s) for s in sorted(chosen, key=lambda s: s.event["id"])]
            return 200, self._page(items, f"CPDAlvWDx70CEP{self._seq}GAU=")

    def _page(self, items: list[dict[str, Any]], sync: str) -> dict[str, Any]:
        body: dict[str, Any] = payload("events_page")
        body["items"] = items[: self.page_size]
        rest = items[self.page_size :]
        if rest:
            token = f"CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA{next(self._ids)}"
            self._pages[token] = (rest, sync)
            body["nextPageToken"] = token
        else:
            body["nextSyncToken"] = sync
        return body

    def send(self, body: bytes) -> tuple[int, Any]:
        message = json.loads(body)
        answer = payload("gmail_sent")
        with self.lock:
            number = f"19a4f2c6d3b1{len(self.sent):04x}"
            answer.update(id=number, threadId=number)
            self.sent.append({"raw": message["raw"], "id": number})
        return 200, answer

    def create_draft(self, body: bytes) -> tuple[int, Any]:
        """users.drafts.create: a draft id and the message it holds; nothing is sent."""
        message = json.loads(body)["message"]
        with self.lock:
            number = f"r-{len(self.drafts) + 1:04d}"
            self.drafts.append({"raw": message["raw"], "id": number})
        return 200, {"id": number, "message": {"id": f"m{number}", "labelIds": ["DRAFT"]}}

    def token(self, form: dict[str, str]) -> tuple[int, Any]:
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if form.get("grant_type") == "refresh_token":
            with self.lock:
                known = form.get("refresh_token") in self._refresh
            if not known:
                return 400, payload("token_invalid_grant")
            answer = payload("token_refreshed")
            answer["access_token"] = self._issue_access(3600)
            return 200, answer
        if form.get("grant_type") == "authorization_code":
            with self.lock:
                challenge, redirect = self._codes.pop(form.get("code", ""), ("", ""))
            verifier = form.get("code_verifier", "").encode()
            computed = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if (
                not challenge
                or computed.decode() != challenge
                or form.get("redirect_uri") != redirect
            ):
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
            refresh = f"1//fake-refresh-{next(self._ids)}"
            with self.lock:
                self._refresh.add(refresh)
            return 200, {
                "access_token": self._issue_access(3599),
                "expires_in": 3599,
                "refresh_token": refresh,
                "scope": " ".join(self.granted_scopes),
                "token_type": "Bearer",
            }
        return 400, {"error": "unsupported_grant_type"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _serve(self, method: str) -> None:
        fake: FakeGoogle = self.server.fake  # type: ignore[attr-defined]
        parts = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        api = _api_of(parts.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        with fake.lock:
            fake.requests.append(
                Request(method, api, parts.path, query, dict(self.headers.items()), body)
            )
        fault = fake.next_fault(api) if api in ("calendar", "gmail", "token") else None
        if fault is not None and fault.status is not None:
            self._answer(fault.status, payload(fault.body) if fault.body else {}, fault.headers)
            return
        if api == "calendar":
            if not fake.authorised(self.headers.get("Authorization", "")):
                self._answer(401, payload("error_401_auth"))
                return
            status, answer = fake.list_events({k: v[0] for k, v in query.items()})
        elif api == "gmail":
            if not fake.authorised(self.headers.get("Authorization", "")):
                self._answer(401, payload("error_401_auth"))
                return
            drafts = parts.path.endswith("/drafts")
            status, answer = fake.create_draft(body) if drafts else fake.send(body)
        elif api == "token":
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            status, answer = fake.token(form)
        else:
            status, answer = 404, {"error": {"code": 404, "message": "Not Found"}}
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            self.close_connection = True
            return
        self._answer(status, answer, truncate=fault is not None and fault.truncate)

    def _answer(
        self,
        status: int,
        answer: Any,
        headers: dict[str, str] | None = None,
        *,
        truncate: bool = False,
    ) -> None:
        data = json.dumps(answer).encode()
        if truncate:
            data = data[: len(data) // 2]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up waiting


def _api_of(path: str) -> str:
    if path.startswith("/calendar/v3/"):
        return "calendar"
    if path.startswith("/gmail/v1/"):
        return "gmail"
    return "token" if path == "/token" else "other"


def _ends_after(stored: _Stored, query: dict[str, str]) -> bool:
    if "timeMin" not in query:
        return True
    end = stored.event["end"]
    text = end.get("dateTime") or f"{end['date']}T00:00:00Z"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # Close enough for a fake: times without an offset are taken as UTC.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment > datetime.fromisoformat(query["timeMin"].replace("Z", "+00:00"))


def _listed(stored: _Stored) -> dict[str, Any]:
    event = copy.deepcopy(stored.event)
    if event["status"] != "cancelled" or stored.shape == "full":
        return event
    kept = ["kind", "etag", "id", "status"]
    if stored.shape == "occurrence":
        kept += ["recurringEventId", "originalStartTime"]
    return {k: event[k] for k in kept if k in event}
