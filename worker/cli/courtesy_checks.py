"""What `fairwarning check` says about the welcome, the note before sessions and closures.

Each problem names the key (with its line in the config file when it can be found) or the
value, and the fix: the policy document (missing, unreadable, empty, over 10 MB, or too big
for Microsoft's sendMail), a session note that would come too late to be useful, a template
missing or broken in a language, and a closed client whose address is booked again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from worker.config import Config, OutlookSenderSettings
from worker.config.lines import at_line
from worker.durations import format_duration
from worker.errors import FairWarningError, NoState
from worker.notices.courtesy import (
    COURTESY_KINDS,
    document_problem,
)
from worker.notices.preview import sample_message
from worker.notices.templates import TemplateLibrary
from worker.pipeline.closure import booked_after_closure
from worker.store.db import open_existing

# Graph's sendMail takes a request of at most 4 MB; base64 makes an attachment a third larger.
OUTLOOK_ATTACHMENT_BYTES = 3 * 1024 * 1024


def courtesy_problems(config: Config, now: datetime, text: str) -> list[str]:
    """Every problem with the courtesy notices; `text` is the config file's, for lines."""
    found = [at_line(text, key, problem) for key, problem in _settings(config)]
    return found + _templates(config, now) + _closed_clients_booked(config, now)


def _settings(config: Config) -> Iterator[tuple[str, str]]:
    policy, document = config.policy, config.practitioner.policy_document
    if document is not None:
        problem = document_problem(document)
        if problem:
            yield "practitioner.policy_document", problem.partition(": ")[2]
        elif document.stat().st_size > OUTLOOK_ATTACHMENT_BYTES and any(
            isinstance(a.sender, OutlookSenderSettings) for a in config.accounts
        ):
            yield (
                "practitioner.policy_document",
                f"{document} is over 3 MB, more than Microsoft's sendMail takes with a "
                "message; save a smaller version (a PDF with compressed images)",
            )
    ahead = policy.session_reminder
    if ahead is None:
        return
    for other, name in ((policy.hold, "hold"), (policy.late_window, "late_window")):
        if ahead <= other:
            yield "policy.session_reminder", _too_short(ahead, other, name, policy.late_window)


def _too_short(ahead: timedelta, other: timedelta, name: str, window: timedelta) -> str:
    why = (
        "the note would still be waiting out the hold when it is due"
        if name == "hold"
        else "the note says until when the session can be moved free of charge, and that "
        "moment would already have passed"
    )
    better = _written(max(window * 2, timedelta(hours=48)))
    return (
        f"{_written(ahead)!r} is not longer than policy.{name} "
        f"({_written(other)!r}): {why}; use more, e.g. {better!r}"
    )


def _written(span: timedelta) -> str:
    """A duration as the config file would say it: "48h", "10m"."""
    if span and span % timedelta(hours=1) == timedelta(0):
        return f"{span // timedelta(hours=1)}h"
    return format_duration(span)


def _templates(config: Config, now: datetime) -> list[str]:
    """Each courtesy notice in each language that has it, rendered against sample facts;
    one that is switched on must exist in every language."""
    try:
        library = TemplateLibrary(user_dir=config.templates_dir)
    except FairWarningError:
        return []  # check_templates says why
    wanted = {
        "welcome": config.policy.welcome,
        "session_reminder": config.policy.session_reminder is not None,
        "closure": False,  # asked for by hand: `close-client` says so if it is missing
    }
    problems = []
    for language in library.languages():
        for kind in COURTESY_KINDS:
            if not (library.has(kind, language) or wanted[kind]):
                continue
            try:
                sample_message(config, library, kind, language, now, ref="FW-CHECK", attach=False)
            except (FairWarningError, ValueError) as exc:
                problems.append(f"template {language}/{kind}: {exc}")
    return problems


def _closed_clients_booked(config: Config, now: datetime) -> list[str]:
    try:
        db = open_existing(config.state_dir, read_only=True, state=config.state)
    except NoState:
        return []
    except FairWarningError:
        return []  # `status` reports a database it cannot read
    try:
        return booked_after_closure(db, now)
    finally:
        db.close()
