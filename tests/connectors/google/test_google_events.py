"""Recorded Calendar payloads read into sessions; odd pages and items never trusted blindly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.google.events import EventReader, Listing, read_page
from tests.connectors.google.fake_google import PRACTITIONER, payload
from worker.clients import ClientDirectory
from worker.config import Policy, Practitioner
from worker.errors import Recoverable
from worker.model import Response
from worker.notices.templates import TemplateLibrary
from worker.notices.wording import notice_variables, sample_facts

READER = EventReader(zone=ZoneInfo("Europe/London"), practitioner_email=PRACTITIONER)


def read(*items: object) -> Listing:
    listing = Listing()
    for item in items:
        READER.read(item, listing)
    return listing


def test_a_recorded_event_becomes_a_session() -> None:
    [session] = read(payload("event")).sessions

    assert session.key == "7kq3bq9j1m0f4g0o2nvc6b2b4c"
    assert session.title == "Coaching – Sam Taylor"
    assert session.start == datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert session.end == datetime(2026, 11, 23, 14, 50, tzinfo=UTC)
    assert session.updated == datetime(2026, 11, 1, 10, 12, 44, 512000, tzinfo=UTC)
    assert session.organizer_is_practitioner
    assert not session.cancelled
    assert not session.all_day
    assert session.series_id == ""
    sam = session.attendee("sam@example.org")
    assert sam is not None
    assert (sam.name, sam.response) == ("Sam Taylor", Response.ACCEPTED)


def test_a_deleted_event_and_a_cancelled_occurrence_are_removed_keys() -> None:
    listing = read(payload("cancelled_deleted"), payload("cancelled_occurrence"))

    assert listing.sessions == []
    assert listing.removed == [
        "7kq3bq9j1m0f4g0o2nvc6b2b4c",
        "5v2m1a0ckq8q4hb7p6ldd1a3ke_20261130T100000Z",
    ]


def test_the_calendars_own_attendee_is_the_practitioner_whatever_address_it_shows() -> None:
    event = payload("event")
    event["attendees"][0]["email"] = "dana.rivera@gmail.example"
    event["attendees"].append({"email": "room-2@resource.calendar.google.com", "resource": True})
    event["attendees"].append({"displayName": "No address", "responseStatus": "declined"})
    event["attendees"].append({"email": "jo@example.org", "responseStatus": "somethingNew"})

    [session] = read(event).sessions

    emails = [a.email for a in session.attendees]
    assert emails[0] == PRACTITIONER
    assert "dana.rivera@gmail.example" not in emails
    room = session.attendee("room-2@resource.calendar.google.com")
    assert room is not None
    assert room.is_resource
    assert len(session.attendees) == 4  # the one without an address can get no notice
    jo = session.attendee("jo@example.org")
    assert jo is not None
    assert jo.response is Response.NEEDS_ACTION


def test_an_event_without_an_organizer_is_taken_as_the_practitioners() -> None:
    event = payload("event")
    del event["organizer"]

    [session] = read(event).sessions

    assert session.organizer_is_practitioner


def test_an_organizer_named_by_address_only_is_still_recognised() -> None:
    event = payload("event")
    event["organizer"] = {"email": PRACTITIONER.upper()}

    [session] = read(event).sessions

    assert session.organizer_is_practitioner


def test_an_item_without_an_id_stops_any_session_being_taken_as_deleted() -> None:
    listing = read({"summary": "who am I"}, "not even an object")

    assert listing.sessions == []
    assert len(listing.problems) == 2
    assert "" in listing.unreadable


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"start": {"dateTime": "tomorrow at ten"}}, "Invalid isoformat"),
        ({"end": {}}, "its end has neither a date nor a dateTime"),
        ({"attendees": "sam@example.org"}, "its attendees are not a list"),
        ({"updated": "2026-11-01T10:12:44"}, "has no offset"),
    ],
)
def test_a_malformed_event_is_skipped_with_a_reason(change: dict[str, object], why: str) -> None:
    event = payload("event")
    event.update(change)

    listing = read(event)

    assert listing.sessions == []
    [problem] = listing.problems
    assert why in problem
    assert "Coaching – Sam Taylor" in problem
    assert listing.unreadable == ["7kq3bq9j1m0f4g0o2nvc6b2b4c"]


def test_a_page_must_be_an_object_with_items_and_a_token() -> None:
    page = payload("events_page")
    page["nextSyncToken"] = "CPDAlvWDx70CEPDAlvWDx70CGAU="
    assert read_page(page, account="main").sync_token == "CPDAlvWDx70CEPDAlvWDx70CGAU="

    with pytest.raises(Recoverable, match=r"unreadable page.*cut short"):
        read_page('{"kind": "calendar#events", "items": [', account="main")
    with pytest.raises(Recoverable, match="next page or sync token"):
        read_page(payload("events_page"), account="main")
    page["items"] = {"not": "a list"}
    with pytest.raises(Recoverable, match="list of items"):
        read_page(page, account="main")


def test_a_next_page_token_wins_over_a_sync_token_on_the_same_page() -> None:
    page = payload("events_page")
    page.update(nextPageToken="next", nextSyncToken="too-early")

    read = read_page(page, account="main")

    assert (read.next_page, read.sync_token) == ("next", None)


def test_an_attendee_named_by_their_address_or_not_at_all_is_greeted_hello() -> None:
    dana = Practitioner(name="Dana Rivera", email=PRACTITIONER, locale="en_GB")
    named_by_address = payload("event")
    named_by_address["attendees"][1]["displayName"] = "sam@example.org"
    unnamed = payload("event")
    del unnamed["attendees"][1]["displayName"]

    for event in (named_by_address, unnamed):
        [session] = read(event).sessions
        sam = session.attendee("sam@example.org")
        assert sam is not None
        client = ClientDirectory([]).for_attendee(sam)
        facts = dataclasses.replace(
            sample_facts("reminder", "en", session.start - timedelta(days=1)),
            client_name=client.name,
            client_email=client.email,
        )
        notice = TemplateLibrary().render("reminder", "en", notice_variables(facts, dana, Policy()))
        assert notice.text.startswith("Hello,\n")
        assert "sam@example.org" not in notice.text
