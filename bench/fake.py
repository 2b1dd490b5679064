"""A lean multi-calendar fake of Google Calendar for the benchmark, run in its own process.

It answers what the worker and the naive poller ask, as Google documents it:

- `GET /calendar/v3/calendars/{calendarId}/events`: pages of at most `maxResults` (default
  250, at most 2500) with the sync token only on the last page; with `syncToken` only what
  changed since (400 when combined with a time filter, 410 for a token it never issued);
  `timeMin`/`timeMax` keep events overlapping the window; cancelled events only with
  `showDeleted=true`. Every request needs a live access token (401 otherwise).
- `POST /token`: the OAuth refresh-token grant.

Controls for the benchmark driver live under `/bench/`: book more sessions, apply late declines
at random moments (each stamped with the wall-clock time it was applied), and read or reset the
request and byte counters. It runs in its own process so that its CPU and memory are never
counted as the worker's. `python -m bench.fake --calendars N --sessions S [--events E]
[--delay D]` seeds the calendars and prints the port it listens on; `--delay` makes every
calendar and token answer take D seconds longer, as Google's do over the internet.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import itertools
import json
import random
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from typing import Any

PRACTITIONER = "dana@riveracoaching.example"
CLIENT_ID = "bench-client.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-bench-secret"  # noqa: S105 - the fake's own, not a secret
REFRESH_PREFIX = "1//bench-refresh-"
DEFAULT_PAGE = 250
LARGEST_PAGE = 2500
_TIME_FILTERS = {"timeMin", "timeMax", "updatedMin", "q", "orderBy", "iCalUID"}


def rfc3339(moment: datetime) -> str:
    """Google's timestamp form: UTC with a Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def calendar_id(number: int) -> str:
    """The id of the benchmark's n-th calendar (one per account)."""
    return f"cal{number:04d}"


def client_of(number: int) -> str:
    """The client who books the sessions of the n-th calendar."""
    return f"client{number:04d}@example.org"


@dataclass
class _Stored:
    event: dict[str, Any]
    changed: int
    start: datetime
    end: datetime


@dataclass
class _Calendar:
    events: dict[str, _Stored] = field(default_factory=dict)
    seq: int = 0


@dataclass
class Counters:
    """What the fake served since the last reset."""

    calendar: int = 0
    token: int = 0
    other: int = 0
    bytes_down: int = 0
    bytes_up: int = 0


class FakeCalendars:
    """The calendars, their change sequence, issued tokens and the benchmark's counters."""

    def __init__(self, *, now: datetime | None = None, delay: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.delay = delay  # seconds each calendar answer waits: Google's response time
        self.calendars: dict[str, _Calendar] = {}
        self.counters = Counters()
        self.applied: list[dict[str, Any]] = []
        self.pending = 0
        # Google times are whole seconds (sessions whole minutes); only `updated` has fractions.
        self._now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        self._access: dict[str, float] = {}
        self._pages: dict[str, tuple[list[dict[str, Any]], str]] = {}
        self._fresh: list[tuple[str, str, str]] = []
        self._ids = itertools.count(1)

    # --- the calendars, as the practitioner's app and the clients change them ------------

    def seed(self, calendars: int, sessions: int) -> None:
        """`calendars` calendars, each with `sessions` sessions with its client in 2–22 h."""
        for number in range(1, calendars + 1):
            for index in range(sessions):
                start = self._now + timedelta(minutes=120 + 1200 * index // max(sessions, 1))
                self.add(calendar_id(number), client_of(number), start)

    def seed_big(self, name: str, events: int) -> None:
        """One calendar of `events` sessions over the coming year, with 50 different clients."""
        first = self._now - timedelta(days=6)
        for index in range(events):
            start = first + timedelta(minutes=53 * index)  # 10,000 events: about a year
            self.add(name, f"client{index % 50:02d}@example.org", start)

    def book(self, per_calendar: int) -> int:
        """Book `per_calendar` more sessions on every calendar, kept for `decline_later`."""
        booked = 0
        for name in list(self.calendars):
            client = client_of(int(name.removeprefix("cal")))
            for _ in range(per_calendar):
                start = self._now + timedelta(minutes=random.randrange(120, 1320, 5))
                event_id = self.add(name, client, start)
                self._fresh.append((name, event_id, client))
                booked += 1
        return booked

    def add(self, name: str, client: str, start: datetime) -> str:
        """A new session on calendar `name` organised by the practitioner, `client` invited."""
        event_id = f"ev{next(self._ids):06d}{name}"
        now = rfc3339(datetime.now(UTC))
        event: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": "",
            "id": event_id,
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": now,
            "updated": now,
            "summary": f"Coaching – {client.split('@')[0]}",
            "description": "Prepaid session. Cancellation policy: 24 hours.",
            "creator": {"email": PRACTITIONER, "self": True},
            "organizer": {"email": PRACTITIONER, "self": True},
            "start": {"dateTime": rfc3339(start), "timeZone": "Europe/London"},
            "end": {
                "dateTime": rfc3339(start + timedelta(minutes=50)),
                "timeZone": "Europe/London",
            },
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "attendees": [
                {
                    "email": PRACTITIONER,
                    "organizer": True,
                    "self": True,
                    "responseStatus": "accepted",
                },
                {
                    "email": client,
                    "displayName": client.split("@")[0],
                    "responseStatus": "accepted",
                },
            ],
            "reminders": {"useDefault": True},
            "eventType": "default",
        }
        with self.lock:
            self._save(name, event, start, start + timedelta(minutes=50))
        return event_id

    def decline(self, name: str, event_id: str, client: str) -> None:
        """The client declines: their response changes and the event's `updated` moves."""
        with self.lock:
            stored = self.calendars[name].events[event_id]
            event = copy.deepcopy(stored.event)  # pages already cut keep the old copy
            for attendee in event["attendees"]:
                if attendee["email"] == client:
                    attendee["responseStatus"] = "declined"
            event["updated"] = rfc3339(datetime.now(UTC))
            self._save(name, event, stored.start, stored.end)

    def decline_later(self, count: int, over: float, seed: int) -> int:
        """Decline `count` booked sessions at uniformly random moments in the next `over` s."""
        rng = random.Random(seed)
        chosen = rng.sample(self._fresh, min(count, len(self._fresh)))
        moments = sorted(rng.uniform(0, over) for _ in chosen)
        taken = set(chosen)
        self._fresh = [f for f in self._fresh if f not in taken]
        self.pending += len(chosen)
        threading.Thread(target=self._apply, args=(chosen, moments), daemon=True).start()
        return len(chosen)

    def _apply(self, chosen: list[tuple[str, str, str]], moments: list[float]) -> None:
        began = time.monotonic()
        for (name, event_id, client), moment in zip(chosen, moments, strict=True):
            time.sleep(max(0.0, began + moment - time.monotonic()))
            self.decline(name, event_id, client)
            with self.lock:
                self.applied.append({"calendar": name, "event": event_id, "at": time.time()})
                self.pending -= 1

    def _save(self, name: str, event: dict[str, Any], start: datetime, end: datetime) -> None:
        calendar = self.calendars.setdefault(name, _Calendar())
        calendar.seq += 1
        event["etag"] = f'"{3412345600000000 + calendar.seq}"'
        calendar.events[event["id"]] = _Stored(event, calendar.seq, start, end)

    # --- the API -------------------------------------------------------------------------

    def list_events(self, name: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """One page of `events.list`, as Google answers it."""
        with self.lock:
            calendar = self.calendars.get(name)
            if calendar is None:
                return 404, _error(404, "notFound", "Not Found")
            if "pageToken" in query:
                if query["pageToken"] not in self._pages:
                    return 400, _error(400, "invalid", "Invalid page token")
                items, sync = self._pages.pop(query["pageToken"])
                return 200, self._page(items, sync, query)
            if "syncToken" in query:
                if _TIME_FILTERS & query.keys():
                    return 400, _error(400, "invalid", "Sync token cannot use a filter")
                since = _sequence(query["syncToken"])
                if since is None or since > calendar.seq:
                    return 410, _error(410, "fullSyncRequired", "Sync token is no longer valid")
                chosen = [s for s in calendar.events.values() if s.changed > since]
            else:
                chosen = [s for s in calendar.events.values() if _wanted(s, query)]
            chosen.sort(key=lambda s: s.event["id"])
            return 200, self._page([s.event for s in chosen], f"sync-{calendar.seq}", query)

    def _page(
        self, items: list[dict[str, Any]], sync: str, query: dict[str, str]
    ) -> dict[str, Any]:
        size = min(int(query.get("maxResults") or DEFAULT_PAGE), LARGEST_PAGE)
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{sync}"',
            "summary": PRACTITIONER,
            "updated": rfc3339(datetime.now(UTC)),
            "timeZone": "Europe/London",
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": items[:size],
        }
        if len(items) > size:
            token = f"page-{next(self._ids)}"
            self._pages[token] = (items[size:], sync)
            body["nextPageToken"] = token
        else:
            body["nextSyncToken"] = sync
        return body

    def refresh(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The refresh-token grant: a new access token for an hour."""
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if form.get("grant_type") != "refresh_token" or not form.get(
            "refresh_token", ""
        ).startswith(REFRESH_PREFIX):
            return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
        token = f"ya29.bench-{next(self._ids)}"
        with self.lock:
            self._access[token] = time.time() + 3600
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def authorised(self, header: str) -> bool:
        with self.lock:
            return self._access.get(header.removeprefix("Bearer ").strip(), 0.0) > time.time()

    def controls(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The benchmark driver's controls."""
        if path == "/bench/stats":
            with self.lock:
                return {**vars(self.counters), "events": self.event_count()}
        if path == "/bench/stats/reset":
            with self.lock:
                self.counters = Counters()
            return {}
        if path == "/bench/book":
            return {"booked": self.book(int(body["per_calendar"]))}
        if path == "/bench/declines/start":
            started = self.decline_later(int(body["count"]), float(body["over"]), int(body["seed"]))
            return {"started": started}
        if path == "/bench/declines":
            with self.lock:
                return {"applied": list(self.applied), "pending": self.pending}
        raise KeyError(path)

    def event_count(self) -> int:
        return sum(len(c.events) for c in self.calendars.values())


def _error(status: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
        }
    }


def _sequence(token: str) -> int | None:
    text = token.removeprefix("sync-")
    return int(text) if text.isdigit() else None


def _wanted(stored: _Stored, query: dict[str, str]) -> bool:
    if stored.event["status"] == "cancelled" and query.get("showDeleted") != "true":
        return False
    if "timeMin" in query and stored.end <= _instant(query["timeMin"]):
        return False
    return not ("timeMax" in query and stored.start >= _instant(query["timeMax"]))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class _Counting:
    """The response stream, counting what goes down the wire."""

    def __init__(self, stream: BufferedIOBase) -> None:
        self.stream = stream
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)  # closed, close and the rest of the stream


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.wfile = _Counting(self.wfile)  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        up = len(self.requestline) + len(str(self.headers)) + len(raw)
        if parts.path.startswith("/bench/"):
            try:
                self._answer(200, fake.controls(parts.path, json.loads(raw or b"{}")))
            except KeyError:
                self._answer(404, _error(404, "notFound", "no such control"))
            return
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        segments = parts.path.split("/")
        if parts.path == "/token":
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            status, answer = fake.refresh(form)
            kind = "token"
            time.sleep(fake.delay)
        elif parts.path.startswith("/calendar/v3/calendars/") and segments[-1] == "events":
            kind = "calendar"
            if not fake.authorised(self.headers.get("Authorization", "")):
                status, answer = 401, _error(401, "authError", "Invalid Credentials")
            else:
                status, answer = fake.list_events(urllib.parse.unquote(segments[4]), query)
            time.sleep(fake.delay)
        else:
            status, answer, kind = 404, _error(404, "notFound", "Not Found"), "other"
        down = self._answer(status, answer)
        with fake.lock:
            counters = fake.counters
            setattr(counters, kind, getattr(counters, kind) + 1)
            if kind == "calendar":
                counters.bytes_down += down
                counters.bytes_up += up

    def _answer(self, status: int, answer: dict[str, Any]) -> int:
        stream: _Counting = self.wfile  # type: ignore[assignment]
        before = stream.written
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            stream.write(data)
        except OSError:
            self.close_connection = True
        return stream.written - before


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, fake: FakeCalendars) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client stopped mid-request (a worker told to stop): nothing to report."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Control:
    """The driver's side of the controls: a JSON POST to the fake's `/bench/...` paths."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def __call__(self, path: str, **body: Any) -> dict[str, Any]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request("POST", path, body=json.dumps(body).encode())
            answer: dict[str, Any] = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        return answer


def main(argv: list[str] | None = None) -> None:
    """Seed the calendars, print the port, serve until terminated."""
    parser = argparse.ArgumentParser(prog="python -m bench.fake")
    parser.add_argument("--calendars", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--events", type=int, default=0, help="one big calendar 'big' too")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds per calendar and token answer"
    )
    args = parser.parse_args(argv)
    fake = FakeCalendars(delay=args.delay)
    fake.seed(args.calendars, args.sessions)
    if args.events:
        fake.seed_big("big", args.events)
    server = _Server(fake)
    print(server.server_port, flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main(sys.argv[1:])
