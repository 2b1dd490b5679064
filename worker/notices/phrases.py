"""The words a notice needs that Babel has no data for, per language and register.

A template language takes its own entries first, then its base language's (`es-formal` →
`es`), then English's. Amounts of time are said the way people say them ("about 8 hours",
"less than a day"); languages without a table here get Babel's numbers ("8 heures").
"""

from __future__ import annotations

from worker.config.practice import base_language

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "after_start": "after it had started",
        "few_minutes": "only a few minutes",
        "minutes": "about {n} minutes",
        "an_hour": "about an hour",
        "hours": "about {n} hours",
        "under_a_day": "less than a day",
        "a_day": "about a day",
        "days": "about {n} days",
        "under_days": "less than {n} days",
        "under": "less than {span}",
        "at": "{day} at {time}",
        "zone": "{time} ({city} time)",
        "next_forfeit": "Next time, a session cancelled this late will be forfeited.",
        "next_reminder": "Next time, a session cancelled this late will get a reminder like "
        "this one.",
        "policy_continues": "The same policy applies to our future sessions.",
        "reminder": "reminder",
        "forfeit": "forfeiture notice",
        "welcome": "welcome",
        "session_reminder": "note before a session",
        "closure": "closure notice",
    },
    "es": {
        "after_start": "cuando ya había empezado",
        "few_minutes": "solo unos minutos",
        "minutes": "unos {n} minutos",
        "an_hour": "alrededor de una hora",
        "hours": "unas {n} horas",
        "under_a_day": "menos de un día",
        "a_day": "alrededor de un día",
        "days": "unos {n} días",
        "under_days": "menos de {n} días",
        "under": "menos de {span}",
        "at": "{day} a las {time}",
        "at_one": "{day} a la {time}",
        "zone": "{time} (hora de {city})",
        "next_forfeit": "La próxima vez que se cancele una sesión con tan poca antelación, se "
        "dará por perdida.",
        "next_reminder": "La próxima vez que se cancele una sesión con tan poca antelación, te "
        "enviaré un recordatorio como este.",
        "policy_continues": "Las mismas condiciones se aplican a nuestras próximas sesiones.",
        "reminder": "recordatorio",
        "forfeit": "aviso de sesión perdida",
        "welcome": "bienvenida",
        "session_reminder": "nota antes de una sesión",
        "closure": "aviso de cierre",
    },
    "es-formal": {
        "next_reminder": "La próxima vez que se cancele una sesión con tan poca antelación, le "
        "enviaré un recordatorio como este.",
    },
}


def phrases_for(language: str) -> dict[str, str]:
    """Every phrase for a template language: its own, then its base language's, then English."""
    found = dict(PHRASES["en"])
    found.update(PHRASES.get(base_language(language), {}))
    found.update(PHRASES.get(language.lower().replace("_", "-"), {}))
    return found


def has_phrases(language: str) -> bool:
    """Whether the language has its own phrases (else amounts of time come from Babel)."""
    return base_language(language) in PHRASES


def notice_name(kind: str, language: str = "en") -> str:
    """What a kind of notice is called, for the alert templates: "recordatorio"."""
    return phrases_for(language).get(kind, kind)
