"""Value types shared by every configuration section: durations, time zones, the base section."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from worker.durations import format_duration, parse_duration


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    Field(json_schema_extra={"type": "string", "examples": ["24h", "10m", "365d"]}),
]


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone; use an IANA name such as 'Europe/London'"
        ) from None
    return name


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")
