"""Golden renders: every packaged notice in every shipped language, text and HTML, exactly.

The files under tests/notices/golden/ are what clients receive. A change to a template, the
wording or the layout shows up here as a diff to read before it ships. After an intended
change, regenerate them and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/notices/test_golden.py
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from worker.config import Policy, Practitioner
from worker.model import Money
from worker.notices.templates import KINDS, TemplateLibrary
from worker.notices.wording import NoticeFacts, OtherSession, notice_variables

GOLDEN = Path(__file__).parent / "golden"
LANGUAGES = ("en", "es", "es-formal")
START = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 2 December 2026, 08:00 in London
DANA = Practitioner(
    name="Dana Rivera",
    email="dana@riveracoaching.example",
    time_zone="Europe/London",
    locale="en_GB",
    booking_link="https://riveracoaching.example/book",
    signature={
        "en": "Warmly,\nDana Rivera",
        "es": "Un abrazo,\nDana Rivera",
        "es-formal": "Un cordial saludo,\nDana Rivera",
    },
)
POLICY = Policy(
    excerpt={
        "en": "Sessions cancelled or moved with less than 24 hours' notice are forfeited.",
        "es": "Las sesiones canceladas o cambiadas con menos de 24 horas de antelación se pierden.",
    }
)


def facts(kind: str, language: str, **changes: object) -> NoticeFacts:
    spanish = language.startswith("es")
    base = NoticeFacts(
        kind=kind,
        client_name="Lucía Fernández" if spanish else "Sam Taylor",
        client_email="lucia@example.org" if spanish else "sam@example.org",
        language=language,
        time_zone="Europe/Madrid" if spanish else "Europe/London",
        session_title="Coaching: Lucía" if spanish else "Coaching: Sam Taylor",
        start=START,
        end=START + timedelta(minutes=50),
        all_day=False,
        cancelled_at=START - timedelta(hours=7, minutes=50),
        notice=timedelta(hours=7, minutes=50),
        offence=2 if kind == "forfeit" else 1,
        next_step="forfeit",
        prepaid_balance=3 if kind == "forfeit" else 4,
        warned_at=datetime(2026, 11, 11, 10, 0, tzinfo=UTC) if kind == "forfeit" else None,
    )
    return dataclasses.replace(base, **changes)


SIXTY_GBP, SIXTY_EUR = Money(Decimal("60.00"), "GBP"), Money(Decimal("60.00"), "EUR")

# A second late decline made before the reminder went out: one reminder names both sessions.
FRIDAY = OtherSession(START + timedelta(days=2, hours=1), START + timedelta(days=2, hours=2))
MONDAY = OtherSession(START + timedelta(days=5, hours=1), START + timedelta(days=5, hours=2))

FREE = tuple(START + timedelta(days=1, hours=h) for h in (6, 7, 25.5))

# (file name, language, kind, changes to the facts, practitioner)
CASES = [
    *[(kind, language, kind, {}, DANA) for language in LANGUAGES for kind in KINDS],
    *[
        ("reminder-outlook-name-is-address", language, "reminder", {"client_name": email}, DANA)
        for language, email in (
            ("en", "sam@example.org"),
            ("es", "lucia@example.org"),
            ("es-formal", "lucia@example.org"),
        )
    ],
    *[
        (
            "forfeit-not-warned-no-balance-no-link",
            language,
            "forfeit",
            {"warned_at": None, "prepaid_balance": None},
            DANA.model_copy(update={"booking_link": "", "signature": ""}),
        )
        for language in LANGUAGES
    ],
    *[
        ("reminder-two-sessions", language, "reminder", {"other_sessions": (FRIDAY,)}, DANA)
        for language in LANGUAGES
    ],
    (
        "reminder-three-sessions",
        "en",
        "reminder",
        {"other_sessions": (FRIDAY, MONDAY)},
        DANA,
    ),
    (
        "reminder-after-the-start-last-session",
        "en",
        "reminder",
        {"notice": -timedelta(minutes=20), "prepaid_balance": 0},
        DANA,
    ),
    # A forfeit spending no prepaid session: the fee in the client's locale, the payment link.
    *[
        (
            "forfeit-fee-payment-link",
            language,
            "forfeit",
            {"prepaid_balance": None, "fee": SIXTY_GBP if language == "en" else SIXTY_EUR},
            DANA.model_copy(update={"payment_link": "https://pay.example/dana"}),
        )
        for language in LANGUAGES
    ],
    ("forfeit-fee-package-empty", "en", "forfeit", {"prepaid_balance": 0, "fee": SIXTY_GBP}, DANA),
    (
        "reminder-client-in-new-york",
        "en",
        "reminder",
        {"time_zone": "America/New_York", "notice": timedelta(hours=21)},
        DANA,
    ),
    # Free times found at delivery (pipeline/free_times.py): Thursday 3 December in London.
    *[
        (f"{kind}-free-times", language, kind, {"free_times": FREE}, DANA)
        for language in LANGUAGES
        for kind in KINDS
    ],
    (
        "reminder-free-times-client-in-new-york",
        "en",
        "reminder",
        {"time_zone": "America/New_York", "free_times": FREE},
        DANA,
    ),
]


def rendered(name: str, language: str, kind: str, changes: dict[str, object], who: Practitioner):
    variables = notice_variables(facts(kind, language, **changes), who, POLICY)
    notice = TemplateLibrary().render(kind, language, variables)
    assert notice.html is not None
    return f"Subject: {notice.subject}\n\n{notice.text}", notice.html


@pytest.mark.parametrize(
    ("name", "language", "kind", "changes", "who"),
    CASES,
    ids=[f"{language}/{name}" for name, language, *_ in CASES],
)
def test_the_notice_is_exactly_its_golden_render(
    name: str, language: str, kind: str, changes: dict[str, object], who: Practitioner
) -> None:
    text, html = rendered(name, language, kind, changes, who)
    for suffix, body in ((".txt", text), (".html", html)):
        golden = GOLDEN / language / f"{name}{suffix}"
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(body, encoding="utf-8")
        assert golden.is_file(), f"no golden file {golden}; run with UPDATE_GOLDEN=1"
        assert body == golden.read_text(encoding="utf-8"), (
            f"{golden} differs; if the change is intended, run "
            "UPDATE_GOLDEN=1 .venv/bin/pytest tests/notices/test_golden.py and review the diff"
        )


def test_every_golden_file_belongs_to_a_case() -> None:
    from tests.notices.test_courtesy_golden import golden_files as courtesy_golden_files

    expected = {
        f"{language}/{name}{suffix}" for name, language, *_ in CASES for suffix in (".txt", ".html")
    }
    expected |= courtesy_golden_files()  # tests/notices/test_courtesy_golden.py
    found = {
        str(path.relative_to(GOLDEN))
        for path in GOLDEN.rglob("*")
        if path.suffix in (".txt", ".html")
    }

    assert found == expected


def test_the_outlook_client_is_greeted_without_their_address() -> None:
    for language in LANGUAGES:
        text = (GOLDEN / language / "reminder-outlook-name-is-address.txt").read_text("utf-8")
        body = text.split("\n\n", 1)[1]
        assert body.startswith("Hello,\n" if language == "en" else "Hola:\n")
        assert "@example.org" not in body
