"""Every language a client reads has its notices, its policy text and its sign-off.

`language_problems` is what `fairwarning check` reports: a language with no templates (a
client would get the practitioner's language instead), and a language with templates whose
policy excerpt or signature, written per language, has no text in it (the client would read
that part in English).
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.clients import read_clients_csv
from worker.config import ClientEntry, Config
from worker.config.practice import PerLanguage, base_language, has_language
from worker.errors import FairWarningError
from worker.notices.templates import TemplateLibrary


@dataclass(frozen=True)
class LanguageProblem:
    """One gap, with the config key path to fix (`clients.2.language`, `policy.excerpt`)."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def language_problems(config: Config, library: TemplateLibrary) -> list[LanguageProblem]:
    """Every client language without templates, and every used language whose per-language
    policy excerpt or signature has no text in it."""
    available = ", ".join(library.languages())
    problems = []
    used: dict[str, list[str]] = {}
    practitioner = config.practitioner.language
    for key, language, who in _wanted_languages(config):
        chosen = library.template_language(language)
        if chosen is None:
            fallback = "" if key == "practitioner.language" else f" ({practitioner} is sent)"
            problems.append(
                LanguageProblem(
                    key,
                    f"there are no templates for language {language!r}{fallback}; available: "
                    f"{available}. Use one of those, or add a templates/{language}/ folder "
                    "(see README, Templates)",
                )
            )
            continue
        used.setdefault(language, []).append(who)
    for key, value in (
        ("policy.excerpt", config.policy.excerpt),
        ("policy.full_text", config.policy.full_text),
        ("practitioner.signature", config.practitioner.signature),
    ):
        problems += _missing_texts(key, value, used)
    return problems


def _wanted_languages(config: Config) -> list[tuple[str, str, str]]:
    """(key path, language, whose) for the practitioner and every client who names one."""
    own = config.practitioner.language
    found = [("practitioner.language", own, "clients with no language set")]
    for index, entry in enumerate(config.clients):
        if entry.language:
            found.append((f"clients.{index}.language", entry.language, entry.email))
    for entry in _csv_clients(config):
        if entry.language:
            found.append(("clients_csv", entry.language, entry.email))
    return found


def _csv_clients(config: Config) -> list[ClientEntry]:
    if config.clients_csv is None:
        return []
    try:
        return read_clients_csv(config.clients_csv)
    except FairWarningError:
        return []  # reported on its own by `check`


def _missing_texts(
    key: str, value: PerLanguage, used: dict[str, list[str]]
) -> list[LanguageProblem]:
    if isinstance(value, str):
        return []  # one text for every language: a one-language practice
    problems = []
    for language, who in sorted(used.items()):
        if not has_language(value, language):
            readers = ", ".join(who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
            fallback = "English" if "en" in value else "another language"
            problems.append(
                LanguageProblem(
                    key,
                    f"has no {language!r} text, so {readers} would read it in {fallback}; "
                    f'add {base_language(language)} = "…" to it',
                )
            )
    return problems
