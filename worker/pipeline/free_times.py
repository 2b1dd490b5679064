"""Real free times to offer a client who cancelled: seed 003, "offer alternatives".

`free_times` is pure: from the practitioner's working hours (per weekday, in their zone),
what is already on their calendars, the cancelled session's length and the policy, it finds
the next times a session of that length could start. `offer` is the glue delivery calls when
it renders a reminder or forfeit, so the times are as fresh as the notice.

Slots start on the half hour of the practitioner's clock (09:00, 09:30, …): on the hour alone
would lose a 50-minute session at 11:30 in a morning that ends at 12:30, and a finer grid
(10:10) reads like a machine's offer. Offered times never overlap each other, so a client
can take any one of them as a real session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from worker.config import Policy, Practitioner
from worker.config.hours import Ranges, weekly
from worker.model import Response, Session
from worker.notices.wording import NoticeFacts
from worker.store import sync_state
from worker.store.connection import Connection

GRID = timedelta(minutes=30)
Interval = tuple[datetime, datetime]


def free_times(
    working_hours: Mapping[int, Ranges],
    busy: Iterable[Interval],
    length: timedelta,
    now: datetime,
    *,
    late_window: timedelta,
    quiet_hours: tuple[time, time] | None,
    zone: str,
    client_zone: str,
    count: int = 3,
    within: timedelta = timedelta(days=14),
) -> list[datetime]:
    """The next `count` start times (aware, UTC) of a free session of `length`.

    A time is free when the session fits inside one working-hours range of its day (wall
    clock in `zone`, so DST days keep their hours), overlaps nothing in `busy`, starts no
    sooner than `late_window` from `now` and no later than `within` from it, and neither
    starts nor runs inside `quiet_hours` in the client's zone.
    """
    if count <= 0 or length <= timedelta(0) or not working_hours:
        return []
    home = ZoneInfo(zone)
    taken = sorted(busy)
    earliest, latest = now + late_window, now + within
    found: list[datetime] = []
    day = now.astimezone(home).date()
    while len(found) < count and _local(day, time(0), home) <= latest:
        for start_of_range, end_of_range in working_hours.get(day.weekday(), ()):
            closes = _local(day, end_of_range, home)
            for start in _grid(day, start_of_range, end_of_range, home):
                end = start + length
                if start < earliest or start > latest or end > closes:
                    continue
                if found and start < found[-1] + length:
                    continue  # offered times never overlap each other
                if _overlaps(start, end, taken) or _quiet(start, end, quiet_hours, client_zone):
                    continue
                found.append(start)
                if len(found) == count:
                    return found
        day += timedelta(days=1)
    return found


def _grid(day: date, opens: time, closes: time, home: ZoneInfo) -> Iterable[datetime]:
    """Half-hour marks of the wall clock from `opens` to `closes`; a time a DST change skips
    is left out."""
    minutes = opens.hour * 60 + opens.minute
    minutes += -minutes % 30
    while minutes < closes.hour * 60 + closes.minute:
        local = datetime.combine(day, time(minutes // 60, minutes % 60), home)
        moment = local.astimezone(UTC)
        if moment.astimezone(home).replace(tzinfo=None) == local.replace(tzinfo=None):
            yield moment
        minutes += 30


def _local(day: date, at: time, home: ZoneInfo) -> datetime:
    """A wall-clock time of `day` in `home`, as UTC."""
    return datetime.combine(day, at, home).astimezone(UTC)


def _overlaps(start: datetime, end: datetime, taken: Sequence[Interval]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in taken)


def _quiet(start: datetime, end: datetime, quiet: tuple[time, time] | None, zone: str) -> bool:
    """Whether [start, end) touches the nightly quiet window in `zone`."""
    if quiet is None or quiet[0] == quiet[1]:
        return False
    local = ZoneInfo(zone)
    first = start.astimezone(local).date() - timedelta(days=1)
    for offset in range((end.astimezone(local).date() - first).days + 1):
        day = first + timedelta(days=offset)
        begins = datetime.combine(day, quiet[0], local)
        ends = datetime.combine(day + timedelta(days=quiet[1] <= quiet[0]), quiet[1], local)
        if begins < end and start < ends:
            return True
    return False


def busy_intervals(
    sessions: Iterable[Session], practitioner_addresses: Iterable[str], zone: str
) -> list[Interval]:
    """What blocks a free time: every known event but cancelled ones and sessions every
    invited client declined; all-day events block their whole days in the practitioner's zone."""
    own = {address.strip().lower() for address in practitioner_addresses}
    home = ZoneInfo(zone)
    intervals = []
    for session in sessions:
        others = [a for a in session.attendees if a.address not in own and not a.is_resource]
        if session.cancelled or (others and all(a.response == Response.DECLINED for a in others)):
            continue
        if session.all_day:
            first = session.start.astimezone(home).date()
            last = max(session.end, session.start + timedelta(seconds=1)) - timedelta(seconds=1)
            after = last.astimezone(home).date() + timedelta(days=1)
            intervals.append((_local(first, time(0), home), _local(after, time(0), home)))
        else:
            intervals.append((session.start, session.end))
    return intervals


def offer(
    db: Connection,
    length: timedelta,
    client_zone: str,
    practitioner: Practitioner,
    policy: Policy,
    now: datetime,
) -> tuple[datetime, ...]:
    """The free times a notice rendered `now` offers (none without working hours)."""
    if not practitioner.working_hours or policy.offer_slots <= 0:
        return ()
    horizon = now + policy.offer_within + length
    sessions = sync_state.sessions_between(db, now - timedelta(days=1), horizon)
    quiet = policy.quiet_hours
    return tuple(
        free_times(
            weekly(practitioner.working_hours),
            busy_intervals(
                sessions,
                (practitioner.email, *practitioner.other_addresses),
                practitioner.time_zone,
            ),
            length,
            now,
            late_window=policy.late_window,
            quiet_hours=(quiet.start, quiet.end) if quiet is not None else None,
            zone=practitioner.time_zone,
            client_zone=client_zone,
            count=policy.offer_slots,
            within=policy.offer_within,
        )
    )


def with_free_times(
    db: Connection,
    facts: NoticeFacts,
    practitioner: Practitioner,
    policy: Policy,
    now: datetime,
) -> NoticeFacts:
    """A reminder's or forfeit's facts with the free times to offer as it is rendered `now`
    (a session of the cancelled one's length; none for an all-day session)."""
    if facts.kind not in ("reminder", "forfeit") or facts.all_day:
        return facts
    times = offer(db, facts.end - facts.start, facts.time_zone, practitioner, policy, now)
    return replace(facts, free_times=times)
