"""Who is a client, and what counts as an emergency, in the practitioner's words.

Maria sees Ana (in her client list). Lucía is a colleague at the clinic; Maria also has a
personal mailbox. Tom is a prospect who booked a free intro call and is in no list.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.factories import (
    ANA,
    DAY,
    HOUR,
    client,
    decline,
    earlier,
    fact,
    maria,
    person,
    policy,
    practice,
    session,
)
from worker.config import Policy, Practitioner
from worker.model import Decision, FactKind, Verdict
from worker.pipeline.rules import judge

LUCIA = "lucia@clinic.example"
PERSONAL = "maria.personal@mail.example"
TOM = "tom@prospect.example"
LATE_3H10 = "cancelled 3 h 10 min before the session, inside the 24 h late window"


def only(decisions: list[Decision]) -> Decision:
    assert len(decisions) == 1, decisions
    return decisions[0]


# --- policy.judge -----------------------------------------------------------------------------


def test_with_judge_directory_a_prospect_declining_late_is_recorded_and_nothing_more() -> None:
    intro = session(title="Free intro call", attendees=[maria(), person(TOM, "Tom")])
    listed_only = practice(client(), policy=policy(judge="directory"))

    decided = only(judge(decline(intro, TOM), listed_only, {}))

    assert decided.verdict is Verdict.IGNORE
    assert decided.counts is False
    assert decided.client is not None
    assert decided.client.email == TOM
    assert decided.reasons == ("not in your client list (policy.judge = directory)",)


def test_with_judge_directory_a_listed_client_is_judged_as_usual() -> None:
    listed_only = practice(client(), policy=policy(judge="directory"))

    decided = only(judge(decline(session()), listed_only, {}))

    assert decided.verdict is Verdict.REMINDER


def test_by_default_everyone_invited_is_judged() -> None:
    intro = session(title="Free intro call", attendees=[maria(), person(TOM, "Tom")])

    decided = only(judge(decline(intro, TOM), practice(client()), {}))

    assert decided.verdict is Verdict.REMINDER


def test_with_judge_directory_a_group_session_judges_only_the_listed_client() -> None:
    group = session(attendees=[maria(), person(ANA, "Ana Ruiz"), person(TOM)])
    setup = practice(client(), policy=policy(judge="directory", own_deletion="client"))

    decisions = {
        d.client.email: d for d in judge(fact(FactKind.DELETED, group), setup, {}) if d.client
    }

    assert decisions[ANA].verdict is Verdict.REMINDER
    assert decisions[TOM].verdict is Verdict.IGNORE


# --- Organisers who are not clients -----------------------------------------------------------


def organised_by(organiser: str, **fields: object) -> dict[str, object]:
    return {
        "organizer_email": organiser,
        "organizer_is_practitioner": False,
        "attendees": [maria(), person(ANA, "Ana Ruiz")],
        **fields,
    }


@pytest.mark.parametrize(
    ("organiser", "settings", "others", "who"),
    [
        (LUCIA, {"colleagues": [LUCIA]}, (), f"your colleague {LUCIA}"),
        (PERSONAL, {}, (PERSONAL,), f"your other address {PERSONAL}"),
        (LUCIA, {"ignored_domains": ["clinic.example"]}, (), f"{LUCIA}, at an ignored domain"),
    ],
    ids=["colleague", "other-mailbox", "ignored-domain"],
)
def test_a_session_a_non_client_organised_and_cancelled_is_nobodys_late_cancellation(
    organiser: str, settings: dict[str, object], others: tuple[str, ...], who: str
) -> None:
    theirs = session(**organised_by(organiser))
    setup = practice(client(), policy=policy(**settings), other_addresses=others)

    decided = only(
        judge(fact(FactKind.CANCELLED_BY_CLIENT_ORGANIZER, theirs), setup, {ANA: earlier(10 * DAY)})
    )

    assert decided.verdict is Verdict.IGNORE, "not review, not a notice"
    assert decided.counts is False
    assert decided.reasons == (
        f"organised and cancelled by {who}, not by a client: nobody's late cancellation",
    )


def test_a_colleague_organised_session_marked_lc_is_still_the_clients_cancellation() -> None:
    marked = session(**organised_by(LUCIA, title="LC Coaching with Ana"))
    setup = practice(client(), policy=policy(colleagues=[LUCIA]))

    decided = only(judge(fact(FactKind.CANCELLED_BY_CLIENT_ORGANIZER, marked), setup, {}))

    assert decided.verdict is Verdict.REMINDER
    assert decided.reasons[1] == "your calendar entry marks it as cancelled by the client"


def test_an_organiser_the_configuration_cannot_place_still_waits_for_review() -> None:
    nameless = session(**organised_by(""))

    decided = only(
        judge(fact(FactKind.CANCELLED_BY_CLIENT_ORGANIZER, nameless), practice(client()), {})
    )

    assert decided.verdict is Verdict.REVIEW
    assert decided.reasons == (
        LATE_3H10,
        "cancelled by its organiser someone else, who is not one of your clients",
    )


def test_a_colleague_is_never_a_client_even_when_invited() -> None:
    supervision = session(title="Case review", attendees=[maria(), person(LUCIA, "Lucía")])
    setup = practice(client(), policy=policy(colleagues=["Lucia@Clinic.Example"]))

    decided = only(judge(decline(supervision, LUCIA), setup, {}))

    assert decided.verdict is Verdict.IGNORE
    assert decided.reasons == ("no client is invited to this session",)


def test_colleagues_and_other_addresses_must_be_addresses() -> None:
    assert policy(colleagues=[" Lucia@Clinic.Example "]).colleagues == (LUCIA,)
    with pytest.raises(ValidationError, match="'Lucía' is not an email address"):
        Policy.model_validate({"colleagues": ["Lucía"]})
    with pytest.raises(ValidationError, match="is not an email address"):
        Practitioner.model_validate(
            {"name": "Maria", "email": "maria@practice.example", "other_addresses": ["me"]}
        )


# --- Emergency words are whole words ------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "word"),
    [
        ("I'm ill, so sorry", "ill"),
        ("Feeling unwell today", "unwell"),
        ("My dad was hospitalized last night", "hospitalized"),
        ("Stuck in A&E with my son", "A&E"),
        ("Covid-19 positive, sorry!", "covid"),
        ("Lo siento, estoy enferma desde ayer", "enferma"),
        ("Mis hijos están enfermos", "enfermos"),
        ("Tengo que ir a urgencias", "urgencias"),
    ],
)
def test_the_shipped_emergency_words_catch_the_forms_people_write(comment: str, word: str) -> None:
    decided = only(judge(decline(session(), comment=comment), practice(client()), {}))

    assert decided.verdict is Verdict.REVIEW
    assert decided.reasons[-1] == f"their note mentions '{word}', which may be an emergency"


@pytest.mark.parametrize(
    "comment",
    [
        "Flying back from Illinois, sorry",
        "Work is killing me this week",
        "Soy enfermera y me han cambiado el turno",
        "I'm at the hospitality fair",
    ],
)
def test_an_emergency_word_inside_another_word_is_not_an_emergency(comment: str) -> None:
    decided = only(judge(decline(session(), comment=comment), practice(client()), {}))

    assert decided.verdict is Verdict.REMINDER


def test_an_inflection_matches_only_when_the_practitioner_lists_it() -> None:
    hospital_only = practice(client(), policy=policy(emergency_words={"en": ["hospital"]}))
    note = "She was hospitalised on Sunday"

    unlisted = only(judge(decline(session(), comment=note), hospital_only, {}))
    plain = only(judge(decline(session(), comment="in hospital"), hospital_only, {}))

    assert unlisted.verdict is Verdict.REMINDER
    assert plain.verdict is Verdict.REVIEW


def test_an_emergency_word_on_time_changes_nothing() -> None:
    decided = only(
        judge(decline(session(starts_in=3 * DAY), comment="I'm ill"), practice(client()), {})
    )

    assert decided.verdict is Verdict.IGNORE
    assert decided.notice == 3 * DAY


def test_an_emergency_word_after_the_session_is_still_noticed() -> None:
    started = session(starts_in=-HOUR / 2)

    decided = only(judge(decline(started, comment="sick"), practice(client()), {}))

    assert decided.verdict is Verdict.REVIEW
