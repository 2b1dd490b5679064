"""The variables of a notice, in the client's language and time zone."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import worker.notices.wording
from worker.config import Policy, Practitioner
from worker.notices.courtesy import courtesy_variables, sample_courtesy
from worker.notices.wording import NoticeFacts, OtherSession, notice_variables, sample_facts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANA = Practitioner(name="Ana Ruiz", email="ana@coach.example", time_zone="Europe/Madrid")
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NY, MX, LISBON = "America/New_York", "America/Mexico_City", "Europe/Lisbon"


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


def test_notice_given_is_said_humanly_in_english_and_spanish() -> None:
    english = words(notice=timedelta(hours=7, minutes=50))
    spanish = words(language="es", notice=timedelta(hours=7, minutes=50))

    assert english["notice_given"] == "about 8 hours"
    assert spanish["notice_given"] == "unas 8 horas"
    assert english["notice_exact"] == "7 hours and 50 minutes"
    assert spanish["notice_exact"] == "7 horas y 50 minutos"
    assert (english["notice_hours"], english["notice_minutes"]) == (7, 50)
    assert english["cancelled_after_start"] is False


def test_session_start_is_shown_in_the_practitioners_locale_and_the_clients_zone() -> None:
    british = words(practitioner=ANA.model_copy(update={"time_zone": "Europe/London"}))
    madrid = words(language="es", time_zone="Europe/Madrid")
    american = ANA.model_copy(update={"locale": "en_US"})
    new_york = words(practitioner=american, language="en", time_zone=NY)

    assert british["session_start"] == "Tuesday 24 November 2026, 15:00"
    assert british["session_end"] == "Tuesday 24 November 2026, 15:50"
    assert british["session_date"] == "Tuesday 24 November 2026"
    assert british["session_day"] == "Tuesday 24 November"
    assert british["session_when"] == "Tuesday 24 November at 15:00"
    assert british["session_time"] == "15:00"
    assert british["cancelled_at"] == "Tuesday 24 November 2026, 11:50"
    assert madrid["session_start"] == "martes 24 de noviembre de 2026, 16:00"
    assert madrid["session_date"] == "martes 24 de noviembre de 2026"
    assert madrid["session_when"] == "martes 24 de noviembre a las 16:00"
    assert madrid["cancelled_at"] == "martes 24 de noviembre de 2026, 12:50"
    assert new_york["session_time"] == "10:00\u202fAM (New York time)"
    assert new_york["session_when"] == "Tuesday, November 24 at 10:00\u202fAM (New York time)"
    assert new_york["time_zone"] == NY


def test_en_gb_dates_read_as_the_issue_asks() -> None:
    start = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    dana = ANA.model_copy(update={"locale": "en_GB", "time_zone": "Europe/London"})

    result = words(practitioner=dana, start=start, end=start + timedelta(hours=1))

    assert result["session_start"] == "Wednesday 2 December 2026, 08:00"
    assert result["session_when"] == "Wednesday 2 December at 08:00"


def test_the_default_locale_is_the_language_in_the_country_of_the_practitioners_zone() -> None:
    london = ANA.model_copy(update={"time_zone": "Europe/London"})
    mexico = ANA.model_copy(update={"time_zone": "America/Mexico_City", "language": "es"})
    nowhere = ANA.model_copy(update={"time_zone": "UTC"})

    assert words(practitioner=london, time_zone="Europe/London")["session_time"] == "15:00"
    assert words(practitioner=mexico, language="es", time_zone=MX)["session_time"] == (
        "9:00\u202fa.m."
    )
    assert words(practitioner=nowhere, language="en", time_zone="UTC")["session_date"] == (
        "Tuesday, November 24, 2026"
    )


def test_a_client_in_another_language_gets_the_country_of_their_own_zone() -> None:
    mexico = words(language="es", time_zone=MX)
    madrid = words(language="es", time_zone="Europe/Madrid")

    assert (
        mexico["session_when"]
        == "martes 24 de noviembre a las 9:00\u202fa.m. (hora de Ciudad de México)"
    )
    assert madrid["session_time"] == "16:00"


def test_the_zone_is_named_only_when_the_clients_clock_differs() -> None:
    same_clock = words(time_zone="Europe/Madrid")
    lisbon_like_london = words(
        practitioner=ANA.model_copy(update={"time_zone": "Europe/London"}), time_zone=LISBON
    )
    madrid_for_london = words(
        practitioner=ANA.model_copy(update={"time_zone": "Europe/London"}),
        language="es",
        time_zone="Europe/Madrid",
    )

    assert same_clock["session_time"] == "16:00"
    assert lisbon_like_london["session_time"] == "15:00"
    assert madrid_for_london["session_time"] == "16:00 (hora de Madrid)"


@pytest.mark.parametrize(
    ("hour", "spoken"),
    [(1, "martes 24 de noviembre a la 1:00"), (13, "martes 24 de noviembre a las 13:00")],
)
def test_spanish_says_a_la_una_and_a_las_trece(hour: int, spoken: str) -> None:
    start = datetime(2026, 11, 24, hour, 0, tzinfo=UTC)

    result = words(
        practitioner=ANA.model_copy(update={"time_zone": "UTC"}),
        language="es",
        time_zone="UTC",
        start=start,
        end=start + timedelta(hours=1),
        cancelled_at=start - timedelta(hours=3),
    )

    assert result["session_when"] == spoken


def test_cancelling_after_the_session_started_gives_no_negative_numbers() -> None:
    late = words(notice=-timedelta(minutes=25), cancelled_at=START + timedelta(minutes=25))
    tardía = words(language="es", notice=-timedelta(minutes=25))

    assert late["notice_given"] == "after it had started"
    assert late["notice_exact"] == "after it had started"
    assert tardía["notice_given"] == "cuando ya había empezado"
    assert (late["notice_hours"], late["notice_minutes"]) == (0, 0)
    assert late["cancelled_after_start"] is True


def test_cancelling_at_the_last_moment_is_only_a_few_minutes() -> None:
    assert words(notice=timedelta(seconds=20))["notice_given"] == "only a few minutes"
    assert words(notice=timedelta(seconds=20))["notice_exact"] == "only a few minutes"
    assert words(notice=timedelta(0), language="es")["notice_given"] == "solo unos minutos"


@pytest.mark.parametrize(
    ("notice", "english", "spanish"),
    [
        (timedelta(minutes=4), "only a few minutes", "solo unos minutos"),
        (timedelta(minutes=22), "about 20 minutes", "unos 20 minutos"),
        (timedelta(minutes=58), "about an hour", "alrededor de una hora"),
        (timedelta(hours=1, minutes=35), "about 2 hours", "unas 2 horas"),
        (timedelta(hours=7, minutes=50), "about 8 hours", "unas 8 horas"),
        (timedelta(hours=19, minutes=10), "about 19 hours", "unas 19 horas"),
        (timedelta(hours=21), "less than a day", "menos de un día"),
        (timedelta(hours=23, minutes=59), "less than a day", "menos de un día"),
    ],
)
def test_notice_given_reads_naturally(notice: timedelta, english: str, spanish: str) -> None:
    assert words(notice=notice)["notice_given"] == english
    assert words(notice=notice, language="es")["notice_given"] == spanish


@pytest.mark.parametrize(
    ("notice", "english", "spanish"),
    [
        (timedelta(hours=30), "about a day", "alrededor de un día"),
        (timedelta(hours=46), "less than 2 days", "menos de 2 días"),
        (timedelta(days=3, hours=2), "about 3 days", "unos 3 días"),
    ],
)
def test_notice_under_a_longer_window_is_said_in_days(
    notice: timedelta, english: str, spanish: str
) -> None:
    policy = Policy(late_window="7d")

    assert words(policy, notice=notice)["notice_given"] == english
    assert words(policy, notice=notice, language="es")["notice_given"] == spanish


def test_rounding_never_claims_the_notice_the_policy_asked_for() -> None:
    policy = Policy(late_window="8h")

    assert words(policy, notice=timedelta(hours=7, minutes=50))["notice_given"] == (
        "less than 8 hours"
    )
    assert words(policy, notice=timedelta(hours=7, minutes=50), language="es")["notice_given"] == (
        "menos de 8 horas"
    )
    assert words(policy, notice=timedelta(hours=7))["notice_given"] == "about 7 hours"


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

    assert all_day["session_start"] == "Tuesday 24 November 2026"
    assert all_day["session_end"] == "Tuesday 24 November 2026"
    assert all_day["session_date"] == "Tuesday 24 November 2026"
    assert all_day["session_when"] == "Tuesday 24 November"
    assert all_day["session_time"] == ""
    assert two_days["session_end"] == "miércoles 25 de noviembre de 2026"


@pytest.mark.parametrize("language", ["xx", "not a language!", "", "zz-ZZ"])
def test_unknown_language_falls_back_to_english(language: str) -> None:
    result = words(language=language)

    assert result["notice_given"] == "about 3 hours"
    assert result["session_date"] == "Tuesday 24 November 2026"
    assert result["next_time"] == "Next time, a session cancelled this late will be forfeited."


def test_a_language_without_phrases_gets_babels_numbers_and_dates() -> None:
    french = words(language="fr", time_zone="Europe/Paris")

    assert french["notice_given"] == "3\u00a0heures"
    assert french["session_date"] == "mardi 24 novembre 2026"
    assert french["late_window"] == "24\u00a0heures"


def test_regional_spanish_is_spanish() -> None:
    mexico = words(language="es-MX", time_zone=MX)

    assert mexico["notice_given"] == "unas 3 horas"
    assert mexico["session_date"] == "martes 24 de noviembre de 2026"
    assert str(mexico["next_time"]).startswith("La próxima vez")


def test_formal_spanish_is_spanish_in_the_usted_register() -> None:
    formal = words(language="es-formal", time_zone="Europe/Madrid", next_step="reminder")

    assert formal["session_date"] == "martes 24 de noviembre de 2026"
    assert formal["notice_given"] == "unas 3 horas"
    assert "le enviaré" in str(formal["next_time"])
    assert "te enviaré" in str(words(language="es", next_step="reminder")["next_time"])


def test_an_unknown_time_zone_shows_utc_rather_than_failing() -> None:
    result = words(
        practitioner=ANA.model_copy(update={"time_zone": "UTC"}), time_zone="Mars/Olympus_Mons"
    )

    assert result["session_time"] == "15:00"


@pytest.mark.parametrize(
    ("name", "first"),
    [("Sam Taylor", "Sam"), ("  Lucía   Fernández ", "Lucía"), ("Prince", "Prince"), ("", "")],
)
def test_client_first_name_is_the_first_word(name: str, first: str) -> None:
    result = words(client_name=name)

    assert result["client_first_name"] == first
    assert result["client_name"] == " ".join(name.split())


@pytest.mark.parametrize(
    "name", ["sam@example.org", "SAM@EXAMPLE.ORG", " 'sam@example.org' ", "<sam@example.org>"]
)
def test_a_name_that_is_only_an_address_counts_as_no_name(name: str) -> None:
    result = words(client_name=name)

    assert result["client_first_name"] == ""
    assert result["client_name"] == ""


def test_a_name_with_an_address_in_it_is_still_a_name() -> None:
    assert words(client_name="Sam Taylor (sam@example.org)")["client_first_name"] == "Sam"


def test_what_happens_next_time_follows_the_ladder() -> None:
    forfeit_next = words(language="es", next_step="forfeit")
    reminder_next = words(next_step="reminder", offence=2)

    assert forfeit_next["next_time"] == (
        "La próxima vez que se cancele una sesión con tan poca antelación, se dará por perdida."
    )
    assert reminder_next["next_time"] == (
        "Next time, a session cancelled this late will get a reminder like this one."
    )
    assert reminder_next["is_first_offence"] is False
    assert reminder_next["offence"] == 2


@pytest.mark.parametrize("language", ["en", "es", "es-formal"])
def test_after_a_forfeit_next_time_says_the_policy_goes_on_not_another_threat(
    language: str,
) -> None:
    result = words(kind="forfeit", offence=2, next_step="forfeit", language=language)

    assert "forfeited" not in str(result["next_time"])
    assert "perdida" not in str(result["next_time"])
    assert result["next_time"] in (
        "The same policy applies to our future sessions.",
        "Las mismas condiciones se aplican a nuestras próximas sesiones.",
    )


def test_warned_on_is_the_date_of_the_earlier_notice_or_empty() -> None:
    warned = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    last_year = datetime(2025, 12, 20, 9, 30, tzinfo=UTC)
    british = ANA.model_copy(update={"locale": "en_GB"})

    assert words(practitioner=british, warned_at=warned)["warned_on"] == "3 November"
    assert words(language="es", warned_at=warned)["warned_on"] == "3 de noviembre"
    assert words(practitioner=british, warned_at=last_year)["warned_on"] == "20 December 2025"
    assert words()["warned_on"] == ""


def test_per_language_excerpt_and_signature_follow_the_clients_language() -> None:
    practitioner = ANA.model_copy(
        update={"signature": {"en": "Warmly,\nAna", "es": "Un abrazo,\nAna"}}
    )
    policy = Policy(excerpt={"en": "24 hours or it is charged.", "es": "24 horas o se cobra."})

    formal = words(policy, practitioner, language="es-formal")
    english = words(policy, practitioner)

    assert (formal["policy_excerpt"], formal["signature"]) == (
        "24 horas o se cobra.",
        "Un abrazo,\nAna",
    )
    assert (english["policy_excerpt"], english["signature"]) == (
        "24 hours or it is charged.",
        "Warmly,\nAna",
    )


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


@pytest.mark.parametrize("language", ["en", "es", "es-formal"])
@pytest.mark.parametrize("kind", ["reminder", "forfeit"])
def test_sample_facts_are_a_realistic_late_cancellation(kind: str, language: str) -> None:
    sample = sample_facts(kind, language, NOW)

    assert sample.kind == kind
    assert sample.language == language
    assert sample.start > NOW
    assert sample.start.utcoffset() == timedelta(0)
    assert sample.cancelled_at == sample.start - sample.notice
    assert sample.notice == timedelta(hours=7, minutes=50)
    assert sample.offence == (2 if kind == "forfeit" else 1)
    assert (sample.warned_at is not None) == (kind == "forfeit")
    local_time = notice_variables(sample, ANA, Policy())["session_time"]
    assert local_time == ("15:00" if language.startswith("es") else "15:00 (London time)")


def test_the_other_sessions_a_reminder_names_read_like_its_own_session() -> None:
    thursday = OtherSession(START + timedelta(days=2), START + timedelta(days=2, minutes=50))
    all_day = OtherSession(
        datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), all_day=True
    )
    british = ANA.model_copy(update={"time_zone": "Europe/London"})

    english = words(practitioner=british, other_sessions=(thursday, all_day))
    spanish = words(language="es", time_zone="Europe/Madrid", other_sessions=(thursday,))
    none = words()

    assert english["other_sessions"] == ["Thursday 26 November at 15:00", "Monday 30 November"]
    assert english["other_sessions_when"] == (
        "Thursday 26 November at 15:00 and Monday 30 November"
    )
    assert spanish["other_sessions"] == ["jueves 26 de noviembre a las 16:00"]
    assert spanish["other_sessions_when"] == "jueves 26 de noviembre a las 16:00"
    assert (none["other_sessions"], none["other_sessions_when"]) == ([], "")


def test_every_variable_is_documented() -> None:
    names = set(words())
    sample = sample_courtesy("welcome", "en", datetime(2026, 11, 23, tzinfo=UTC))
    courtesy = set(courtesy_variables(sample, ANA, Policy()))
    table = Path(__file__).parents[2].joinpath("docs", "template-variables.md")
    documented = set(re.findall(r"^\| `(\w+)` \|", table.read_text(encoding="utf-8"), re.M))
    docstring = worker.notices.wording.__doc__ or ""

    assert documented == names | courtesy
    assert {n for n in names if f"`{n}`" not in docstring} == set()
