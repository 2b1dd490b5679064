"""Quiet hours: no notice lands in a client's inbox in the middle of their night."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(now: datetime, start: time, end: time, zone: str) -> datetime | None:
    """If `now` falls inside the nightly window [start, end) in `zone`, when it ends (UTC aware)."""
    local = now.astimezone(ZoneInfo(zone))
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    crosses_midnight = start > end
    inside = (clock >= start or clock < end) if crosses_midnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date()
    if crosses_midnight and clock >= start:
        day += timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=ZoneInfo(zone))
    return ends.astimezone(now.tzinfo)
