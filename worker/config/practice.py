"""The practice's sections: who the practitioner is, their policy, clients and alerts."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Literal

from babel import Locale, UnknownLocaleError
from pydantic import Field, field_validator

from worker.addresses import is_address
from worker.config.fields import Duration, Section, check_zone
from worker.config.hours import check_working_hours
from worker.config.money import Fee

PerLanguage = str | dict[str, str]


def for_language(value: PerLanguage, language: str) -> str:
    """A per-language text in `language` (or its base: es-MX, es-formal → es), else English,
    else any; a plain string is the same in every language."""
    if isinstance(value, str):
        return value
    return (
        value.get(language)
        or value.get(base_language(language))
        or value.get("en")
        or next(iter(value.values()), "")
    )


def has_language(value: PerLanguage, language: str) -> bool:
    """Whether a text is written for `language` (or its base); a plain string counts as yes."""
    return isinstance(value, str) or language in value or base_language(language) in value


def base_language(language: str) -> str:
    """The language without region or variant: "es-MX", "es_ES", "es-formal" → "es"."""
    return language.replace("-", "_").split("_")[0].lower()


class Practitioner(Section):
    """Who the notices come from."""

    name: str = Field(description="Your name as clients know it; used in From and the signature.")
    email: str = Field(description="Your address; notices are sent from it.")
    time_zone: str = Field(
        "UTC", description="IANA zone for all-day events, quiet hours and unknown client zones."
    )
    language: str = Field("en", description="Template language for clients with none set.")
    locale: str | None = Field(
        None,
        description="How dates and times are written, e.g. 'en_GB' (Wednesday 2 December "
        "2026, 08:00), 'en_US', 'es_ES', 'es_MX'. Default: your language in your time zone's "
        "country. Clients in another language get theirs.",
        examples=["en_GB", "en_US", "es_ES", "es_MX"],
    )
    booking_link: str = Field("", description="Where clients rebook or reschedule.")
    payment_link: str = Field(
        "",
        description="Where a client pays a forfeited session's fee (Fair Warning charges no "
        "card); quoted in a forfeit that states a fee.",
    )
    signature: PerLanguage = Field(
        "",
        description="Closing lines of every notice; one text, or one per language "
        "(e.g. {en = 'Warmly,\\nAna', es = 'Un abrazo,\\nAna'}). Empty: a sign-off with your name.",
    )
    reply_to: str = Field("", description="Reply-To address, if not your own.")
    copy_to_self: bool = Field(False, description="Send yourself a copy (Bcc) of every notice.")
    policy_document: Path | None = Field(
        None,
        description="A file (e.g. your policy agreement as a PDF, at most 10 MB) attached to "
        "the welcome notice; relative to the config file.",
    )
    other_addresses: tuple[str, ...] = Field(
        (),
        description="Your other mailboxes (a personal or second work address): never clients. "
        "A session one of them organised and then cancelled is nobody's late cancellation.",
    )
    working_hours: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="When sessions can be booked, per weekday in your time zone, e.g. "
        "{mon = ['09:00-12:30', '14:00-18:00'], tue = ['09:00-17:00']}. When set, reminders "
        "and forfeits offer your next free times (policy.offer_slots). Unlisted days are off.",
    )

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return check_working_hours(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(Locale.parse(value.strip().replace("-", "_")))
        except (UnknownLocaleError, ValueError, TypeError):
            raise ValueError(
                f"{value!r} is not a locale; use a language and country such as 'en_GB', "
                "'en_US', 'es_ES' or 'es_MX'"
            ) from None

    def signature_for(self, language: str) -> str:
        """The closing lines in `language` (or its base), else English, else any."""
        return for_language(self.signature, language)

    @field_validator("email")
    @classmethod
    def _looks_like_address(cls, value: str) -> str:
        if not is_address(value):
            raise ValueError(f"{value!r} is not an email address")
        return value.strip()

    @field_validator("other_addresses")
    @classmethod
    def _other_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return addresses(value)


def addresses(values: tuple[str, ...]) -> tuple[str, ...]:
    """Plain addresses, lower-cased; anything else is refused with the value named."""
    for value in values:
        if not is_address(value):
            raise ValueError(f"{value!r} is not an email address; write it as name@domain")
    return tuple(v.strip().lower() for v in values)


class QuietHours(Section):
    """A nightly window in which no notice is sent; it waits for the morning."""

    start: time = Field(description="When quiet hours begin, e.g. '21:00'.")
    end: time = Field(description="When they end, e.g. '08:00'.")


Step = Literal["reminder", "forfeit"]

# Whole words, so every form that should be caught is listed ("ill" is not "Illinois").
EMERGENCY_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "emergency",
        "emergencies",
        "hospital",
        "hospitalised",
        "hospitalized",
        "A&E",
        "ambulance",
        "ill",
        "illness",
        "sick",
        "unwell",
        "flu",
        "covid",
        "fever",
        "accident",
        "injured",
        "injury",
        "bereavement",
        "funeral",
        "passed away",
    ),
    "es": (
        "urgencia",
        "urgencias",
        "emergencia",
        "emergencias",
        "hospital",
        "hospitalizado",
        "hospitalizada",
        "ambulancia",
        "enfermo",
        "enferma",
        "enfermos",
        "enfermas",
        "enfermedad",
        "gripe",
        "covid",
        "fiebre",
        "accidente",
        "herido",
        "herida",
        "funeral",
        "entierro",
        "velatorio",
        "fallecimiento",
        "falleció",
    ),
}


class Policy(Section):
    """The cancellation policy and how the worker applies it."""

    late_window: Duration = Field(
        timedelta(hours=24), description="Cancelling with less notice than this is late."
    )
    steps: tuple[Step, ...] = Field(
        ("reminder", "forfeit"),
        description="Notice for a late cancellation when 0, 1, … earlier notices had reached "
        "the client before it (one that did not go out is no warning); the last one repeats.",
    )
    lookback: Duration = Field(
        timedelta(days=365), description="Only late cancellations this recent count."
    )
    hold: Duration = Field(
        timedelta(minutes=10),
        description="Undo window: a notice waits this long; a restored session drops it.",
    )
    quiet_hours: QuietHours | None = Field(
        None, description="No notices in this window of the client's (or your) time zone."
    )
    own_deletion: Literal["review", "client", "ignore"] = Field(
        "review",
        description="What your own deletion of a client session means: ask you (review), "
        "treat it as the client's cancellation (client), or nothing (ignore).",
    )
    late_moves_count: bool = Field(False, description="A late reschedule counts as a cancellation.")
    markers: tuple[str, ...] = Field(
        ("LC", "late cancel", "cancelled by client"),
        description="Words in a title or description that record a client's cancellation.",
    )
    excerpt: PerLanguage = Field(
        "Sessions cancelled with less than 24 hours' notice are charged in full.",
        description="The policy text quoted in every notice; one text, or one per language "
        "(e.g. {en = '…', es = '…'}).",
    )
    emergency_words: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(EMERGENCY_WORDS),
        description="Per language: words in a decline comment (or a marked entry's "
        "description) that send the case to review. Whole words, any case: list every form "
        "you want caught ('ill' never matches 'Illinois'; 'hospitalised' needs its own entry).",
    )
    mode: Literal["auto", "review", "drafts", "dry-run"] = Field(
        "review",
        description="auto sends notices; review waits for `fairwarning approve`; drafts puts "
        "each notice in your mailbox's Drafts folder for you to send; dry-run only writes "
        "them to the state directory.",
    )
    ignored_domains: tuple[str, ...] = Field(
        (), description="Attendees at these domains are never clients (colleagues, rooms)."
    )
    colleagues: tuple[str, ...] = Field(
        (),
        description="Addresses of colleagues: never clients. A session a colleague organised "
        "and then cancelled is nobody's late cancellation.",
    )
    judge: Literal["invited", "directory"] = Field(
        "invited",
        description="Whose cancellations are judged: everyone invited who is not you, a "
        "colleague or a room (invited), or only clients in your client list (directory).",
    )
    title_include: tuple[str, ...] = Field(
        (), description="If set, only sessions whose title contains one of these are judged."
    )
    title_exclude: tuple[str, ...] = Field(
        (), description="Sessions whose title contains one of these are never judged."
    )

    welcome: bool = Field(
        False,
        description="Send each new client a welcome with your policy in full (and "
        "practitioner.policy_document) when first seen with an upcoming session.",
    )
    full_text: PerLanguage = Field(
        "",
        description="Your policy in full, for the welcome notice; one text, or one per "
        "language. Empty: the welcome quotes policy.excerpt.",
    )
    session_reminder: Duration | None = Field(
        None,
        description="Send a short note this long before each client session (e.g. '48h') "
        "saying until when it can be moved free of charge. Off when not set.",
    )
    fee: Fee | None = Field(
        None,
        description="What a forfeited session costs a client with no prepaid session to spend, "
        'e.g. { amount = "60.00", currency = "GBP" }; a client\'s own fee overrides it.',
    )
    offer_slots: int = Field(
        3,
        ge=0,
        description="How many free times (from practitioner.working_hours) a reminder or "
        "forfeit offers (0: none, only the booking link).",
    )
    offer_within: Duration = Field(
        timedelta(days=14), description="Free times are offered only this far ahead."
    )
    suggest_closure_after: int = Field(
        3,
        ge=0,
        description="Forfeits within the lookback after which `review` and the digest suggest "
        "ending the working relationship (0: never).",
    )

    def full_text_for(self, language: str) -> str:
        """The policy in full in `language`, else the excerpt (see `excerpt_for`)."""
        return for_language(self.full_text, language).strip() or self.excerpt_for(language)

    def excerpt_for(self, language: str) -> str:
        """The policy text in `language` (or its base, e.g. es-MX → es), else English, else any."""
        return for_language(self.excerpt, language)

    @field_validator("colleagues")
    @classmethod
    def _colleagues(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return addresses(value)

    @field_validator("steps")
    @classmethod
    def _at_least_one_step(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one step, e.g. ['reminder', 'forfeit']")
        return value


class ClientEntry(Section):
    """One client in the directory."""

    email: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    language: str | None = None
    time_zone: str | None = None
    exempt: bool = False
    prepaid_balance: int | None = Field(None, ge=0)
    fee: Fee | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)
