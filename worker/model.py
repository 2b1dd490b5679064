"""The practitioner's world as plain values: sessions, attendees, cancellations, decisions.

Everything here is immutable and free of I/O, so rules and tests can build it by hand.
All datetimes are timezone-aware and in UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

# Every notice carries its reference in this header, so a sender can name its file or
# a provider-side property after it and the practitioner can find it in their mailbox.
REF_HEADER = "X-Fair-Warning-Ref"


class Response(enum.StrEnum):
    """An attendee's answer to the invitation, as calendars report it."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needs-action"


@dataclass(frozen=True, slots=True)
class Attendee:
    """One person (or room) invited to a session."""

    email: str
    name: str = ""
    response: Response = Response.NEEDS_ACTION
    comment: str = ""
    responded_at: datetime | None = None
    is_resource: bool = False

    @property
    def address(self) -> str:
        return self.email.strip().lower()


@dataclass(frozen=True, slots=True)
class Session:
    """What the worker remembers of one calendar event (one occurrence for a series).

    `key` is unique within an account: the provider's event id, plus the original start for
    an occurrence of a recurring series.
    """

    key: str
    title: str
    start: datetime
    end: datetime
    organizer_email: str = ""
    organizer_is_practitioner: bool = True
    attendees: tuple[Attendee, ...] = ()
    description: str = ""
    cancelled: bool = False
    all_day: bool = False
    series_id: str = ""
    updated: datetime | None = None

    def attendee(self, email: str) -> Attendee | None:
        wanted = email.strip().lower()
        return next((a for a in self.attendees if a.address == wanted), None)


@dataclass(frozen=True, slots=True)
class CalendarChanges:
    """What one poll of a calendar source returned.

    A *complete* listing holds every session of its `window` (of the calendar, without one),
    so anything the worker knew of in that window that is missing has been deleted. An
    incremental listing holds only what changed, and names the removed keys it knows of in
    `removed`. `cursor` is the provider's token for the next poll (Google syncToken, Graph
    deltaLink). `resync` says why a complete listing stands in for a cursor the source had and
    lost (Google 410, Graph syncStateNotFound, a stored cursor it cannot read): such a listing
    is diffed like any other poll, and the reason goes to the audit log. `problems` are
    human-readable reports about items that were skipped (a malformed file, an odd payload).
    """

    sessions: tuple[Session, ...]
    complete: bool
    removed: tuple[str, ...] = ()
    cursor: str | None = None
    resync: str = ""
    window: tuple[datetime, datetime] | None = None
    unreadable: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def covers(self, session: Session) -> bool:
        """Whether this listing speaks for `session`, so its absence means it was deleted.

        Sessions outside the listed window, or whose key starts with a prefix named in
        `unreadable` (a file that did not parse this time), are neither seen nor deleted.
        """
        if any(session.key.startswith(prefix) for prefix in self.unreadable):
            return False
        if self.window is None:
            return True
        start, end = self.window
        return start <= session.start < end


class FactKind(enum.StrEnum):
    """How a session came to be cancelled, as seen from the practitioner's calendar."""

    DECLINED = "declined"
    CANCELLED_BY_CLIENT_ORGANIZER = "cancelled_by_organizer"
    DELETED = "deleted"
    INSTANCE_CANCELLED = "instance_cancelled"
    MARKED = "marked"
    MOVED = "moved"
    RESTORED = "restored"


class CancelTimeSource(enum.StrEnum):
    """Where the cancel time came from; `FIRST_SEEN` means it is only an upper bound."""

    RESPONSE_TIME = "response time"
    PROVIDER_UPDATED = "last modified"
    FIRST_SEEN = "first seen"


@dataclass(frozen=True, slots=True)
class CancelTime:
    """When a cancellation happened: exactly, or somewhere between two polls."""

    latest: datetime
    source: CancelTimeSource
    earliest: datetime | None = None

    @property
    def is_exact(self) -> bool:
        return self.earliest is None or self.earliest >= self.latest


@dataclass(frozen=True, slots=True)
class Fact:
    """One observed change that may be a cancellation.

    `attendee` is set for a decline (the person who declined); for other kinds every client
    on the session is judged.
    """

    kind: FactKind
    session: Session
    cancelled_at: CancelTime
    attendee: Attendee | None = None
    new_start: datetime | None = None


class Verdict(enum.StrEnum):
    """What the rules concluded about one client and one cancellation."""

    IGNORE = "ignore"
    REVIEW = "review"
    REMINDER = "reminder"
    FORFEIT = "forfeit"

    @property
    def sends_notice(self) -> bool:
        return self in (Verdict.REMINDER, Verdict.FORFEIT)


@dataclass(frozen=True, slots=True)
class Client:
    """A person the practitioner sees, from the calendar and, if known, the client directory."""

    email: str
    name: str = ""
    language: str | None = None
    time_zone: str | None = None
    exempt: bool = False
    prepaid_balance: int | None = None
    aliases: tuple[str, ...] = ()
    fee: Money | None = None  # what a forfeited session costs when no prepaid one is spent


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in an ISO 4217 currency ("60.00", "GBP"); never negative."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The rules' conclusion for one client on one fact, with the reasons in plain words.

    `notice` is how long before the start the client cancelled (negative when after).
    `offence` is which counted late cancellation this is within the lookback (1 = first).
    """

    verdict: Verdict
    fact: Fact
    client: Client | None
    reasons: tuple[str, ...]
    notice: timedelta | None = None
    offence: int = 0
    counts: bool = False
    details: dict[str, str] = field(default_factory=dict)
