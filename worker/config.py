"""The configuration file, parsed once into frozen, typed models.

Problems are gathered and reported together, each with its key path and, where it can be
found, its line; unknown keys are warned about rather than rejected, so a typo never stops
the service but is never silent either.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from worker.durations import format_duration, parse_duration
from worker.errors import ConfigError


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    Field(json_schema_extra={"type": "string", "examples": ["24h", "10m", "365d"]}),
]


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone; use an IANA name such as 'Europe/London'"
        ) from None
    return name


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class Practitioner(Section):
    """Who the notices come from."""

    name: str = Field(description="Your name as clients know it; used in From and the signature.")
    email: str = Field(description="Your address; notices are sent from it.")
    time_zone: str = Field(
        "UTC", description="IANA zone for all-day events, quiet hours and unknown client zones."
    )
    language: str = Field("en", description="Template language for clients with none set.")
    booking_link: str = Field("", description="Where clients rebook or reschedule.")
    signature: str = Field("", description="Closing lines of every notice.")
    reply_to: str = Field("", description="Reply-To address, if not your own.")
    copy_to_self: bool = Field(False, description="Send yourself a copy (Bcc) of every notice.")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("email")
    @classmethod
    def _looks_like_address(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n<>, "):
            raise ValueError(f"{value!r} is not an email address")
        return value.strip()


class QuietHours(Section):
    """A nightly window in which no notice is sent; it waits for the morning."""

    start: time = Field(description="When quiet hours begin, e.g. '21:00'.")
    end: time = Field(description="When they end, e.g. '08:00'.")


Step = Literal["reminder", "forfeit"]


class Policy(Section):
    """The cancellation policy and how the worker applies it."""

    late_window: Duration = Field(
        timedelta(hours=24), description="Cancelling with less notice than this is late."
    )
    steps: tuple[Step, ...] = Field(
        ("reminder", "forfeit"),
        description="Notice for the 1st, 2nd, … late cancellation; the last one repeats.",
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
    excerpt: str | dict[str, str] = Field(
        "Sessions cancelled with less than 24 hours' notice are charged in full.",
        description="The policy text quoted in every notice; one text, or one per language "
        "(e.g. {en = '…', es = '…'}).",
    )
    emergency_words: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {
            "en": ("hospital", "emergency", "ill", "sick", "funeral", "accident", "bereavement"),
            "es": (
                "hospital",
                "urgencia",
                "emergencia",
                "enfermo",
                "enferma",
                "funeral",
                "accidente",
                "fallecimiento",
            ),
        },
        description="Per language: words in a decline comment that send the case to review.",
    )
    mode: Literal["auto", "review", "dry-run"] = Field(
        "review",
        description="auto sends notices; review waits for `fairwarning approve`; dry-run only "
        "writes them to the state directory.",
    )
    ignored_domains: tuple[str, ...] = Field(
        (), description="Attendees at these domains are never clients (colleagues, rooms)."
    )
    title_include: tuple[str, ...] = Field(
        (), description="If set, only sessions whose title contains one of these are judged."
    )
    title_exclude: tuple[str, ...] = Field(
        (), description="Sessions whose title contains one of these are never judged."
    )

    def excerpt_for(self, language: str) -> str:
        """The policy text in `language` (or its base, e.g. es-MX → es), else English, else any."""
        if isinstance(self.excerpt, str):
            return self.excerpt
        base = language.replace("-", "_").split("_")[0]
        for wanted in (language, base, "en"):
            if wanted in self.excerpt:
                return self.excerpt[wanted]
        return next(iter(self.excerpt.values()), "")

    @field_validator("steps")
    @classmethod
    def _at_least_one_step(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one step, e.g. ['reminder', 'forfeit']")
        return value


class LocalCalendarSettings(Section):
    """A vdir folder (one .ics per event) or a single .ics file."""

    provider: Literal["local"]
    path: Path = Field(description="Folder of .ics files, or one .ics file.")


GRAPH_URL = "https://graph.microsoft.com/v1.0"


class GoogleCalendarSettings(Section):
    """A Google calendar, read through the Calendar API after `fairwarning auth google`."""

    provider: Literal["google"]
    calendar_id: str = Field("primary", description="Calendar to watch; 'primary' is yours.")
    api_endpoint: str | None = Field(
        None, description="Another Calendar API endpoint (testing or a private endpoint)."
    )


class MicrosoftCalendarSettings(Section):
    """A Microsoft 365 / Outlook.com calendar, after `fairwarning auth microsoft`."""

    provider: Literal["microsoft"]
    past: Duration = Field(timedelta(days=1), description="How far back the watched window goes.")
    ahead: Duration = Field(timedelta(days=60), description="How far ahead it goes.")
    graph_url: str = Field(GRAPH_URL, description="Graph endpoint (national clouds differ).")


class FileSenderSettings(Section):
    """Writes each notice as an .eml (and .html) file instead of sending it."""

    provider: Literal["file"]
    folder: Path = Field(description="Where the .eml files are written.")


class GmailSenderSettings(Section):
    """Sends through the practitioner's Gmail, after `fairwarning auth google`."""

    provider: Literal["gmail"]
    api_endpoint: str | None = Field(
        None, description="Another Gmail API endpoint (testing or a private endpoint)."
    )


class OutlookSenderSettings(Section):
    """Sends through the practitioner's Outlook mailbox, after `fairwarning auth microsoft`."""

    provider: Literal["outlook"]
    graph_url: str = Field(GRAPH_URL, description="Graph endpoint (national clouds differ).")
    save_to_sent_items: bool = Field(True, description="Keep a copy in Sent Items.")


CalendarSettings = Annotated[
    LocalCalendarSettings | GoogleCalendarSettings | MicrosoftCalendarSettings,
    Field(discriminator="provider"),
]
SenderSettings = Annotated[
    FileSenderSettings | GmailSenderSettings | OutlookSenderSettings,
    Field(discriminator="provider"),
]


class Account(Section):
    """One calendar watched and the mailbox that sends its notices."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Short name, e.g. 'main'.")
    calendar: CalendarSettings
    sender: SenderSettings


class ClientEntry(Section):
    """One client in the directory."""

    email: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    language: str | None = None
    time_zone: str | None = None
    exempt: bool = False
    prepaid_balance: int | None = Field(None, ge=0)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)


class AlertSettings(Section):
    """Emails to you (through your own sender) when something needs you."""

    enabled: bool = Field(True, description="Send alerts at all.")
    to: str = Field("", description="Where alerts go; default: your practitioner email.")
    digest_at: time = Field(
        time(8, 0), description="When the daily list of cases waiting for review is sent."
    )


class Config(Section):
    """The whole configuration file."""

    practitioner: Practitioner
    policy: Policy = Policy()
    accounts: tuple[Account, ...] = Field(min_length=1)
    clients: tuple[ClientEntry, ...] = ()
    clients_csv: Path | None = Field(None, description="CSV with a header row of client fields.")
    state_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state") / "fairwarning",
        description="Where the database, tokens and dry-run notices live.",
    )
    templates_dir: Path | None = Field(
        None, description="Your templates; files here override the packaged ones."
    )
    poll_interval: Duration = Field(timedelta(seconds=60), description="Time between polls.")
    alerts: AlertSettings = AlertSettings()

    @model_validator(mode="after")
    def _unique_account_names(self) -> Config:
        names = [a.name for a in self.accounts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"account names must be unique; repeated: {', '.join(duplicates)}")
        return self


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback)


def default_config_path() -> Path:
    """--config, else $FAIRWARNING_CONFIG, else the XDG config folder."""
    explicit = os.environ.get("FAIRWARNING_CONFIG")
    if explicit:
        return Path(explicit)
    return _xdg("XDG_CONFIG_HOME", ".config") / "fairwarning" / "config.toml"


_PATH_KEYS = ("path", "folder", "clients_csv", "state_dir", "templates_dir")


def _resolve_paths(raw: Any, base: Path) -> Any:
    """Relative paths in the file are relative to the file, not to the working directory."""
    if isinstance(raw, dict):
        return {
            k: (
                str((base / Path(v).expanduser()).resolve())
                if k in _PATH_KEYS and isinstance(v, str)
                else _resolve_paths(v, base)
            )
            for k, v in raw.items()
        }
    if isinstance(raw, list):
        return [_resolve_paths(v, base) for v in raw]
    return raw


def load_config(path: Path) -> tuple[Config, list[str]]:
    """Read and validate the file; return the config and warnings about unknown keys.

    Raises ConfigError listing every problem with its key path and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no configuration at {path}; create one with `fairwarning init` "
            "or point --config / FAIRWARNING_CONFIG at it",
            path=str(path),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", path=str(path)) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> tuple[Config, list[str]]:
    """Validate TOML text as if read from `path` (relative paths resolve beside it)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", path=str(path)) from None
    raw = _resolve_paths(raw, path.parent)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(error, text) for error in exc.errors()]
        raise ConfigError(
            f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems),
            path=str(path),
            problems=tuple(problems),
        ) from None
    warnings = [
        f"{path}:{_line_of(text, key) or '?'}: unknown key '{key}' ignored"
        for key in _unknown_keys(config, "")
    ]
    return config, warnings


def _describe(error: Any, text: str) -> str:
    loc = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    loc = re.sub(r"\.(local|google|microsoft|file|gmail|outlook)\b", "", loc)
    line = _line_of(text, loc)
    where = f"line {line}, " if line else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required but missing"
    return f"{where}{loc or '(top level)'}: {message}"


def _line_of(text: str, dotted: str) -> int | None:
    """Best-effort line of a key path such as `clients.2.prepaid_balance`.

    Each `name.N` narrows the search to the N-th `[[name]]` block; the last name is then
    looked for as `name =` or a `[...name]` header inside that block.
    """
    lines = text.splitlines()
    first, last = 0, len(lines)
    parts = [p for p in dotted.split(".") if p]
    for name, index in pairwise(parts):
        if not index.isdigit():
            continue
        header = re.compile(rf"^\s*\[\[\s*(?:[\w.]*\.)?{re.escape(name)}\s*\]\]")
        blocks = [n for n in range(first, last) if header.match(lines[n])]
        if int(index) < len(blocks):
            first = blocks[int(index)]
            following = blocks[int(index) + 1 :]
            last = following[0] if following else last
    names = [p for p in parts if not p.isdigit()]
    if not names:
        return None
    key = re.escape(names[-1])
    pattern = re.compile(rf"^\s*(\[+\s*[\w.]*\b{key}\s*\]+|{key}\s*=)")
    for number in range(first, last):
        if pattern.match(lines[number]):
            return number + 1
    return first + 1 if first else None


def _unknown_keys(model: BaseModel, prefix: str) -> list[str]:
    found = [f"{prefix}{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, tuple) else (value,)
        for index, item in enumerate(items):
            if isinstance(item, BaseModel):
                suffix = f".{index}" if isinstance(value, tuple) else ""
                found += _unknown_keys(item, f"{prefix}{name}{suffix}.")
    return found


def json_schema() -> dict[str, Any]:
    """The JSON schema of the configuration file, for editors."""
    return Config.model_json_schema(mode="validation")
