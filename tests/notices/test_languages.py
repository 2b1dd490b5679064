"""Every language a client reads is complete, or the practitioner is told what is missing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.config import Config, json_schema, parse_config
from worker.errors import ConfigError, FairWarningError
from worker.notices.languages import LanguageProblem, language_problems
from worker.notices.preview import render_preview
from worker.notices.templates import TemplateLibrary

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PRACTICE = """\
[practitioner]
name = "Dana Rivera"
email = "dana@riveracoaching.example"
time_zone = "Europe/London"
locale = "en_GB"
{practitioner}

[policy]
{policy}

[[accounts]]
name = "main"
calendar = {{ provider = "local", path = "calendar" }}
sender = {{ provider = "file", folder = "outbox" }}

[[clients]]
email = "sam@example.org"
name = "Sam Taylor"

[[clients]]
email = "lucia@example.org"
name = "Lucía Fernández"
language = "es"
time_zone = "Europe/Madrid"

[[clients]]
email = "marta@example.org"
name = "Marta Gil"
language = "es-formal"
{clients}
"""
EXCERPTS = 'excerpt = { en = "24 hours or it is charged.", es = "24 horas o se cobra." }'
SIGNATURES = 'signature = { en = "Warmly,\\nDana", es = "Un abrazo,\\nDana" }'


def practice(
    tmp_path: Path, *, practitioner: str = SIGNATURES, policy: str = EXCERPTS, clients: str = ""
) -> Config:
    text = PRACTICE.format(practitioner=practitioner, policy=policy, clients=clients)
    config, warnings = parse_config(text, tmp_path / "config.toml")
    assert warnings == []
    return config


def test_a_complete_english_and_spanish_practice_has_no_language_problems(
    tmp_path: Path,
) -> None:
    assert language_problems(practice(tmp_path), TemplateLibrary()) == []


def test_one_text_for_every_language_is_a_one_language_practice_and_fine(
    tmp_path: Path,
) -> None:
    config = practice(tmp_path, practitioner='signature = "Dana"', policy='excerpt = "24h."')

    assert language_problems(config, TemplateLibrary()) == []


def test_a_spanish_client_without_a_spanish_excerpt_or_signature_is_reported(
    tmp_path: Path,
) -> None:
    config = practice(
        tmp_path,
        practitioner='signature = { en = "Warmly,\\nDana" }',
        policy='excerpt = { en = "24 hours or it is charged." }',
    )

    problems = language_problems(config, TemplateLibrary())

    assert [p.key for p in problems] == [
        "policy.excerpt",
        "policy.excerpt",
        "practitioner.signature",
        "practitioner.signature",
    ]
    assert str(problems[0]) == (
        "policy.excerpt: has no 'es' text, so lucia@example.org would read it in English; "
        'add es = "…" to it'
    )
    assert "has no 'es-formal' text, so marta@example.org would read it in English" in str(
        problems[1]
    )
    assert 'add es = "…"' in str(problems[1]), "one es text serves the formal variant too"


def test_a_language_without_templates_is_reported_with_the_ones_there_are(
    tmp_path: Path,
) -> None:
    config = practice(
        tmp_path,
        clients='\n[[clients]]\nemail = "jean@example.org"\nlanguage = "fr"\n\n'
        '[[clients]]\nemail = "sol@example.org"\nlanguage = "sp"\n',
    )

    problems = language_problems(config, TemplateLibrary())

    assert [p.key for p in problems] == ["clients.3.language", "clients.4.language"]
    assert problems[0] == LanguageProblem(
        "clients.3.language",
        "there are no templates for language 'fr' (en is sent); available: en, es, es-formal. "
        "Use one of those, or add a templates/fr/ folder (see README, Templates)",
    )
    assert "'sp'" in problems[1].message


def test_a_language_folder_of_your_own_counts(tmp_path: Path) -> None:
    config = practice(
        tmp_path, clients='\n[[clients]]\nemail = "jean@example.org"\nlanguage = "fr"\n'
    )
    for name in ("reminder.md.j2", "reminder.subject.j2", "forfeit.md.j2", "forfeit.subject.j2"):
        (tmp_path / "templates" / "fr").mkdir(parents=True, exist_ok=True)
        (tmp_path / "templates" / "fr" / name).write_text("Bonjour\n", encoding="utf-8")

    problems = language_problems(config, TemplateLibrary(user_dir=tmp_path / "templates"))

    assert [p.key for p in problems] == ["policy.excerpt", "practitioner.signature"]
    assert "has no 'fr' text, so jean@example.org would read it in English" in problems[0].message


def test_clients_in_the_csv_file_are_checked_too(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text("email,language\njean@example.org,fr\n", "utf-8")
    config = practice(tmp_path).model_copy(update={"clients_csv": tmp_path / "clients.csv"})

    problems = language_problems(config, TemplateLibrary())

    assert [p.key for p in problems] == ["clients_csv"]
    assert "'fr'" in problems[0].message


def test_the_practitioners_own_language_needs_templates_too(tmp_path: Path) -> None:
    config = practice(tmp_path, practitioner=f'{SIGNATURES}\nlanguage = "de"')

    problems = language_problems(config, TemplateLibrary())

    assert problems[0].key == "practitioner.language"
    assert "there are no templates for language 'de'; available: en, es, es-formal" in (
        problems[0].message
    )


def test_preview_refuses_a_language_without_templates_and_lists_the_others(
    tmp_path: Path,
) -> None:
    with pytest.raises(FairWarningError) as caught:
        render_preview(practice(tmp_path), "reminder", "fr", None, NOW)

    assert caught.value.message == (
        "there are no templates for language 'fr'; available: en, es, es-formal. Pick one of "
        "those with --lang, or add a templates/fr/ folder (see README, Templates)"
    )


@pytest.mark.parametrize(
    ("language", "greeting", "quote"),
    [
        ("es", "Hola, Lucía:", "«24 horas o se cobra.»"),
        ("es-MX", "Hola, Lucía:", "«24 horas o se cobra.»"),
        ("es-formal", "Hola, Lucía:", "«24 horas o se cobra.»"),
    ],
)
def test_preview_in_spanish_is_spanish_throughout(
    tmp_path: Path, language: str, greeting: str, quote: str
) -> None:
    message, html = render_preview(practice(tmp_path), "forfeit", language, None, NOW)

    assert greeting in message
    assert quote in message
    assert "Un abrazo,\nDana" in message
    assert "hora de Madrid" in message
    assert html is not None
    assert '<html lang="es">' in html


def test_preview_for_an_outlook_client_named_by_address_greets_them_plainly(
    tmp_path: Path,
) -> None:
    config = practice(
        tmp_path, clients='\n[[clients]]\nemail = "kim@example.org"\nname = "kim@example.org"\n'
    )

    message, _ = render_preview(config, "reminder", None, "kim@example.org", NOW)

    assert "To: kim@example.org\n" in message
    assert "\nHello,\n" in message
    assert "Hi kim" not in message


@pytest.mark.parametrize("locale", ["en_GB", "en-US", "es_MX", "es"])
def test_a_locale_babel_knows_is_accepted(tmp_path: Path, locale: str) -> None:
    text = PRACTICE.replace('locale = "en_GB"', f'locale = "{locale}"')
    config, _ = parse_config(text.format(practitioner="", policy="", clients=""), tmp_path / "c")

    assert config.practitioner.locale == locale.replace("-", "_")


def test_a_locale_babel_does_not_know_is_refused_with_examples(tmp_path: Path) -> None:
    text = PRACTICE.replace('locale = "en_GB"', 'locale = "english"')

    with pytest.raises(ConfigError) as caught:
        parse_config(text.format(practitioner="", policy="", clients=""), tmp_path / "c.toml")

    assert "practitioner.locale: 'english' is not a locale; use a language and country such as" in (
        caught.value.message
    )


def test_the_json_schema_says_excerpt_and_signature_may_be_per_language() -> None:
    schema = json_schema()["$defs"]
    practitioner, policy = schema["Practitioner"]["properties"], schema["Policy"]["properties"]

    for field in (practitioner["signature"], policy["excerpt"]):
        assert {"type": "object", "additionalProperties": {"type": "string"}} in field["anyOf"]
        assert "one per language" in field["description"]
    assert "en_GB" in practitioner["locale"]["description"]
