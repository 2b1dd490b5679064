"""`fairwarning check`: everything that can be verified before a client ever sees a notice."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

from worker.clients import load_directory
from worker.config import Config, LocalCalendarSettings, SendmailSettings, SmtpSettings
from worker.errors import FairWarningError
from worker.notices.message import build_message
from worker.notices.templates import KINDS, TemplateLibrary
from worker.notices.wording import notice_variables, sample_facts
from worker.pipeline.alerts import ALERT_KINDS, sample_alert
from worker.private_files import is_encrypted, secret_key, tokens_dir
from worker.wiring import alert_password_path


def check_templates(config: Config, now: datetime) -> list[str]:
    """Render every kind in every language against sample data; return the problems."""
    problems = []
    try:
        library = TemplateLibrary(user_dir=config.templates_dir)
    except FairWarningError as exc:
        return [exc.message]
    for language in library.languages():
        for kind in KINDS:
            facts = sample_facts(kind, language, now)
            try:
                variables = notice_variables(facts, config.practitioner, config.policy)
                rendered = library.render(kind, language, variables)
                build_message(
                    rendered,
                    to_name=facts.client_name,
                    to_email=facts.client_email,
                    practitioner=config.practitioner,
                    ref="FW-CHECK",
                    now=now,
                )
            except (FairWarningError, ValueError) as exc:
                problems.append(f"template {language}/{kind}: {exc}")
        for kind in ALERT_KINDS:
            try:
                library.render(kind, language, sample_alert(kind, config))
            except FairWarningError as exc:
                problems.append(f"template {language}/{kind}: {exc}")
    return problems


def check_state_dir(state_dir: Path) -> list[str]:
    """The state directory holds tokens and client history: it must be private."""
    if not state_dir.exists():
        return []
    mode = stat.S_IMODE(state_dir.stat().st_mode)
    if mode & 0o077:
        return [
            f"state directory {state_dir} is readable by other users (mode {mode:o}); "
            f"run: chmod 700 {state_dir}"
        ]
    return []


def check_tokens(state_dir: Path) -> list[str]:
    """Tokens must be private, and encrypted when a key is configured."""
    folder = tokens_dir(state_dir)
    if not folder.is_dir():
        return []
    problems = []
    keyed = secret_key() is not None
    for token in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        mode = stat.S_IMODE(token.stat().st_mode)
        if mode & 0o077:
            problems.append(f"{token} is readable by other users; run: chmod 600 {token}")
        if keyed and not is_encrypted(token.read_bytes()):
            problems.append(
                f"{token} is not encrypted although a key is set; authorise the account "
                "again to rewrite it encrypted"
            )
    return problems


def check_accounts(config: Config) -> list[str]:
    problems = []
    for account in config.accounts:
        settings = account.calendar
        if isinstance(settings, LocalCalendarSettings) and not settings.path.exists():
            path = settings.path
            problems.append(
                f"account {account.name}: calendar path {path} does not exist; "
                "fix `path` in its calendar section"
            )
    return problems


def check_clients(config: Config) -> list[str]:
    try:
        load_directory(config)
    except FairWarningError as exc:
        return [exc.message]
    return []


def check_alert_route(config: Config) -> list[str]:
    """The [alerts.via] route can work: its password is stored, its program exists."""
    via = config.alerts.via
    unstored = not alert_password_path(config).exists()
    if isinstance(via, SmtpSettings) and via.username and unstored:
        return [
            f"alerts.via: no password stored for {via.username} at {via.host}; "
            "run `fairwarning alerts set-password`"
        ]
    if isinstance(via, SendmailSettings) and not os.access(via.path, os.X_OK):
        return [
            f"alerts.via.path: {via.path} is not an executable program; install a mail "
            "system (msmtp-mta, postfix) or point path at its sendmail"
        ]
    return []


def check_all(config: Config, now: datetime) -> list[str]:
    return [
        *check_clients(config),
        *check_alert_route(config),
        *check_accounts(config),
        *check_state_dir(config.state_dir),
        *check_tokens(config.state_dir),
        *check_templates(config, now),
    ]
