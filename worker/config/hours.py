"""Working hours: when, per weekday and in the practitioner's zone, sessions can be offered.

Written in the config as `working_hours = { mon = ["09:00-12:30", "14:00-18:00"] }`: zero
or more "HH:MM-HH:MM" ranges per weekday, none overlapping, each ending after it starts (a
range cannot cross midnight). Days not listed are days off.
"""

from __future__ import annotations

import re
from datetime import time
from itertools import pairwise

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FORM = '"09:00-17:00"'

_RANGE = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")

Ranges = tuple[tuple[time, time], ...]


def check_working_hours(value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The working hours as written, every problem raised as one error naming key and value."""
    problems = []
    for day, ranges in value.items():
        if day.lower() not in WEEKDAYS:
            problems.append(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}")
            continue
        try:
            parse_day(day, ranges)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return {day.lower(): tuple(r.strip() for r in ranges) for day, ranges in value.items()}


def parse_day(day: str, ranges: tuple[str, ...]) -> Ranges:
    """One weekday's ranges as (start, end) times, sorted; malformed or overlapping → error."""
    parsed = []
    for text in ranges:
        match = _RANGE.match(text)
        hours = [int(part) for part in match.groups()] if match else []
        if not match or hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
            raise ValueError(
                f"working_hours.{day} = {text!r} is not a time range; write it as {FORM}"
            )
        start, end = time(hours[0], hours[1]), time(hours[2], hours[3])
        if end <= start:
            raise ValueError(
                f"working_hours.{day} = {text!r} ends before it starts; write it as {FORM} "
                "(a range cannot cross midnight)"
            )
        parsed.append((start, end))
    parsed.sort()
    for (_, first_end), (second_start, _) in pairwise(parsed):
        if second_start < first_end:
            raise ValueError(
                f"working_hours.{day} = {list(ranges)!r} has overlapping ranges; write them "
                f'apart, e.g. ["09:00-12:30", "14:00-18:00"]'
            )
    return tuple(parsed)


def weekly(value: dict[str, tuple[str, ...]]) -> dict[int, Ranges]:
    """Checked working hours by weekday number (Monday is 0), for the free-time search."""
    return {WEEKDAYS.index(day): parse_day(day, ranges) for day, ranges in value.items()}
