"""A Google calendar as a calendar source: a full listing once, then only what changed.

The first poll lists every event that ends after a week ago (`timeMin` is allowed on the
initial full sync; Google's own sync guide bounds it the same way) and keeps the
`nextSyncToken` of its last page. Later polls send only that token, so an idle poll is one
request. When Google drops the token (410) the source lists everything again, complete over
the same window, and names the reason in `resync`: the worker diffs that listing against its
snapshot like any poll, so a decline made while the token was lost is still judged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httplib2  # type: ignore[import-untyped]

from connectors.google.credentials import TokenFile
from connectors.google.events import EventReader, Listing, read_page
from connectors.google.http import DEFAULT_TIMEOUT, Backoff, GoogleApi
from worker.errors import Recoverable
from worker.model import CalendarChanges

PAGE_SIZE = 250
# Sessions starting after this are all listed: a complete listing speaks for every one of them.
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


class GoogleCalendar:
    """The events of one Google calendar; implements `CalendarSource`.

    `token_path` is the account's token file (from `fairwarning auth google`); `calendar_id`
    is "primary" or a calendar's id. `practitioner_email` and `time_zone` (IANA) are the
    practitioner's, for whose events these are and where all-day events fall. `api_endpoint`
    is another API root (testing, private endpoints). `past` bounds the first listing.
    `timeout` (seconds) limits each request; `backoff` says how reads are retried.
    """

    def __init__(
        self,
        *,
        account: str,
        token_path: Path,
        calendar_id: str = "primary",
        practitioner_email: str,
        time_zone: str,
        api_endpoint: str | None = None,
        clock: Callable[[], datetime],
        past: timedelta = timedelta(days=7),
        timeout: float = DEFAULT_TIMEOUT,
        backoff: Backoff | None = None,
    ) -> None:
        self._account = account
        self._calendar_id = calendar_id
        self._clock = clock
        self._past = past
        self._reader = EventReader(zone=ZoneInfo(time_zone), practitioner_email=practitioner_email)
        self._api = GoogleApi(
            api="calendar",
            tokens=TokenFile(account=account, path=token_path, timeout=timeout),
            api_endpoint=api_endpoint,
            transport=lambda: httplib2.Http(timeout=timeout),
            backoff=backoff,
        )

    def poll(self, cursor: str | None) -> CalendarChanges:
        """Everything since `cursor` (a sync token), or a full listing when there is none.

        Raises `Recoverable` for outages and unreadable answers, `AccountNeedsPractitioner`
        when the authorisation no longer works.
        """
        if cursor is None:
            return self._full_listing()
        try:
            listing, token = self._walk({"syncToken": cursor})
        except Recoverable as error:
            if error.fields.get("status") != 410:
                raise
            # fullSyncRequired, or any 410 on a sync request: the token is gone for good.
            reason = error.fields.get("reason") or "gone"
            return self._full_listing(
                resync=f"Google Calendar dropped the sync token (HTTP 410 {reason})"
            )
        return CalendarChanges(
            sessions=tuple(listing.sessions),
            complete=False,
            removed=tuple(listing.removed),
            cursor=token,
            problems=tuple(listing.problems),
        )

    def _full_listing(self, *, resync: str = "") -> CalendarChanges:
        """Every event that ends after `past` ago, deleted ones included: a complete listing.

        Its window starts at `since` and never ends, so a session the worker knew of that
        starts after `since` and is not listed was deleted; older ones are left alone.
        """
        since = self._clock().astimezone(UTC) - self._past
        listing, token = self._walk({"timeMin": since.isoformat().replace("+00:00", "Z")})
        return CalendarChanges(
            sessions=tuple(listing.sessions),
            complete=True,
            removed=tuple(listing.removed),
            cursor=token,
            resync=resync,
            window=(since, _FAR_FUTURE),
            unreadable=tuple(dict.fromkeys(listing.unreadable)),
            problems=tuple(listing.problems),
        )

    def _walk(self, query: dict[str, str]) -> tuple[Listing, str]:
        """Every page of one listing; the sync token exists only once the last page is read."""
        listing = Listing()
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {
                "calendarId": self._calendar_id,
                "showDeleted": True,
                "singleEvents": True,
                "maxResults": PAGE_SIZE,
                **query,
            }
            if page_token:
                params["pageToken"] = page_token
            answer = self._api.read(
                _lister(self._api.resource("events"), params), what="listing events"
            )
            page = read_page(answer, account=self._account)
            for item in page.items:
                self._reader.read(item, listing)
            if page.sync_token is not None:
                return listing, page.sync_token
            page_token = page.next_page


def _lister(events: Any, params: dict[str, Any]) -> Callable[[Any], Any]:
    """The unexecuted `events.list` request for one page (the shared resource, fresh params)."""
    page = dict(params)
    return lambda service: events.list(**page)
