"""The configuration file, parsed once into frozen, typed models.

Problems are gathered and reported together, each with its key path and, where it can be
found, its line; unknown keys are warned about rather than rejected, so a typo never stops
the service but is never silent either.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from worker.config.accounts import Account
from worker.config.alerts import AlertSettings
from worker.config.fields import Duration, Section
from worker.config.lines import explain_toml, line_of
from worker.config.practice import ClientEntry, Policy, Practitioner
from worker.config.state import StateSettings
from worker.config.web import WebSettings
from worker.config.workers import WorkerSettings
from worker.errors import ConfigError


class Config(Section):
    """The whole configuration file."""

    practitioner: Practitioner
    policy: Policy = Policy()
    accounts: tuple[Account, ...] = Field(min_length=1)
    clients: tuple[ClientEntry, ...] = ()
    clients_csv: Path | None = Field(None, description="CSV with a header row of client fields.")
    state_dir: Path = Field(
        default_factory=lambda: default_state_dir(),
        description="Where the database, tokens and dry-run notices live.",
    )
    state: StateSettings = StateSettings()
    templates_dir: Path | None = Field(
        None, description="Your templates; files here override the packaged ones."
    )
    poll_interval: Duration = Field(timedelta(seconds=60), description="Time between polls.")
    alerts: AlertSettings = AlertSettings()
    web: WebSettings = WebSettings()
    workers: WorkerSettings = WorkerSettings()

    @model_validator(mode="after")
    def _unique_account_names(self) -> Config:
        names = [a.name for a in self.accounts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"account names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _drafts_need_a_mailbox(self) -> Config:
        if self.policy.mode != "drafts":
            return self
        for account in self.accounts:
            if account.sender.provider == "file":
                raise ValueError(
                    f'policy.mode = "drafts" puts each notice in your mailbox\'s Drafts folder, '
                    f'but account {account.name} sends with provider = "file", which has no '
                    'mailbox; give it a sender with a mailbox (provider = "gmail", "outlook" or '
                    '"smtp") or set policy.mode = "review"'
                )
        return self


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback)


def default_state_dir() -> Path:
    """$XDG_STATE_HOME/fairwarning (usually ~/.local/state/fairwarning)."""
    return _xdg("XDG_STATE_HOME", ".local/state") / "fairwarning"


def default_config_path() -> Path:
    """--config, else $FAIRWARNING_CONFIG, else the XDG config folder."""
    explicit = os.environ.get("FAIRWARNING_CONFIG")
    if explicit:
        return Path(explicit)
    return _xdg("XDG_CONFIG_HOME", ".config") / "fairwarning" / "config.toml"


_PATH_KEYS = (
    "path",
    "folder",
    "clients_csv",
    "state_dir",
    "templates_dir",
    "policy_document",
    "password_file",
)


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
        raise ConfigError(f"{path}: {explain_toml(exc, text)}", path=str(path)) from None
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
        f"{path}:{line_of(text, key) or '?'}: unknown key '{key}' ignored"
        + _did_you_mean(key, known)
        for key, known in _unknown_keys(config, "")
    ]
    return config, warnings


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key.rpartition(".")[2], known, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _describe(error: Any, text: str) -> str:
    loc = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    loc = re.sub(r"\.(local|google|microsoft|file|gmail|outlook)\b", "", loc)
    line = line_of(text, loc)
    where = f"line {line}, " if line else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required but missing"
    return f"{where}{loc or '(top level)'}: {message}"


def _unknown_keys(model: BaseModel, prefix: str) -> list[tuple[str, list[str]]]:
    """Each unknown key's path, with the keys that are allowed where it was written."""
    allowed = list(type(model).model_fields)
    found = [(f"{prefix}{key}", allowed) for key in (model.model_extra or {})]
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
