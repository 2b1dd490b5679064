"""Diff a poll against the worker's snapshot and name what changed, as facts.

Pure: no I/O, no clock of its own. The caller passes `now` and the time of the previous
successful poll, which bounds when anything first seen now can have happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from worker.model import (
    Attendee,
    CalendarChanges,
    CancelTime,
    CancelTimeSource,
    Fact,
    FactKind,
    Response,
    Session,
)


@dataclass(frozen=True, slots=True)
class Observation:
    """The facts one poll revealed and the snapshot rows to write with them."""

    facts: tuple[Fact, ...]
    upserts: tuple[Session, ...]


def observe(
    known: Mapping[str, Session],
    changes: CalendarChanges,
    *,
    now: datetime,
    previous_poll: datetime | None,
    markers: Iterable[str] = (),
) -> Observation:
    """Compare `changes` with the `known` snapshot and return facts plus snapshot updates."""
    clock = _Clock(now=now, previous_poll=previous_poll)
    facts: list[Fact] = []
    upserts: list[Session] = []
    incoming = {s.key: s for s in changes.sessions}
    for session in incoming.values():
        old = known.get(session.key)
        if old is None or old == session:
            if old is None:
                upserts.append(session)
            continue
        facts += _compare(old, session, clock, tuple(markers))
        upserts.append(session)
    arrivals = [s for s in incoming.values() if s.key not in known and s.series_id]
    for key in _vanished(known, incoming, changes):
        old = known[key]
        if old.cancelled:
            continue
        successor = _rescheduled_as(old, arrivals)
        if successor is not None:
            facts.append(Fact(FactKind.MOVED, old, clock.first_seen(), new_start=successor.start))
        else:
            facts.append(Fact(_cancel_kind(old), old, clock.first_seen()))
        upserts.append(replace(old, cancelled=True))
    return Observation(tuple(facts), tuple(upserts))


def _rescheduled_as(old: Session, arrivals: list[Session]) -> Session | None:
    """A series moved as a whole gives every occurrence a new key: match old to new by series.

    Without this, moving a weekly session from Tuesday to Wednesday would read as the
    practitioner deleting each Tuesday and booking a Wednesday.
    """
    if not old.series_id:
        return None
    siblings = [s for s in arrivals if s.series_id == old.series_id]
    nearby = [s for s in siblings if abs(s.start - old.start) < _SERIES_SHIFT]
    return min(nearby, key=lambda s: abs(s.start - old.start), default=None)


_SERIES_SHIFT = timedelta(days=7)


def _vanished(
    known: Mapping[str, Session], incoming: Mapping[str, Session], changes: CalendarChanges
) -> list[str]:
    if changes.complete:
        return [k for k, s in known.items() if k not in incoming and changes.covers(s)]
    # Providers also report events leaving their window as removed: unknown ids mean nothing.
    return [k for k in changes.removed if k in known and k not in incoming]


@dataclass(frozen=True, slots=True)
class _Clock:
    now: datetime
    previous_poll: datetime | None

    def first_seen(self) -> CancelTime:
        return CancelTime(self.now, CancelTimeSource.FIRST_SEEN, earliest=self.previous_poll)

    def stamped(self, moment: datetime | None, source: CancelTimeSource) -> CancelTime:
        """A provider timestamp is trusted only if it falls after the previous poll."""
        if moment is None or (self.previous_poll is not None and moment <= self.previous_poll):
            return self.first_seen()
        return CancelTime(min(moment, self.now), source)


def _cancel_kind(session: Session) -> FactKind:
    if not session.organizer_is_practitioner:
        return FactKind.CANCELLED_BY_CLIENT_ORGANIZER
    return FactKind.INSTANCE_CANCELLED if session.series_id else FactKind.DELETED


def _compare(old: Session, new: Session, clock: _Clock, markers: tuple[str, ...]) -> list[Fact]:
    updated = clock.stamped(new.updated, CancelTimeSource.PROVIDER_UPDATED)
    if new.cancelled and old.cancelled:
        return []
    evidence = [f for f in (_response_fact(old, a, new.updated, clock) for a in new.attendees) if f]
    if _has_marker(new, markers) and not _has_marker(old, markers):
        evidence.append(Fact(FactKind.MARKED, new, updated))
    if new.cancelled:
        # A cancelled copy that still shows who declined, or a marker, says whose act it was.
        client_acts = [f for f in evidence if f.kind is not FactKind.RESTORED]
        return client_acts or [Fact(_cancel_kind(old), old, updated)]
    if old.cancelled:
        return [Fact(FactKind.RESTORED, old, updated)]
    if new.start != old.start:
        evidence.append(Fact(FactKind.MOVED, old, updated, new_start=new.start))
    return evidence


def _response_fact(
    old: Session, attendee: Attendee, updated: datetime | None, clock: _Clock
) -> Fact | None:
    before = old.attendee(attendee.email)
    was_declined = before is not None and before.response is Response.DECLINED
    now_declined = attendee.response is Response.DECLINED
    if now_declined and not was_declined:
        if attendee.responded_at is not None:
            when = clock.stamped(attendee.responded_at, CancelTimeSource.RESPONSE_TIME)
        else:
            when = clock.stamped(updated, CancelTimeSource.PROVIDER_UPDATED)
        return Fact(FactKind.DECLINED, old, when, attendee=attendee)
    if was_declined and not now_declined:
        return Fact(FactKind.RESTORED, old, clock.first_seen(), attendee=attendee)
    return None


def has_marker(session: Session, markers: Iterable[str]) -> bool:
    """Whether the title or description records a client's cancellation (whole words)."""
    return _has_marker(session, tuple(markers))


def _has_marker(session: Session, markers: tuple[str, ...]) -> bool:
    text = f"{session.title}\n{session.description}"
    return any(
        re.search(rf"(?<!\w){re.escape(marker)}(?!\w)", text, flags=re.IGNORECASE)
        for marker in markers
        if marker.strip()
    )
