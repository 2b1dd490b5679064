"""The variables a notice template can use, formatted in the client's language and zone.

Dates, times and durations are formatted with Babel for `facts.language` (an unknown
language falls back to English) in `facts.time_zone`. All-day sessions are dated in the
practitioner's zone, where the calendar placed them. The full table with example values is
in docs/template-variables.md; in short:

- `kind`: "reminder" or "forfeit".
- `client_name`, `client_first_name` (first word of the name, or ""), `client_email`.
- `session_title`; `session_start`, `session_end` (date and time, or date only when all
  day); `session_date`; `session_time` ("" when all day); `time_zone` (IANA name).
- `notice_hours`, `notice_minutes` (whole hours and remaining minutes of notice, never
  negative); `notice_given` (e.g. "3 hours and 10 minutes", or "after the session had
  started"); `cancelled_after_start` (bool); `cancelled_at` (date and time).
- `late_window` (e.g. "24 hours"); `policy_excerpt`.
- `offence` (1 = first counted late cancellation), `is_first_offence`, `next_step`
  ("reminder" or "forfeit"), `next_time` (a sentence saying what happens next time).
- `booking_link` ("" when none), `prepaid_balance` (int, or None when not kept).
- `practitioner_name`, `practitioner_email`, `signature` ("" when none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, format_timedelta
from babel.lists import format_list

from worker.config import Policy, Practitioner

# Phrases Babel has no data for, in the register of the packaged templates (tú in Spanish).
_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "after_start": "after the session had started",
        "under_a_minute": "less than a minute",
        "next_forfeit": "Next time, a session cancelled this late will be forfeited.",
        "next_reminder": "Next time, a session cancelled this late will get a reminder like "
        "this one.",
    },
    "es": {
        "after_start": "cuando la sesión ya había empezado",
        "under_a_minute": "menos de un minuto",
        "next_forfeit": "La próxima vez, una sesión cancelada con tan poca antelación se dará "
        "por perdida.",
        "next_reminder": "La próxima vez, si una sesión se cancela con tan poca antelación, te "
        "enviaré un recordatorio como este.",
    },
}


@dataclass(frozen=True)
class NoticeFacts:
    """What one notice is about, as plain values; datetimes are aware and in UTC.

    `notice` is how long before the start the client cancelled (negative when after);
    `offence` is 1 for the first counted late cancellation in the lookback; `next_step` is
    what the next late cancellation brings; `prepaid_balance` is after this notice's effect.
    """

    kind: str
    client_name: str
    client_email: str
    language: str
    time_zone: str
    session_title: str
    start: datetime
    end: datetime
    all_day: bool
    cancelled_at: datetime
    notice: timedelta
    offence: int
    next_step: str
    prepaid_balance: int | None


def notice_variables(
    facts: NoticeFacts, practitioner: Practitioner, policy: Policy
) -> dict[str, object]:
    """Every variable a template may use; see the module docstring for the list."""
    locale = _locale(facts.language)
    phrases = _PHRASES.get(locale.language, _PHRASES["en"])
    client_zone = _zone(facts.time_zone)
    # All-day sessions are midnight-to-midnight in the practitioner's zone, not the client's.
    session_zone = _zone(practitioner.time_zone) if facts.all_day else client_zone
    start = facts.start.astimezone(session_zone)
    end = facts.end.astimezone(session_zone)
    if facts.all_day:
        last_day = (end - timedelta(microseconds=1)).date() if end > start else start.date()
        session_start, session_end = _date(start.date(), locale), _date(last_day, locale)
        session_time = ""
    else:
        session_start, session_end = _datetime(start, locale), _datetime(end, locale)
        session_time = format_time(start.time(), "short", locale=locale)
    seconds = max(0, int(facts.notice.total_seconds()))
    name = " ".join(facts.client_name.split())
    return {
        "kind": facts.kind,
        "client_name": name,
        "client_first_name": name.split()[0] if name else "",
        "client_email": facts.client_email,
        "session_title": facts.session_title,
        "session_start": session_start,
        "session_end": session_end,
        "session_date": _date(start.date(), locale),
        "session_time": session_time,
        "time_zone": facts.time_zone,
        "notice_hours": seconds // 3600,
        "notice_minutes": seconds % 3600 // 60,
        "notice_given": _notice_given(facts.notice, locale, phrases),
        "cancelled_after_start": facts.notice < timedelta(0),
        "cancelled_at": _datetime(facts.cancelled_at.astimezone(client_zone), locale),
        "late_window": duration_text(policy.late_window, locale),
        "policy_excerpt": policy.excerpt_for(facts.language).strip(),
        "offence": facts.offence,
        "is_first_offence": facts.offence <= 1,
        "next_step": facts.next_step,
        "next_time": phrases.get(f"next_{facts.next_step}", ""),
        "booking_link": practitioner.booking_link.strip(),
        "prepaid_balance": facts.prepaid_balance,
        "practitioner_name": practitioner.name,
        "practitioner_email": practitioner.email,
        "signature": practitioner.signature.strip(),
    }


def duration_text(value: timedelta, locale: Locale) -> str:
    """A duration the way people say it: "24 hours", "3 horas y 10 minutos", "2 days".

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


def _notice_given(notice: timedelta, locale: Locale, phrases: dict[str, str]) -> str:
    if notice < timedelta(0):
        return phrases["after_start"]
    return duration_text(notice, locale) or phrases["under_a_minute"]


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _date(day: date, locale: Locale) -> str:
    return format_date(day, "full", locale=locale)


def _datetime(moment: datetime, locale: Locale) -> str:
    """The locale's own "date, time" pattern: "Tuesday, 24 November 2026, 15:00"."""
    pattern = str(locale.datetime_formats.get("full", "{1} {0}"))
    clock = format_time(moment.time(), "short", locale=locale)
    return pattern.replace("{1}", _date(moment.date(), locale)).replace("{0}", clock)


def sample_facts(kind: str, language: str, now: datetime) -> NoticeFacts:
    """Realistic facts for previews and `fairwarning check`: a session tomorrow at 15:00,
    cancelled 3 hours and 10 minutes before it; the forfeit sample is a second offence."""
    spanish = language.replace("-", "_").split("_")[0].lower() == "es"
    zone_name = "Europe/Madrid" if spanish else "Europe/London"
    zone = ZoneInfo(zone_name)
    today = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(zone).date()
    start = datetime.combine(today + timedelta(days=1), time(15, 0), zone).astimezone(UTC)
    notice = timedelta(hours=3, minutes=10)
    forfeit = kind == "forfeit"
    return NoticeFacts(
        kind=kind,
        client_name="Lucía Fernández" if spanish else "Sam Taylor",
        client_email="lucia@example.org" if spanish else "sam@example.org",
        language=language,
        time_zone=zone_name,
        session_title="Sesión de coaching" if spanish else "Coaching session",
        start=start,
        end=start + timedelta(minutes=50),
        all_day=False,
        cancelled_at=start - notice,
        notice=notice,
        offence=2 if forfeit else 1,
        next_step="forfeit",
        prepaid_balance=3 if forfeit else 4,
    )
