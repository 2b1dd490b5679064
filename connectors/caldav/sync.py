"""What changed in a CalDAV calendar since a marker, in as few requests as the server allows.

Two ways, chosen when the calendar is first listed:

- `sync`: the server offers sync-collection (RFC 6578). An idle poll is one REPORT that
  names nothing; a change comes back as its href (with its data), a deletion as a 404 entry.
- `ctag`: it does not. An idle poll is one PROPFIND of the calendar's ctag; when the ctag
  moved, one PROPFIND of every etag, and the changed events are fetched by calendar-multiget.

Either way a full listing asks for the event data in the same REPORT, and only events a
server listed without their data are fetched again (calendar-multiget, in batches).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from connectors.caldav.http import (
    CALDAV,
    CALSERVER,
    DAV,
    DavClient,
    Multistatus,
    href_of,
    path_of,
)

MAX_ROUNDS = 50  # a server that truncates its answer (507) is followed this many times
MULTIGET_BATCH = 100
_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
_DATA_PROPS = "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
_MARKER_VERSION = 1


@dataclass(frozen=True)
class Marker:
    """Where the last listing left off: `way` is "sync" or "ctag", `value` its token/ctag."""

    url: str
    way: str
    value: str

    def encode(self) -> str:
        fields = {"version": _MARKER_VERSION, "url": self.url, "way": self.way, "value": self.value}
        return json.dumps(fields, sort_keys=True)

    @classmethod
    def decode(cls, text: str | None) -> Marker | None:
        """The marker in `text`; None when absent or not one this version wrote."""
        if not text:
            return None
        try:
            raw = json.loads(text)
            if raw["version"] != _MARKER_VERSION or raw["way"] not in ("sync", "ctag"):
                return None
            return cls(str(raw["url"]), str(raw["way"]), str(raw["value"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class Listing:
    """Events the server reported: `changed[path] = (etag, data)`, `deleted` paths.

    A `complete` listing names every event of the calendar; anything not in it is gone.
    """

    marker: Marker
    complete: bool
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


def list_everything(client: DavClient, url: str, *, sync_collection: bool) -> Listing:
    """Every event of the calendar at `url`, with the marker for the next poll."""
    about = client.propfind(
        url,
        f'<D:propfind {_NS} xmlns:CS="http://calendarserver.org/ns/"><D:prop>'
        "<CS:getctag/><D:sync-token/><D:supported-report-set/></D:prop></D:propfind>",
        depth=0,
    )
    collection = about.resources[0] if about.resources else None
    ctag = collection.text(f"{CALSERVER}getctag") if collection else ""
    offers_sync = collection is not None and _offers_sync(collection.props)
    if sync_collection and offers_sync:
        listing = _sync_round(client, url, "")
        listing.complete = True
    else:
        found = client.report(
            url,
            f"<C:calendar-query {_NS}>{_DATA_PROPS}<C:filter>"
            '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>'
            "</C:filter></C:calendar-query>",
        )
        listing = Listing(Marker(url, "ctag", ctag), complete=True)
        _take(found, url, listing)
    _fetch_missing_data(client, url, listing)
    return listing


def list_changes(client: DavClient, marker: Marker, known: dict[str, str]) -> Listing:
    """What changed since `marker`; `known` maps each event path to its last etag.

    Raises `SyncTokenInvalid` when the server no longer accepts the sync token.
    """
    if marker.way == "sync":
        listing = _sync_round(client, marker.url, marker.value)
    else:
        listing = _ctag_round(client, marker, known)
    _fetch_missing_data(client, marker.url, listing)
    return listing


def _sync_round(client: DavClient, url: str, token: str) -> Listing:
    listing = Listing(Marker(url, "sync", token), complete=False)
    for _ in range(MAX_ROUNDS):
        found = client.report(
            url,
            f"<D:sync-collection {_NS}><D:sync-token>{escape(listing.marker.value)}"
            f"</D:sync-token><D:sync-level>1</D:sync-level>{_DATA_PROPS}</D:sync-collection>",
            sync=True,
        )
        truncated = _take(found, url, listing)
        if found.sync_token:
            listing.marker = Marker(url, "sync", found.sync_token)
        if not truncated or not found.sync_token:
            return listing
    return listing


def _ctag_round(client: DavClient, marker: Marker, known: dict[str, str]) -> Listing:
    about = client.propfind(
        marker.url,
        '<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
        "<D:prop><CS:getctag/></D:prop></D:propfind>",
        depth=0,
    )
    ctag = about.resources[0].text(f"{CALSERVER}getctag") if about.resources else ""
    if ctag and ctag == marker.value:
        return Listing(marker, complete=False)
    every = client.propfind(
        marker.url,
        '<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
        "<D:prop><D:getetag/><CS:getctag/><D:resourcetype/></D:prop></D:propfind>",
        depth=1,
    )
    listing = Listing(Marker(marker.url, "ctag", ctag), complete=False)
    here = path_of(marker.url, marker.url)
    seen = set()
    for item in every.resources:
        if item.path.rstrip("/") == here.rstrip("/"):
            listing.marker = Marker(marker.url, "ctag", item.text(f"{CALSERVER}getctag") or ctag)
            continue
        if item.status != 200 or item.path.endswith("/"):
            continue
        seen.add(item.path)
        etag = item.text(f"{DAV}getetag")
        if not etag or known.get(item.path) != etag:
            listing.changed[item.path] = (etag, "")
    listing.deleted = set(known) - seen
    return listing


def _take(found: Multistatus, url: str, listing: Listing) -> bool:
    """Add `found`'s events to `listing`; True when the server said it truncated its answer."""
    truncated = False
    here = path_of(url, url).rstrip("/")
    for item in found.resources:
        if item.path.rstrip("/") == here:
            truncated = truncated or item.status == 507
            continue
        if item.status == 404:
            listing.changed.pop(item.path, None)
            listing.deleted.add(item.path)
        elif item.status == 200 and not item.path.endswith("/"):
            listing.deleted.discard(item.path)
            listing.changed[item.path] = (
                item.text(f"{DAV}getetag"),
                _data(item.props.get(f"{CALDAV}calendar-data")),
            )
    return truncated


def _fetch_missing_data(client: DavClient, url: str, listing: Listing) -> None:
    """Fetch, by calendar-multiget, the changed events listed without their data."""
    missing = [path for path, (_, data) in listing.changed.items() if not data]
    for start in range(0, len(missing), MULTIGET_BATCH):
        hrefs = "".join(
            f"<D:href>{escape(href_of(path))}</D:href>"
            for path in missing[start : start + MULTIGET_BATCH]
        )
        found = client.report(
            url, f"<C:calendar-multiget {_NS}>{_DATA_PROPS}{hrefs}</C:calendar-multiget>"
        )
        for item in found.resources:
            if item.path not in listing.changed:
                continue
            if item.status == 404:
                del listing.changed[item.path]
                listing.deleted.add(item.path)
            elif item.status == 200:
                data = _data(item.props.get(f"{CALDAV}calendar-data"))
                listing.changed[item.path] = (item.text(f"{DAV}getetag"), data)


def _offers_sync(props: dict[str, Element]) -> bool:
    report_set = props.get(f"{DAV}supported-report-set")
    if report_set is None:
        return f"{DAV}sync-token" in props
    return any(element.tag == f"{DAV}sync-collection" for element in report_set.iter())


def _data(element: Element | None) -> str:
    return element.text or "" if element is not None else ""
