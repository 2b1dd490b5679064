"""Moments as the practitioner reads them: in their zone, with its abbreviation, in English.

Storage and `--json` keep UTC ISO text; only what is printed for a person goes through here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_time(moment: datetime, zone: str, *, now: datetime | None = None) -> str:
    """The moment in `zone` as "Wed 2 Dec 08:00 GMT", with the year when it is not `now`'s."""
    local = moment.astimezone(ZoneInfo(zone))
    day = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    if now is not None and local.year != now.astimezone(ZoneInfo(zone)).year:
        day += f" {local.year}"
    return f"{day} {_clock(local)}"


def local_clock(moment: datetime, zone: str, now: datetime) -> str:
    """The moment as "08:00 GMT today" or "08:00 GMT tomorrow" when that close, else as
    `local_time` writes it."""
    local = moment.astimezone(ZoneInfo(zone))
    today = now.astimezone(ZoneInfo(zone)).date()
    if local.date() == today:
        return f"{_clock(local)} today"
    if local.date() == today + timedelta(days=1):
        return f"{_clock(local)} tomorrow"
    return local_time(moment, zone, now=now)


def _clock(local: datetime) -> str:
    return f"{local:%H:%M} {local.tzname()}"
