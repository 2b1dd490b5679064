"""Golden renders of the courtesy notices (welcome, note before a session, closure) in every
shipped language, and of a reminder that says when the policy was sent. The files live with
the other golden notices (tests/notices/golden/); regenerate them the same way:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/notices/test_courtesy_golden.py
"""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.notices.test_golden import DANA, GOLDEN, LANGUAGES, POLICY, START, facts
from worker.config import Practitioner
from worker.notices.courtesy import CourtesyFacts, courtesy_variables
from worker.notices.templates import TemplateLibrary
from worker.notices.wording import notice_variables

FULL_POLICY = POLICY.model_copy(
    update={
        "full_text": {
            "en": "Sessions are prepaid and set aside for you alone.\nPlease move or cancel a "
            "session at least 24 hours before it begins; with less notice it is forfeited.",
            "es": "Las sesiones son prepagadas y se reservan solo para ti.\nCambia o cancela "
            "una sesión con al menos 24 horas de antelación; con menos aviso se pierde.",
        }
    }
)
WITH_DOCUMENT = DANA.model_copy(update={"policy_document": Path("Rivera Coaching policy.pdf")})
QUEUED = START - timedelta(days=2, hours=3)  # Monday 30 November 2026, 05:00 in London


def courtesy(kind: str, language: str, **changes: object) -> CourtesyFacts:
    spanish = language.startswith("es")
    base = CourtesyFacts(
        kind=kind,
        client_name="Lucía Fernández" if spanish else "Sam Taylor",
        client_email="lucia@example.org" if spanish else "sam@example.org",
        language=language,
        time_zone="Europe/Madrid" if spanish else "Europe/London",
        written_at=QUEUED,
        session_title="Coaching: Lucía" if spanish else "Coaching: Sam Taylor",
        start=None if kind == "closure" else START,
        end=None if kind == "closure" else START + timedelta(minutes=50),
        effective=date(2026, 12, 15) if kind == "closure" else None,
        reason=(
            "las cancelaciones de última hora de los últimos meses"
            if spanish
            else "the last-minute cancellations of the past few months"
        )
        if kind == "closure"
        else "",
        outstanding=("la factura de noviembre (60 €)" if spanish else "the November invoice (£60)")
        if kind == "closure"
        else "",
    )
    return dataclasses.replace(base, **changes)


NO_LINK = WITH_DOCUMENT.model_copy(
    update={"booking_link": "", "signature": "", "policy_document": None}
)
# (file name, language, kind, changes to the facts, practitioner)
COURTESY_CASES = [
    *[
        (kind, language, kind, {}, WITH_DOCUMENT)
        for language in LANGUAGES
        for kind in ("welcome", "session_reminder", "closure")
    ],
    ("welcome-by-hand-no-session-no-document-no-link", "en", "welcome", {"start": None}, NO_LINK),
    ("closure-nothing-outstanding", "en", "closure", {"outstanding": ""}, NO_LINK),
    (
        "session_reminder-client-in-new-york",
        "en",
        "session_reminder",
        {"time_zone": "America/New_York"},
        WITH_DOCUMENT,
    ),
]
SENT_ON = datetime(2026, 3, 3, 10, 0, tzinfo=START.tzinfo)
POLICY_SENT_CASES = [("reminder-after-the-welcome", language) for language in LANGUAGES]


def golden_files() -> set[str]:
    """Every golden file these tests own, relative to GOLDEN."""
    names = [(name, language) for name, language, *_ in COURTESY_CASES] + POLICY_SENT_CASES
    return {
        f"{language}/{name}{suffix}" for name, language in names for suffix in (".txt", ".html")
    }


def _compare(name: str, language: str, subject: str, text: str, html: str | None) -> None:
    assert html is not None
    for suffix, body in ((".txt", f"Subject: {subject}\n\n{text}"), (".html", html)):
        golden = GOLDEN / language / f"{name}{suffix}"
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(body, encoding="utf-8")
        assert golden.is_file(), f"no golden file {golden}; run with UPDATE_GOLDEN=1"
        assert body == golden.read_text(encoding="utf-8"), (
            f"{golden} differs; if the change is intended, run UPDATE_GOLDEN=1 "
            ".venv/bin/pytest tests/notices/test_courtesy_golden.py and review the diff"
        )


@pytest.mark.parametrize(
    ("name", "language", "kind", "changes", "who"),
    COURTESY_CASES,
    ids=[f"{language}/{name}" for name, language, *_ in COURTESY_CASES],
)
def test_the_courtesy_notice_is_exactly_its_golden_render(
    name: str, language: str, kind: str, changes: dict[str, object], who: Practitioner
) -> None:
    variables = courtesy_variables(courtesy(kind, language, **changes), who, FULL_POLICY)
    notice = TemplateLibrary().render(kind, language, variables)
    _compare(name, language, notice.subject, notice.text, notice.html)


@pytest.mark.parametrize(("name", "language"), POLICY_SENT_CASES)
def test_a_reminder_after_the_welcome_says_when_the_policy_was_sent(
    name: str, language: str
) -> None:
    reminder = facts("reminder", language, policy_sent_at=SENT_ON)
    notice = TemplateLibrary().render(
        "reminder", language, notice_variables(reminder, DANA, POLICY)
    )
    _compare(name, language, notice.subject, notice.text, notice.html)
    said = {"en": "which I sent you on 3 March and which asks", "es": "que te envié el 3 de marzo"}
    assert said.get(language, "que le envié el 3 de marzo") in notice.text


def test_the_welcome_names_the_attached_agreement_and_quotes_the_policy_in_full() -> None:
    text = (GOLDEN / "en" / "welcome.txt").read_text(encoding="utf-8")
    assert "attached (Rivera Coaching policy.pdf)" in text
    assert "Sessions are prepaid and set aside for you alone." in text
    by_hand = (GOLDEN / "en" / "welcome-by-hand-no-session-no-document-no-link.txt").read_text(
        encoding="utf-8"
    )
    assert "thank you for booking a session with me." in by_hand
    assert "attached" not in by_hand
