"""The effective configuration, key by key, with where each value came from.

A value written in the file is traced to its line; one left out is the default. Nothing that
could be a secret is shown: the configuration should hold none (passwords and tokens live in
the state directory), but a key named like one, or a webhook address (which often carries its
token), is shown as hidden all the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import BaseModel

from worker.config.lines import line_of

HIDDEN = "(hidden)"
_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "credential", "private")
_SECRET_PATHS = ("alerts.via.url",)  # a webhook's address is its key


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of the effective configuration."""

    key: str  # dotted path, e.g. policy.late_window or accounts.0.sender.folder
    value: str
    line: int | None  # its line in the file; None when it is the default
    written: bool  # written in the file (else the default)
    unknown: bool = False  # not a key Fair Warning knows: ignored


def settings_of(config: BaseModel, text: str) -> list[Setting]:
    """Every key of `config` (read from `text`), in the model's order."""
    return _walk(config, text, "", written=True)


def _walk(model: BaseModel, text: str, prefix: str, *, written: bool) -> list[Setting]:
    found: list[Setting] = []
    dumped = model.model_dump(mode="json")
    for name in type(model).model_fields:
        key = f"{prefix}{name}"
        here = written and name in model.model_fields_set
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found += _walk(value, text, f"{key}.", written=here)
        elif isinstance(value, tuple) and value and all(isinstance(v, BaseModel) for v in value):
            for index, item in enumerate(value):
                found += _walk(item, text, f"{key}.{index}.", written=here)
        else:
            found.append(_leaf(key, dumped[name], text, written=here))
    for name, value in (model.model_extra or {}).items():
        found.append(_leaf(f"{prefix}{name}", value, text, written=written, unknown=True))
    return found


def _leaf(key: str, value: object, text: str, *, written: bool, unknown: bool = False) -> Setting:
    line = source_line(text, key) if written else None
    return Setting(key, _shown(key, value), line, written, unknown)


def _shown(key: str, value: object) -> str:
    name = key.rpartition(".")[2].lower()
    if any(word in name for word in _SECRET_WORDS):
        return HIDDEN
    if re.sub(r"\.\d+\.", ".", key) in _SECRET_PATHS and isinstance(value, str):
        parts = urlsplit(value)
        return f"{parts.scheme}://{parts.hostname or ''}/… {HIDDEN}"
    if value is None:
        return "(not set)"
    if isinstance(value, str):
        return value or "(empty)"
    return json.dumps(value, ensure_ascii=False)


def source_line(text: str, dotted: str) -> int | None:
    """The line where `dotted` is written: its own `key =` line, else the line of the table
    or inline table that holds it (`fee = { amount = … }`)."""
    parts = dotted.split(".")
    while parts:
        line = _own_line(text, parts)
        if line is not None:
            return line
        parts = parts[:-1]
        while parts and parts[-1].isdigit():
            parts = parts[:-1]  # an array block's header says nothing about one key
    return None


def _own_line(text: str, parts: list[str]) -> int | None:
    lines = text.splitlines()
    name = re.escape(parts[-1])
    key = re.compile(rf"^\s*({name}\s*=|\[+\s*[\w.]*\b{name}\s*\]+)")
    if any(p.isdigit() for p in parts):
        found = line_of(text, ".".join(parts))
        return found if found and key.match(lines[found - 1]) else None
    own = re.compile(rf"^\s*\[\s*{re.escape('.'.join(parts))}\s*\]")
    heads = [n for n, line in enumerate(lines) if own.match(line)]
    if heads:  # a table of its own, e.g. [practitioner.working_hours]
        return heads[0] + 1
    table = ".".join(parts[:-1])
    start = 0
    if table:
        header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
        heads = [n for n, line in enumerate(lines) if header.match(line)]
        if not heads:
            return None
        start = heads[0] + 1
    for number in range(start, len(lines)):
        if lines[number].lstrip().startswith("["):
            break  # the next table begins
        if key.match(lines[number]):
            return number + 1
    return None
