"""A practices folder for the CLI tests: one NAME.toml per practice, each practice's data
(calendar, outbox, state) in the subfolder NAME/ beside it, each the demo's practice."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.cli.practice import Practice, Run
from worker.cli.demo import DOCUMENT, write_calendar, write_config

BROKEN = ('late_window = "24h"', 'late_window = "soon"')


def add_practice(
    folder: Path,
    name: str,
    now: datetime,
    run: Run,
    *,
    top: str = "",
    state_dir: str | None = None,
    broken: bool = False,
) -> Practice:
    """Practice `name` in `folder`: its calendar with every session accepted, and its
    NAME.toml (`top` goes first; `broken` gives it an invalid late_window)."""
    data = folder / name
    write_config(data)
    write_calendar(data / "calendar", now, acted=False)
    text = (data / "config.toml").read_text(encoding="utf-8")
    for key, value in (
        ("state_dir", "state"),
        ("path", "calendar"),
        ("folder", "outbox"),
        ("policy_document", DOCUMENT),
    ):
        text = text.replace(f'{key} = "{value}"', f'{key} = "{name}/{value}"')
    if state_dir is not None:
        text = text.replace(f'state_dir = "{name}/state"', f'state_dir = "{state_dir}"')
    if broken:
        text = text.replace(*BROKEN)
    (folder / f"{name}.toml").write_text(top + text, encoding="utf-8")
    return Practice(data, now, run)


def fix(folder: Path, name: str) -> None:
    path = folder / f"{name}.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(*reversed(BROKEN)), encoding="utf-8")
