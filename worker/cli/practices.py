"""`--practices DIR` and `--practice NAME`: which practice's file a command works on, and
`run` over every practice of the folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from worker.cli.common import EXIT_ATTENTION, EXIT_BROKEN, EXIT_OK, fail, listed, utcnow
from worker.config import Config
from worker.config.folder import practice_files, read_folder
from worker.config.state import PRACTICE_NAME, PRACTICE_RULE
from worker.errors import FairWarningError
from worker.service import practices
from worker.service.health import cycle_attention, state_attention
from worker.service.lifecycle import AccountReport, Show
from worker.store.connection import DATABASE_ERRORS
from worker.store.db import open_existing

ShowFor = Callable[[Config], Show]


def choose(
    folder: Path | None, practice: str | None, config_given: bool, command: str | None
) -> dict[str, Any]:
    """What goes into the context for these options: the practice's file as `config_path`.

    `--practice` needs the folder, and a name found in it (`init` may name a new one).
    """
    if folder is None or config_given:
        if practice is not None:
            raise click.UsageError(
                "--practice NAME picks NAME.toml in a practices folder: give the folder with "
                "--practices DIR (or FAIRWARNING_PRACTICES), not --config"
            )
        return {}
    try:
        found = practice_files(folder)
    except FairWarningError as exc:
        fail(exc)
    chosen: dict[str, Any] = {"practices": folder, "practice": practice, "found": sorted(found)}
    if practice is None:
        return {**chosen, "config_path": None}
    if practice in found:
        return {**chosen, "config_path": found[practice]}
    if not PRACTICE_NAME.fullmatch(practice):
        raise click.UsageError(f"{practice!r} cannot name a practice: use {PRACTICE_RULE}")
    if command == "init":
        return {**chosen, "config_path": folder / f"{practice}.toml"}
    raise click.UsageError(f"no practice {practice!r} in {folder}: {listed(chosen['found'])}")


def run_every_practice(folder: Path, once: bool, shower: ShowFor) -> None:
    """`run --practices DIR`: serve them all, or with `once` one cycle each and a summary.

    `run --once` exits with the worst of the practices' codes: 2 when a file was skipped or a
    practice's state was broken (the others ran all the same), else 1 when one needs you.
    """
    if not once:
        try:
            practices.Deployment(folder, clock=utcnow, show_for=_named(shower, False)).serve()
        except FairWarningError as exc:
            fail(exc)
        return
    try:
        outcomes = practices.run_once(folder, clock=utcnow, show_for=_named(shower, True))
    except FairWarningError as exc:
        fail(exc)
    worst = EXIT_OK
    click.echo("\nPractices:")
    for outcome in outcomes:
        if outcome.config is None or outcome.problem:
            click.echo(f"practice {outcome.name}: skipped: {outcome.problem}")
            worst = EXIT_BROKEN
            continue
        waiting = _attention(outcome.config, outcome.reports)
        sent = sum(len(report.sent) for report in outcome.reports)
        click.echo(f"practice {outcome.name}: {sent} notice(s) sent ({outcome.path})")
        for line in waiting:  # one line each, whatever the width: scripts look for them
            click.echo(f"needs you: practice {outcome.name}: {line}")
        if waiting:
            worst = max(worst, EXIT_ATTENTION)
    sys.exit(worst)


def _named(shower: ShowFor, once: bool) -> practices.ShowFor:
    def show_for(name: str, config: Config) -> Show:
        if once:
            click.echo(f"\n== practice {name} ==")
        return shower(config)

    return show_for


def _attention(config: Config, reports: list[AccountReport]) -> list[str]:
    waiting = cycle_attention(reports, config.policy.mode)
    try:
        db = open_existing(config.state_dir, read_only=True, state=config.state)
    except FairWarningError as exc:
        return [*waiting, exc.message]
    try:
        waiting += state_attention(db, [a.name for a in config.accounts], utcnow())
    except DATABASE_ERRORS as exc:
        waiting.append(f"the state database cannot be read: {exc}")
    finally:
        db.close()
    return waiting


def show_folder(folder: Path) -> None:
    """`status` over a folder: each practice's file, and why a skipped one is skipped.

    Exits 2 when a file is skipped, 1 when the running service still skips a file that
    loads now; each practice's own health is `--practice NAME status`.
    """
    try:
        found = read_folder(folder)
    except FairWarningError as exc:
        fail(exc)
    read_at, skipped = practices.read_skipped(folder) or ("", {})
    for practice in found:
        if practice.config is None:
            click.echo(f"practice {practice.name}: skipped: {practice.problem}")
        elif practice.name in skipped:
            click.echo(
                f"practice {practice.name}: ok now ({practice.path}), but the running service "
                f"skipped it when it last read the folder ({read_at}): send it SIGHUP "
                "(systemctl reload) to serve it"
            )
        else:
            click.echo(f"practice {practice.name}: ok ({practice.path})")
    if not found:
        click.echo(f"no practices in {folder}: {listed([])}")
    click.echo("Each practice's health: fairwarning --practices DIR --practice NAME status")
    if any(practice.config is None for practice in found):
        sys.exit(EXIT_BROKEN)
    if any(practice.name in skipped for practice in found):
        sys.exit(EXIT_ATTENTION)
