"""The baseline: a poller that lists the whole window of a calendar every cycle and diffs it.

It goes through the same HTTP path as the worker (`connectors.google.http.GoogleApi`, so the
same client library, credentials and transport) and reads events with the same `EventReader`,
so the comparison is about the strategy — the full window every time versus a sync token —
not about the plumbing. It keeps its snapshot in memory and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httplib2  # type: ignore[import-untyped]

from connectors.google.calendar import PAGE_SIZE
from connectors.google.credentials import TokenFile
from connectors.google.events import EventReader, Listing, read_page
from connectors.google.http import DEFAULT_TIMEOUT, GoogleApi
from worker.model import Session


class NaivePoller:
    """One calendar polled the naive way: `events.list` over now−`past` … now+`ahead`, all pages."""

    def __init__(
        self,
        *,
        account: str,
        token_path: Path,
        calendar_id: str,
        api_endpoint: str,
        practitioner_email: str,
        clock: Callable[[], datetime],
        past: timedelta = timedelta(days=7),
        ahead: timedelta = timedelta(days=60),
    ) -> None:
        self._account = account
        self._calendar_id = calendar_id
        self._clock = clock
        self._past, self._ahead = past, ahead
        self._reader = EventReader(
            zone=ZoneInfo("Europe/London"), practitioner_email=practitioner_email
        )
        self._api = GoogleApi(
            api="calendar",
            tokens=TokenFile(account=account, path=token_path, timeout=DEFAULT_TIMEOUT),
            api_endpoint=api_endpoint,
            transport=lambda: httplib2.Http(timeout=DEFAULT_TIMEOUT),
        )
        self._known: dict[str, Session] = {}

    def poll(self) -> list[str]:
        """List the window and return the keys of sessions that changed, appeared or vanished."""
        now = self._clock().astimezone(UTC)
        window = {"timeMin": _stamp(now - self._past), "timeMax": _stamp(now + self._ahead)}
        listing = Listing()
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {
                "calendarId": self._calendar_id,
                "singleEvents": True,
                "maxResults": PAGE_SIZE,
                **window,
            }
            if page_token:
                params["pageToken"] = page_token
            answer = self._api.read(_lister(params), what="listing events")
            page = read_page(answer, account=self._account)
            for item in page.items:
                self._reader.read(item, listing)
            if page.next_page is None:
                break
            page_token = page.next_page
        seen = {s.key: s for s in listing.sessions}
        changed = [k for k, s in seen.items() if self._known.get(k) != s]
        changed += [k for k in self._known if k not in seen]
        self._known = seen
        return changed


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _lister(params: dict[str, Any]) -> Callable[[Any], Any]:
    return lambda service: service.events().list(**params)
