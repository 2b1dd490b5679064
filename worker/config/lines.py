"""Where in the file a problem is, and TOML syntax errors explained in plain words."""

from __future__ import annotations

import re
import tomllib
from itertools import pairwise


def line_of(text: str, dotted: str) -> int | None:
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


def at_line(text: str, key: str, problem: str) -> str:
    """`problem` about `key`, led by the key's line in the file when it can be found."""
    line = line_of(text, key) if text else None
    return f"{f'line {line}, ' if line else ''}{key}: {problem}"


_AT_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")
_DURATION = re.compile(r"^\d+(?:\.\d+)?\s*[smhdw]\w*$", re.IGNORECASE)
_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")


def explain_toml(error: tomllib.TOMLDecodeError, text: str) -> str:
    """A TOML syntax error as a practitioner can act on it: the line, and the right form."""
    found = _AT_LINE.search(str(error))
    number = int(found.group(1)) if found else len(text.splitlines())
    lines = text.splitlines()
    written = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    what = str(error).split(" (at ")[0]
    return f"line {number}: {what}: {written!r}. {_hint(written)}"


def _hint(written: str) -> str:
    key, equals, value = (part.strip() for part in written.partition("="))
    value = value.split(" #")[0].strip()
    if written.startswith("[") and not written.rstrip().endswith("]"):
        return "A section header is closed with ']', e.g. [policy] or [[accounts]]."
    if not equals:
        return 'Each setting is written key = value, e.g. late_window = "24h".'
    if value.count('"') % 2 or value.count("'") % 2:
        return f'Close the quotes: {key} = "…" with a quote at each end, on one line.'
    if _DURATION.match(value):
        return f'A duration needs quotes: {key} = "{value.replace(" ", "")}".'
    if _TIME.match(value):
        return f'A time of day needs quotes: {key} = "{value}".'
    if value and value[0] not in "\"'[{0123456789-+tf":
        return f'Text needs quotes: {key} = "{value}".'
    return 'Check the value: text and durations go in quotes ("24h"), lists in [ ].'
