"""The variables of a notice, in the client's language and time zone."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import worker.notices.wording
from worker.config import Policy, Practitioner
from worker.notices.wording import NoticeFacts, notice_variables, sample_facts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANA = Practitioner(name="Ana Ruiz", email="ana@coach.example", time_zone="Europe/Madrid")
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def facts(**changes: object) -> NoticeFacts:
    base = NoticeFacts(
        kind="reminder",
        client_name="Sam Taylor",
        client_email="sam@example.org",
        language="en_GB",
        time_zone="Europe/London",
        session_title="Coaching session",
        start=START,
        end=START + timedelta(minutes=50),
        all_day=False,
        cancelled_at=START - timedelta(hours=3, minutes=10),
        notice=timedelta(hours=3, minutes=10),
        offence=1,
        next_step="forfeit",
        prepaid_balance=4,
    )
    return dataclasses.replace(base, **changes)


def words(
    policy: Policy | None = None, practitioner: Practitioner = ANA, **changes: object
) -> dict[str, object]:
    return notice_variables(facts(**changes), practitioner, policy or Policy())


def test_cancelling_3_hours_10_minutes_before_is_worded_in_english_and_spanish() -> None:
    english = words()
    spanish = words(language="es")

    assert english["notice_given"] == "3 hours and 10 minutes"
    assert spanish["notice_given"] == "3 horas y 10 minutos"
    assert (english["notice_hours"], english["notice_minutes"]) == (3, 10)
    assert english["cancelled_after_start"] is False


def test_session_start_is_shown_in_the_clients_language_and_zone() -> None:
    british = words()
    madrid = words(language="es", time_zone="Europe/Madrid")
    new_york = words(language="en", time_zone="America/New_York")

    assert british["session_start"] == "Tuesday, 24 November 2026, 15:00"
    assert british["session_end"] == "Tuesday, 24 November 2026, 15:50"
    assert british["session_date"] == "Tuesday, 24 November 2026"
    assert british["session_time"] == "15:00"
    assert british["cancelled_at"] == "Tuesday, 24 November 2026, 11:50"
    assert madrid["session_start"] == "martes, 24 de noviembre de 2026, 16:00"
    assert madrid["session_date"] == "martes, 24 de noviembre de 2026"
    assert madrid["cancelled_at"] == "martes, 24 de noviembre de 2026, 12:50"
    assert new_york["session_time"] == "10:00\u202fAM"
    assert new_york["time_zone"] == "America/New_York"


def test_cancelling_after_the_session_started_gives_no_negative_numbers() -> None:
    late = words(notice=-timedelta(minutes=25), cancelled_at=START + timedelta(minutes=25))
    tardía = words(language="es", notice=-timedelta(minutes=25))

    assert late["notice_given"] == "after the session had started"
    assert tardía["notice_given"] == "cuando la sesión ya había empezado"
    assert (late["notice_hours"], late["notice_minutes"]) == (0, 0)
    assert late["cancelled_after_start"] is True


def test_cancelling_at_the_last_moment_is_less_than_a_minute() -> None:
    assert words(notice=timedelta(seconds=20))["notice_given"] == "less than a minute"
    assert words(notice=timedelta(0), language="es")["notice_given"] == "menos de un minuto"


@pytest.mark.parametrize(
    ("notice", "english", "spanish"),
    [
        (timedelta(minutes=1), "1 minute", "1 minuto"),
        (timedelta(hours=1), "1 hour", "1 hora"),
        (timedelta(hours=23, minutes=59), "23 hours and 59 minutes", "23 horas y 59 minutos"),
        (timedelta(hours=30), "30 hours", "30 horas"),
        (timedelta(days=3, hours=2, minutes=5), "3 days and 2 hours", "3 días y 2 horas"),
    ],
)
def test_notice_given_reads_naturally(notice: timedelta, english: str, spanish: str) -> None:
    assert words(notice=notice)["notice_given"] == english
    assert words(notice=notice, language="es")["notice_given"] == spanish


@pytest.mark.parametrize(
    ("window", "english", "spanish"),
    [
        ("24h", "24 hours", "24 horas"),
        ("48h", "2 days", "2 días"),
        ("1h30m", "1 hour and 30 minutes", "1 hora y 30 minutos"),
        ("7d", "7 days", "7 días"),
    ],
)
def test_late_window_is_in_words(window: str, english: str, spanish: str) -> None:
    policy = Policy(late_window=window)

    assert words(policy)["late_window"] == english
    assert words(policy, language="es")["late_window"] == spanish


def test_all_day_session_is_dated_in_the_practitioners_zone_without_a_time() -> None:
    # Midnight to midnight in Madrid is 23:00 to 23:00 UTC the day before.
    start = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    all_day = words(all_day=True, start=start, end=start + timedelta(days=1))
    two_days = words(all_day=True, start=start, end=start + timedelta(days=2), language="es")

    assert all_day["session_start"] == "Tuesday, 24 November 2026"
    assert all_day["session_end"] == "Tuesday, 24 November 2026"
    assert all_day["session_date"] == "Tuesday, 24 November 2026"
    assert all_day["session_time"] == ""
    assert two_days["session_end"] == "miércoles, 25 de noviembre de 2026"


@pytest.mark.parametrize("language", ["xx", "not a language!", "", "zz-ZZ"])
def test_unknown_language_falls_back_to_english(language: str) -> None:
    result = words(language=language)

    assert result["notice_given"] == "3 hours and 10 minutes"
    assert result["session_date"] == "Tuesday, November 24, 2026"
    assert result["next_time"] == "Next time, a session cancelled this late will be forfeited."


def test_regional_spanish_is_spanish() -> None:
    mexico = words(language="es-MX", time_zone="America/Mexico_City")

    assert mexico["notice_given"] == "3 horas y 10 minutos"
    assert mexico["session_date"] == "martes, 24 de noviembre de 2026"
    assert str(mexico["next_time"]).startswith("La próxima vez")


def test_an_unknown_time_zone_shows_utc_rather_than_failing() -> None:
    assert words(time_zone="Mars/Olympus_Mons")["session_time"] == "15:00"


@pytest.mark.parametrize(
    ("name", "first"),
    [("Sam Taylor", "Sam"), ("  Lucía   Fernández ", "Lucía"), ("Prince", "Prince"), ("", "")],
)
def test_client_first_name_is_the_first_word(name: str, first: str) -> None:
    result = words(client_name=name)

    assert result["client_first_name"] == first
    assert result["client_name"] == " ".join(name.split())


def test_what_happens_next_time_follows_the_ladder() -> None:
    forfeit_next = words(language="es", next_step="forfeit")
    reminder_next = words(next_step="reminder", offence=2)

    assert forfeit_next["next_time"] == (
        "La próxima vez, una sesión cancelada con tan poca antelación se dará por perdida."
    )
    assert reminder_next["next_time"] == (
        "Next time, a session cancelled this late will get a reminder like this one."
    )
    assert reminder_next["is_first_offence"] is False
    assert reminder_next["offence"] == 2


def test_practitioner_details_and_policy_are_passed_through() -> None:
    practitioner = ANA.model_copy(
        update={"booking_link": " https://cal.example/ana ", "signature": "Warmly,\nAna\n"}
    )
    policy = Policy(excerpt="  Please give me a day's notice.\n")

    result = words(policy, practitioner, prepaid_balance=None)

    assert result["booking_link"] == "https://cal.example/ana"
    assert result["signature"] == "Warmly,\nAna"
    assert result["policy_excerpt"] == "Please give me a day's notice."
    assert result["practitioner_name"] == "Ana Ruiz"
    assert result["practitioner_email"] == "ana@coach.example"
    assert result["prepaid_balance"] is None
    assert words()["prepaid_balance"] == 4


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", ["reminder", "forfeit"])
def test_sample_facts_are_a_realistic_late_cancellation(kind: str, language: str) -> None:
    sample = sample_facts(kind, language, NOW)

    assert sample.kind == kind
    assert sample.language == language
    assert sample.start > NOW
    assert sample.start.utcoffset() == timedelta(0)
    assert sample.cancelled_at == sample.start - sample.notice
    assert sample.notice == timedelta(hours=3, minutes=10)
    assert sample.offence == (2 if kind == "forfeit" else 1)
    local_time = notice_variables(sample, ANA, Policy())["session_time"]
    assert local_time == ("15:00" if language == "es" else "3:00\u202fPM")


def test_every_variable_is_documented() -> None:
    names = set(words())
    table = Path(__file__).parents[2].joinpath("docs", "template-variables.md")
    documented = set(re.findall(r"^\| `(\w+)` \|", table.read_text(encoding="utf-8"), re.M))
    docstring = worker.notices.wording.__doc__ or ""

    assert documented == names
    assert {n for n in names if f"`{n}`" not in docstring} == set()
