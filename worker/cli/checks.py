"""`fairwarning check`: everything that can be verified before a client ever sees a notice."""

from __future__ import annotations

import difflib
import os
import re
import stat
from datetime import datetime
from pathlib import Path

from worker.cli.courtesy_checks import courtesy_problems
from worker.clients import load_directory
from worker.config import (
    CalDavCalendarSettings,
    Config,
    LocalCalendarSettings,
    SendmailSettings,
    SmtpSettings,
)
from worker.config.lines import at_line
from worker.config.lint import mistakes
from worker.errors import FairWarningError
from worker.notices.languages import language_problems
from worker.notices.preview import sample_message
from worker.notices.templates import KINDS, TemplateLibrary
from worker.pipeline.alert_samples import sample_alert
from worker.pipeline.alerts import ALERT_KINDS
from worker.private_files import is_encrypted, secret_key, tokens_dir
from worker.wiring import (
    alert_password_path,
    auth_smtp_command,
    caldav_login_path,
    smtp_password_path,
)


def check_templates(config: Config, now: datetime) -> list[str]:
    """Render every kind in every language against sample data; return the problems."""
    problems = []
    try:
        library = TemplateLibrary(user_dir=config.templates_dir)
    except FairWarningError as exc:
        return [exc.message]
    for language in library.languages():
        for kind in KINDS:
            try:
                sample_message(config, library, kind, language, now, ref="FW-CHECK", attach=False)
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
        sender = account.sender
        stored = smtp_password_path(config, account.name).exists()
        if isinstance(sender, SmtpSettings) and sender.username and not stored:
            problems.append(
                f"account {account.name}: no password stored for {sender.username} at "
                f"{sender.host}; run `{auth_smtp_command(account.name)}`"
            )
        relayed = isinstance(config.alerts.via, SmtpSettings)
        if isinstance(sender, SmtpSettings) and relayed and account.name == "alerts":
            problems.append(
                "account alerts: this name would share its stored SMTP password with "
                '[alerts.via]; give the account another name, e.g. name = "main"'
            )
        settings = account.calendar
        if isinstance(settings, CalDavCalendarSettings):
            if not caldav_login_path(config, account.name).exists():
                problems.append(
                    f"account {account.name}: no CalDAV login stored for {settings.url}; run "
                    f"`fairwarning auth caldav --account {account.name} --url {settings.url} "
                    "--username USERNAME`"
                )
            continue
        if not isinstance(settings, LocalCalendarSettings):
            continue
        path = settings.path
        if not path.exists():
            problems.append(
                f"account {account.name}: calendar path {path} does not exist; "
                "fix `path` in its calendar section"
            )
        elif path.is_dir() and not any(path.glob("*.ics")):
            problems += _ics_below(account.name, path)
    return problems


def _ics_below(account: str, folder: Path) -> list[str]:
    """An empty calendar is fine; one whose events sit in subfolders is the wrong folder."""
    holding = sorted({p.parent for p in folder.glob("*/**/*.ics")})
    if not holding:
        return []
    names = ", ".join(str(p) for p in holding[:3])
    return [
        f"account {account}: calendar folder {folder} holds no .ics file, but {names} "
        f"{'does' if len(holding) == 1 else 'do'}; set `path` to the calendar's own folder"
    ]


# `{ name }` (single braces) or `{{ name }` (unclosed): left as text, the client would see them.
_MALFORMED = re.compile(r"(?<!\{)\{(?!\{|%|#)\s*[A-Za-z_][\w.]*\s*\}(?!\})|\{\{[^{}]*\}(?!\})")


def check_placeholders(config: Config) -> list[str]:
    """Placeholders in the practitioner's own templates that Jinja would print as written."""
    folder = config.templates_dir
    if folder is None or not folder.is_dir():
        return []
    problems = []
    for template in sorted(folder.glob("*/*.j2")):
        try:
            lines = template.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # check_templates reports unreadable files
        for number, line in enumerate(lines, start=1):
            for bad in _MALFORMED.findall(line):
                name = bad.strip("{} ")
                problems.append(
                    f"{template}, line {number}: {bad!r} is not a placeholder and would reach "
                    f"the client as written; write {{{{ {name} }}}}"
                )
    return problems


# Language codes people write for the ones they mean.
_MEANT = {"sp": "es", "spa": "es", "esp": "es", "eng": "en", "uk": "en", "gb": "en", "us": "en"}


def check_languages(config: Config, path: Path | None) -> list[str]:
    """Client languages with no templates, per-language texts missing a language in use."""
    try:
        library = TemplateLibrary(user_dir=config.templates_dir)
    except FairWarningError:
        return []  # check_templates says why
    text = _text_of(path)
    problems = []
    for problem in language_problems(config, library):
        said = at_line(text, problem.key, problem.message)
        written = re.search(r"for language '([^']+)'", problem.message)
        if written:
            meant = _MEANT.get(written.group(1).lower()) or next(
                iter(difflib.get_close_matches(written.group(1), library.languages(), n=1)), ""
            )
            said += f" (did you mean {meant!r}?)" if meant else ""
        problems.append(said)
    return problems


def template_style(config: Config) -> str:
    """How the practitioner's templates folder writes its notices, in a sentence."""
    try:
        return TemplateLibrary(user_dir=config.templates_dir).style().summary()
    except FairWarningError as exc:
        return exc.message


def _text_of(path: Path | None) -> str:
    try:
        return path.read_text(encoding="utf-8") if path is not None else ""
    except (OSError, UnicodeDecodeError):
        return ""


def check_config_text(config: Config, path: Path) -> list[str]:
    """Placeholders from the starter config, invalid or repeated clients."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []  # loading the config already said why
    return mistakes(config, text)


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


def check_courtesy_notices(config: Config, now: datetime, path: Path | None) -> list[str]:
    """The welcome and its policy document, the note before sessions, closed clients."""
    return courtesy_problems(config, now, _text_of(path))


def check_all(config: Config, now: datetime, path: Path | None = None) -> list[str]:
    """Every problem `fairwarning check` reports; `path` is the config file, for its lines."""
    return [
        *(check_config_text(config, path) if path is not None else []),
        *check_clients(config),
        *check_placeholders(config),
        *check_languages(config, path),
        *check_alert_route(config),
        *check_accounts(config),
        *check_state_dir(config.state_dir),
        *check_tokens(config.state_dir),
        *check_templates(config, now),
        *check_courtesy_notices(config, now, path),
    ]
