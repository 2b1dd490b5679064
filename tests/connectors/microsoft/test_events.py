"""Graph attendees whose only "name" is their address: Outlook fills the name in with it.

The connector keeps what Graph says; the notice must not greet "Hi sam@example.org," nor put
the address in the To header twice.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.microsoft.events import EventReader
from worker.clients import ClientDirectory
from worker.config import Policy, Practitioner
from worker.notices.message import build_message
from worker.notices.templates import TemplateLibrary
from worker.notices.wording import NoticeFacts, notice_variables

DATA = Path(__file__).parent / "data"
DANA = Practitioner(name="Dana Rivera", email="dana@riveracoaching.example", locale="en_GB")
READER = EventReader(practitioner_email=DANA.email, zone=ZoneInfo("Europe/London"))


def declined_event(name: str) -> dict[str, Any]:
    delta = json.loads((DATA / "delta-declined.json").read_text(encoding="utf-8"))
    event = copy.deepcopy(delta["value"][0])
    event["attendees"][0]["emailAddress"]["name"] = name
    return event


def reminder_for(event: dict[str, Any], language: str = "en") -> tuple[str, str]:
    session = READER.session(event)
    [attendee] = session.attendees
    client = ClientDirectory([]).for_attendee(attendee)
    facts = NoticeFacts(
        kind="reminder",
        client_name=client.name,
        client_email=client.email,
        language=language,
        time_zone="Europe/London",
        session_title=session.title,
        start=session.start,
        end=session.end,
        all_day=session.all_day,
        cancelled_at=session.start - timedelta(hours=5),
        notice=timedelta(hours=5),
        offence=1,
        next_step="forfeit",
        prepaid_balance=None,
    )
    notice = TemplateLibrary().render("reminder", language, notice_variables(facts, DANA, Policy()))
    message = build_message(
        notice,
        to_name=client.name,
        to_email=client.email,
        practitioner=DANA,
        ref="FW-TEST",
        now=datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
    return notice.text, str(message["To"])


def test_an_outlook_attendee_named_by_their_address_is_greeted_hello() -> None:
    event = declined_event("sam@example.org")

    text, to = reminder_for(event)
    spanish, _ = reminder_for(event, "es")

    assert READER.session(event).attendees[0].name == "sam@example.org", "Graph kept as is"
    assert text.startswith("Hello,\n")
    assert "sam@example.org" not in text
    assert to == "sam@example.org"
    assert spanish.startswith("Hola:\n")


def test_an_outlook_attendee_with_a_real_name_is_greeted_by_it() -> None:
    text, to = reminder_for(declined_event("Sam Taylor"))

    assert text.startswith("Hi Sam,\n")
    assert to == "Sam Taylor <sam@example.org>"
