"""The variables a notice template can use, formatted in the client's language and zone.

Dates and times are written in the notice's locale (see notices/dates.py) and the client's
zone; all-day sessions are dated in the practitioner's zone, where the calendar placed them.
The full table with example values is in docs/template-variables.md; in short:

- `kind`: "reminder" or "forfeit".
- `client_name`, `client_first_name` (first word of the name), `client_email`. A "name"
  that is only an email address (Outlook fills one in) counts as no name: both are "".
- `session_title` (the raw calendar title; optional, the packaged notices do not quote it);
  `session_when` ("Wednesday 2 December at 08:00", for sentences); `session_day`
  ("Wednesday 2 December"); `session_start`, `session_end` (date and time, or date only
  when all day); `session_date`; `session_time` ("" when all day); `time_zone` (IANA name).
  When the client's clock differs from the practitioner's, the times name it ("09:00
  (Madrid time)").
- `other_sessions`: the other sessions this notice is about, each written like
  `session_when` (late cancellations made before the client's reminder went out join it, so
  one reminder names them all; empty otherwise, and always in a forfeit);
  `other_sessions_when`: the same list as the language joins it ("Friday 4 December at
  09:00 and Monday 7 December at 09:00").
- `notice_given` ("about 8 hours", "less than a day", or "after it had started");
  `notice_exact` ("7 hours and 50 minutes"); `notice_hours`, `notice_minutes` (never
  negative); `cancelled_after_start` (bool); `cancelled_at` (date and time).
- `late_window` (e.g. "24 hours"); `policy_excerpt` (in the client's language).
- `offence` (1 = first counted late cancellation), `is_first_offence`, `next_step`
  ("reminder" or "forfeit"), `next_time` (a sentence on what happens next time; after a
  forfeit, that the policy goes on applying); `warned_on` (date an earlier notice was sent
  to this client, "" when none reached them); `policy_sent_on` (date the welcome with the
  policy in full was sent, "" when none was).
- `free_times`: the practitioner's next free times (from `practitioner.working_hours`),
  each written like `session_when`, in the client's zone; found when the notice is rendered.
  Empty without working hours or when none is free. `free_times_when`: the same joined
  with "or" ("Thursday 3 December at 10:00, … or Friday 4 December at 09:30").
- `booking_link` ("" when none), `prepaid_balance` (int, or None when not kept), as the
  package ledger holds it after this notice; `last_prepaid_session` (True when exactly one
  is left).
- `fee`: what this forfeit costs, in the notice's locale ("£60.00", "60,00 €"); "" unless a
  forfeit spent no prepaid session and a fee is configured. `payment_link` ("" when none).
- `practitioner_name`, `practitioner_email`, `signature` (in the client's language; "" when
  none).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_currency

from worker.config import Policy, Practitioner
from worker.config.practice import base_language
from worker.model import Money
from worker.notices.dates import (
    at_time,
    clock,
    date_and_time,
    day_text,
    duration_text,
    full_date,
    month_day,
    notice_in_words,
    notice_locale,
    parse_locale,
    shows_year,
    with_zone,
)
from worker.notices.phrases import phrases_for


@dataclass(frozen=True)
class OtherSession:
    """Another session one notice is about (a late cancellation that joined a reminder)."""

    start: datetime
    end: datetime
    all_day: bool = False


@dataclass(frozen=True)
class NoticeFacts:
    """What one notice is about, as plain values; datetimes are aware and in UTC.

    `notice` is how long before the start the client cancelled (negative when after);
    `offence` is 1 for the first counted late cancellation in the lookback; `next_step` is
    what the next late cancellation brings; `prepaid_balance` is after this notice's effect;
    `warned_at` is when an earlier notice was sent to this client, if one was before this
    cancellation.
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
    warned_at: datetime | None = None
    other_sessions: tuple[OtherSession, ...] = ()
    policy_sent_at: datetime | None = None  # when the welcome with the policy was sent
    fee: Money | None = None  # what a forfeit costs when no prepaid session paid for it
    free_times: tuple[datetime, ...] = ()  # found at delivery (pipeline/free_times.py)


def person_name(name: str) -> str:
    """A name on one line, or "" when it is only an email address (as Outlook fills it in)."""
    name = " ".join(name.split())
    looks_like_address = "@" in name and " " not in name.strip("<>\"' ")
    return "" if looks_like_address else name


def notice_variables(
    facts: NoticeFacts, practitioner: Practitioner, policy: Policy
) -> dict[str, object]:
    """Every variable a template may use; see the module docstring for the list."""
    if parse_locale(base_language(facts.language)) is None:
        facts = replace(facts, language="en")  # a language nobody knows reads as English
    locale = notice_locale(facts.language, practitioner, facts.time_zone)
    words = phrases_for(facts.language)
    name = person_name(facts.client_name)
    return {
        "kind": facts.kind,
        "client_name": name,
        "client_first_name": name.split()[0] if name else "",
        "client_email": facts.client_email,
        "session_title": facts.session_title,
        **_session_times(facts, practitioner, locale),
        **_other_sessions(facts, practitioner, locale),
        **_free_times(facts, practitioner, locale),
        "time_zone": facts.time_zone,
        **_notice_given(facts, policy, locale),
        "late_window": duration_text(policy.late_window, locale),
        "policy_excerpt": policy.excerpt_for(facts.language).strip(),
        "offence": facts.offence,
        "is_first_offence": facts.offence <= 1,
        "next_step": facts.next_step,
        "next_time": _next_time(facts, words),
        "warned_on": _warned_on(facts, locale),
        "policy_sent_on": _sent_on(facts.policy_sent_at, facts, locale),
        "booking_link": practitioner.booking_link.strip(),
        "prepaid_balance": facts.prepaid_balance,
        "last_prepaid_session": facts.prepaid_balance == 1,
        "fee": _fee(facts.fee, locale),
        "payment_link": practitioner.payment_link.strip(),
        "practitioner_name": practitioner.name,
        "practitioner_email": practitioner.email,
        "signature": practitioner.signature_for(facts.language).strip(),
    }


def session_times(facts: NoticeFacts, practitioner: Practitioner) -> dict[str, str]:
    """The `session_*` variables alone, for the notices that are not about a cancellation."""
    return _session_times(
        facts, practitioner, notice_locale(facts.language, practitioner, facts.time_zone)
    )


def _session_times(
    facts: NoticeFacts, practitioner: Practitioner, locale: Locale
) -> dict[str, str]:
    client_zone = _zone(facts.time_zone)
    # All-day sessions are midnight-to-midnight in the practitioner's zone, not the client's.
    session_zone = _zone(practitioner.time_zone) if facts.all_day else client_zone
    start = facts.start.astimezone(session_zone)
    end = facts.end.astimezone(session_zone)
    year = shows_year(facts.start, facts.cancelled_at)
    day = day_text(start.date(), locale, year=year)
    times = {"session_date": full_date(start.date(), locale), "session_day": day}
    if facts.all_day:
        last_day = (end - timedelta(microseconds=1)).date() if end > start else start.date()
        return {
            **times,
            "session_start": times["session_date"],
            "session_end": full_date(last_day, locale),
            "session_time": "",
            "session_when": day,
        }
    at = clock(start, locale)
    if _differs(start, _zone(practitioner.time_zone)):
        at = with_zone(at, client_zone, facts.language, locale)
    return {
        **times,
        "session_start": date_and_time(times["session_date"], at, locale),
        "session_end": date_and_time(full_date(end.date(), locale), clock(end, locale), locale),
        "session_time": at,
        "session_when": at_time(day, at, facts.language, locale),
    }


def _other_sessions(
    facts: NoticeFacts, practitioner: Practitioner, locale: Locale
) -> dict[str, object]:
    """The other sessions one notice names, each written as `session_when` is."""
    when = [
        _session_times(
            replace(facts, start=other.start, end=other.end, all_day=other.all_day),
            practitioner,
            locale,
        )["session_when"]
        for other in facts.other_sessions
    ]
    return {
        "other_sessions": when,
        "other_sessions_when": format_list(when, locale=locale) if when else "",
    }


def _free_times(
    facts: NoticeFacts, practitioner: Practitioner, locale: Locale
) -> dict[str, object]:
    """The free times offered, each written as `session_when` is, in the client's zone."""
    length = facts.end - facts.start
    when = [
        _session_times(
            replace(facts, start=start, end=start + length, all_day=False), practitioner, locale
        )["session_when"]
        for start in facts.free_times
    ]
    return {
        "free_times": when,
        "free_times_when": format_list(when, style="or", locale=locale) if when else "",
    }


def _differs(moment: datetime, practitioner_zone: tzinfo) -> bool:
    """Whether the practitioner's clock shows another time than the client's at `moment`."""
    return moment.utcoffset() != moment.astimezone(practitioner_zone).utcoffset()


def _notice_given(facts: NoticeFacts, policy: Policy, locale: Locale) -> dict[str, object]:
    seconds = max(0, int(facts.notice.total_seconds()))
    words = phrases_for(facts.language)
    exact = duration_text(facts.notice, locale) if seconds >= 60 else words["few_minutes"]
    cancelled = facts.cancelled_at.astimezone(_zone(facts.time_zone))
    return {
        "notice_hours": seconds // 3600,
        "notice_minutes": seconds % 3600 // 60,
        "notice_given": notice_in_words(facts.notice, policy.late_window, facts.language, locale),
        "notice_exact": words["after_start"] if facts.notice < timedelta(0) else exact,
        "cancelled_after_start": facts.notice < timedelta(0),
        "cancelled_at": date_and_time(
            full_date(cancelled.date(), locale), clock(cancelled, locale), locale
        ),
    }


def _next_time(facts: NoticeFacts, words: dict[str, str]) -> str:
    """What the next late cancellation brings; after a forfeit, that the policy still applies
    (a forfeit that ends "next time it will be forfeited" reads as a threat)."""
    if facts.kind == "forfeit":
        return words["policy_continues"]
    return words.get(f"next_{facts.next_step}", "")


def _warned_on(facts: NoticeFacts, locale: Locale) -> str:
    return _sent_on(facts.warned_at, facts, locale)


def _sent_on(moment: datetime | None, facts: NoticeFacts, locale: Locale) -> str:
    if moment is None:
        return ""
    sent = moment.astimezone(_zone(facts.time_zone))
    return month_day(sent.date(), locale, year=sent.year != facts.start.year)


def _fee(fee: Money | None, locale: Locale) -> str:
    """The fee as the client's locale writes money: "£60.00", "60,00 €", "$60.00"."""
    if fee is None:
        return ""
    return str(format_currency(fee.amount, fee.currency, locale=locale))


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def sample_facts(kind: str, language: str, now: datetime) -> NoticeFacts:
    """Realistic facts for previews and `fairwarning check`: a session tomorrow at 15:00,
    cancelled 7 hours and 50 minutes before it; the forfeit sample is a second offence,
    three weeks after a reminder that was sent."""
    spanish = base_language(language) == "es"
    zone_name = "Europe/Madrid" if spanish else "Europe/London"
    zone = ZoneInfo(zone_name)
    today = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(zone).date()
    start = datetime.combine(today + timedelta(days=1), time(15, 0), zone).astimezone(UTC)
    notice = timedelta(hours=7, minutes=50)
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
        warned_at=start - timedelta(days=21) if forfeit else None,
    )
