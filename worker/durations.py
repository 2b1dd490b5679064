"""Durations as practitioners write them: "24h", "10m", "365d", "1h30m"."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([dhms])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """Parse "24h", "10m", "365d" or combinations such as "1h30m" into a timedelta."""
    if not _WHOLE.match(text):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, e.g. '24h', '10m', '365d'"
        )
    total = timedelta()
    for amount, unit in _PART.findall(text):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, using the largest units that fit exactly."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0m"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)
