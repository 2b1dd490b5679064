"""Hand-built sessions, cancellations, policies and practices for the pure-core tests.

Time is frozen: `NOW` is a Monday morning in late November 2026, and the helpers speak in
offsets from it ("a session that starts in 3 h 10 min, declined now"), so a scenario reads
the way the practitioner would tell it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from worker.clients import ClientDirectory
from worker.config import Policy
from worker.model import (
    Attendee,
    CalendarChanges,
    CancelTime,
    CancelTimeSource,
    Client,
    Fact,
    FactKind,
    Response,
    Session,
)
from worker.pipeline.ladder import Offence
from worker.pipeline.rules import Practice

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

PRACTITIONER = "maria@practice.example"
ANA = "ana@client.example"
BEN = "ben@client.example"
CARLA = "carla@client.example"
ROOM = "room-2@resource.calendar.example"


def policy(**overrides: Any) -> Policy:
    """The default policy with `overrides`, validated exactly as the config file would be."""
    made = Policy.model_validate(overrides)
    assert not made.model_extra, f"not a policy setting: {sorted(made.model_extra or {})}"
    return made


def client(email: str = ANA, name: str = "Ana Ruiz", **fields: Any) -> Client:
    """A client as the directory knows them."""
    return Client(email=email, name=name, **fields)


def practice(
    *clients: Client,
    policy: Policy | None = None,
    practitioner: str = PRACTITIONER,
    other_addresses: Iterable[str] = (),
) -> Practice:
    """Maria's practice: her address, a policy (default unless given) and a client directory."""
    return Practice(
        practitioner_email=practitioner,
        policy=policy if policy is not None else Policy(),
        directory=ClientDirectory(clients),
        other_addresses=tuple(other_addresses),
    )


def earlier(*ago: timedelta, warned_after: timedelta | None = HOUR) -> list[Offence]:
    """Earlier late cancellations, `ago` before NOW, each with the reminder that reached the
    client `warned_after` it (None: a reminder that never went out). Reminder n is FW-n."""
    return [
        Offence(
            cancelled_at=NOW - span,
            warned_at=None if warned_after is None else NOW - span + warned_after,
            notice=f"the reminder FW-{n}",
        )
        for n, span in enumerate(ago, start=1)
    ]


def person(
    email: str,
    name: str = "",
    *,
    response: Response = Response.ACCEPTED,
    comment: str = "",
    responded_at: datetime | None = None,
    is_resource: bool = False,
) -> Attendee:
    """One invitee; accepted unless told otherwise."""
    return Attendee(
        email=email,
        name=name,
        response=response,
        comment=comment,
        responded_at=responded_at,
        is_resource=is_resource,
    )


def maria() -> Attendee:
    return person(PRACTITIONER, "Maria")


def room() -> Attendee:
    return person(ROOM, "Room 2", is_resource=True)


def session(
    *,
    key: str = "ana-coaching",
    title: str = "Coaching with Ana",
    starts_in: timedelta = timedelta(hours=3, minutes=10),
    start: datetime | None = None,
    length: timedelta = HOUR,
    attendees: Iterable[Attendee | str] | None = None,
    **fields: Any,
) -> Session:
    """A one-hour session starting `starts_in` after NOW (or at `start`).

    By default Maria and Ana are invited; bare addresses in `attendees` become accepted
    invitees, and `attendees=()` means nobody is invited.
    """
    begins = start if start is not None else NOW + starts_in
    invited = (maria(), person(ANA, "Ana Ruiz")) if attendees is None else attendees
    return Session(
        key=key,
        title=title,
        start=begins,
        end=begins + length,
        attendees=tuple(person(a) if isinstance(a, str) else a for a in invited),
        **fields,
    )


def when(
    at: datetime = NOW,
    *,
    earliest: datetime | None = None,
    source: CancelTimeSource | None = None,
) -> CancelTime:
    """A cancel time: exact at `at`, or (with `earliest`) somewhere in a gap in watching."""
    if source is None:
        source = CancelTimeSource.FIRST_SEEN if earliest else CancelTimeSource.PROVIDER_UPDATED
    return CancelTime(latest=at, source=source, earliest=earliest)


def decline(
    of: Session,
    email: str = ANA,
    *,
    at: datetime = NOW,
    earliest: datetime | None = None,
    comment: str = "",
) -> Fact:
    """`email` declines `of` at `at` (with `earliest`: first seen at `at` after a gap)."""
    invited = of.attendee(email) or person(email)
    exact = earliest is None
    declined = replace(
        invited,
        response=Response.DECLINED,
        comment=comment,
        responded_at=at if exact else None,
    )
    source = CancelTimeSource.RESPONSE_TIME if exact else CancelTimeSource.FIRST_SEEN
    return Fact(
        FactKind.DECLINED, of, when(at, earliest=earliest, source=source), attendee=declined
    )


def fact(
    kind: FactKind,
    of: Session,
    *,
    at: datetime = NOW,
    earliest: datetime | None = None,
    new_start: datetime | None = None,
) -> Fact:
    """Any other kind of change to `of`, seen at `at`."""
    return Fact(kind, of, when(at, earliest=earliest), new_start=new_start)


def listing(*sessions: Session, complete: bool = True, **fields: Any) -> CalendarChanges:
    """What one poll of the calendar returned."""
    return CalendarChanges(sessions=sessions, complete=complete, **fields)
