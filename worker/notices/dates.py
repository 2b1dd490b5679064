"""How a notice says when: dates, times, zones and amounts of notice, in a locale.

The locale of a notice: a template language that names a country (`pt-BR`) uses it; one in
the practitioner's language uses `practitioner.locale` (default: that language in the
country of their time zone, so a coach in London writes "Wednesday 2 December 2026, 08:00");
any other language takes the country of the client's zone (a Spanish client in Mexico City
reads Mexican Spanish), else the plain language, else English.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import (
    format_date,
    format_skeleton,
    format_time,
    format_timedelta,
    get_timezone_location,
)
from babel.lists import format_list

from worker.config import Practitioner
from worker.config.practice import base_language
from worker.notices.phrases import has_phrases, phrases_for

# Beyond this distance from the moment it is measured against, a date also gives its year.
_NEAR = timedelta(days=180)
_TRAILING_YEAR = re.compile(r"[\s,]*(?:'de'\s*)?y+\.?$")


def parse_locale(name: str) -> Locale | None:
    """The Babel locale for a name such as "en_GB", "es-MX" or "es"; None if unknown."""
    try:
        return Locale.parse(name.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def practitioner_locale(practitioner: Practitioner) -> Locale:
    """`practitioner.locale`, else their language in the country of their time zone."""
    explicit = parse_locale(practitioner.locale or "")
    if explicit is not None:
        return explicit
    return _regional(base_language(practitioner.language), practitioner.time_zone)


def notice_locale(language: str, practitioner: Practitioner, client_zone: str) -> Locale:
    """The locale a notice in `language` is written in (see the module docstring)."""
    named = parse_locale(language)
    if named is not None and named.territory:
        return named
    base = base_language(language) if parse_locale(base_language(language)) else "en"
    own = practitioner_locale(practitioner)
    if own.language == base:
        return own
    return _regional(base, client_zone)


def _regional(language: str, zone: str) -> Locale:
    territory = str(get_global("zone_territories").get(zone) or "")
    for name in (f"{language}_{territory}" if territory else "", language, "en"):
        found = parse_locale(name) if name else None
        if found is not None:
            return found
    return Locale.parse("en")


def full_date(day: date, locale: Locale) -> str:
    """The weekday and date with its year: "Wednesday 2 December 2026"."""
    return format_date(day, _with_weekday(_long_pattern(locale)), locale=locale)


def day_text(day: date, locale: Locale, *, year: bool) -> str:
    """The weekday and date, the year only when asked: "Wednesday 2 December"."""
    if year:
        return full_date(day, locale)
    short = _TRAILING_YEAR.sub("", _long_pattern(locale))
    if short == _long_pattern(locale):  # the year is not at the end (e.g. Japanese)
        return format_skeleton("MMMMEEEEd", day, locale=locale)
    return format_date(day, _with_weekday(short), locale=locale)


def month_day(day: date, locale: Locale, *, year: bool) -> str:
    """The date without the weekday: "3 November", "3 de noviembre"."""
    pattern = _long_pattern(locale)
    if not year:
        pattern = _TRAILING_YEAR.sub("", pattern)
    return format_date(day, pattern, locale=locale)


def clock(moment: datetime, locale: Locale) -> str:
    """The time of day in the locale's short form: "08:00", "8:00 AM"."""
    return format_time(moment, "short", locale=locale)


def date_and_time(day: str, time: str, locale: Locale) -> str:
    """The locale's own "date, time" joining: "Wednesday 2 December 2026, 08:00"."""
    pattern = str(locale.datetime_formats.get("long", "{1} {0}"))
    return pattern.replace("{1}", day).replace("{0}", time)


def at_time(day: str, time: str, language: str, locale: Locale) -> str:
    """A day and time as said in a sentence: "Wednesday 2 December at 08:00"."""
    if not has_phrases(language):
        return date_and_time(day, time, locale)
    words = phrases_for(language)
    hour = re.match(r"\d+", time)
    key = "at_one" if hour and int(hour.group()) == 1 and "at_one" in words else "at"
    return words[key].format(day=day, time=time)


def with_zone(time: str, zone: tzinfo, language: str, locale: Locale) -> str:
    """A time with the place whose clock it is: "09:00 (Madrid time)", "08:00 UTC"."""
    key = getattr(zone, "key", "UTC")
    if "/" not in key:
        return f"{time} {key}"
    city = get_timezone_location(ZoneInfo(key), locale=locale, return_city=True)
    if not has_phrases(language):
        return f"{time} ({city})"
    return phrases_for(language)["zone"].format(time=time, city=city)


def shows_year(moment: datetime, reference: datetime) -> bool:
    return abs(moment - reference) > _NEAR


def notice_in_words(notice: timedelta, window: timedelta, language: str, locale: Locale) -> str:
    """How much notice the client gave, as people say it: "about 8 hours", "less than a day".

    Rounded, but never up to the late window itself: 7 h 50 min before an 8-hour window is
    "less than 8 hours", not "about 8 hours".
    """
    words = phrases_for(language)
    if notice < timedelta(0):
        return words["after_start"]
    if not has_phrases(language):
        amount = max(notice, timedelta(minutes=1))
        return format_timedelta(amount, threshold=1.5, granularity="minute", locale=locale)
    said, rounded = _rounded(notice, words)
    if rounded >= window:
        return words["under"].format(span=duration_text(window, locale))
    return said


def _rounded(notice: timedelta, words: dict[str, str]) -> tuple[str, timedelta]:
    """The phrase for `notice`, and the amount it claims (to compare with the window)."""
    minutes = notice.total_seconds() / 60
    if minutes < 10:
        return words["few_minutes"], timedelta(0)
    if minutes < 52.5:
        n = int(round(minutes / 5) * 5)
        return words["minutes"].format(n=n), timedelta(minutes=n)
    hours = minutes / 60
    if hours < 1.5:
        return words["an_hour"], timedelta(hours=1)
    if hours < 20:
        n = round(hours)
        return words["hours"].format(n=n), timedelta(hours=n)
    if hours < 24:
        return words["under_a_day"], timedelta(0)
    whole, part = divmod(hours / 24, 1)
    if part >= 0.8:
        return words["under_days"].format(n=int(whole) + 1), timedelta(0)
    if whole == 1:
        return words["a_day"], timedelta(days=1)
    return words["days"].format(n=int(whole)), timedelta(days=whole)


def duration_text(value: timedelta, locale: Locale) -> str:
    """A duration exactly: "24 hours", "3 horas y 10 minutos", "2 days".

    Whole days are used from 48 hours up; below that, hours and minutes.
    """
    seconds = int(abs(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 2:
        parts = [(days, "days"), (hours, "hours")]
    else:
        parts = [(days * 24 + hours, "hours"), (minutes, "minutes")]
    words = [
        format_timedelta(timedelta(**{unit: amount}), threshold=amount, locale=locale)
        for amount, unit in parts
        if amount
    ]
    return format_list(words, locale=locale) if words else ""


def _long_pattern(locale: Locale) -> str:
    return str(locale.date_formats["long"].pattern)


def _with_weekday(pattern: str) -> str:
    """ "d MMMM y" → "EEEE d MMMM y"; "MMMM d, y" → "EEEE, MMMM d, y" (as US English has it)."""
    separator = ", " if pattern.lstrip().startswith(("M", "L")) else " "
    return f"EEEE{separator}{pattern}"
