"""Settings: the effective configuration, read-only, each value with where it came from.

Secrets are never shown: the configuration holds none, and of the files in the state
directory that do (passwords, tokens) only the path is given, and whether it is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from worker.config import Config, GmailSenderSettings, GoogleCalendarSettings, SmtpSettings
from worker.config.sources import settings_of
from worker.private_files import tokens_dir
from worker.web.console import Console, console_of
from worker.web.guard import logged_in
from worker.web.keys import console_dir
from worker.wiring import alert_password_path, google_token_path, smtp_password_path


def _settings(console: Console) -> dict[str, Any]:
    config, path = console.config, console.config_path
    try:
        text = path.read_text(encoding="utf-8") if path else ""
    except OSError:
        text = ""
    settings = settings_of(config, text)
    sections: dict[str, list[Any]] = {}
    for setting in settings:
        section = setting.key.split(".")[0]
        sections.setdefault(section, []).append(setting)
    return {
        "path": path,
        "readable": bool(text),
        "sections": sections,
        "secrets": _secret_files(config),
    }


def _secret_files(config: Config) -> list[tuple[str, Path, bool]]:
    """(what it holds, where, whether it is there) for each file holding a secret."""
    found: list[tuple[str, Path]] = []
    for account in config.accounts:
        if isinstance(account.calendar, GoogleCalendarSettings) or isinstance(
            account.sender, GmailSenderSettings
        ):
            found.append(
                (f"{account.name}: Google sign-in", google_token_path(config, account.name))
            )
        if isinstance(account.sender, SmtpSettings):
            found.append(
                (f"{account.name}: SMTP password", smtp_password_path(config, account.name))
            )
    if isinstance(config.alerts.via, SmtpSettings):
        found.append(("alerts: SMTP password", alert_password_path(config)))
    found.append(("other sign-ins (Microsoft)", tokens_dir(config.state_dir)))
    found.append(("the console's password (Argon2id hash) and key", console_dir(config.state_dir)))
    return [(what, where, where.exists()) for what, where in found]


@logged_in
async def settings(request: Request) -> Response:
    console = console_of(request)
    page = await run_in_threadpool(_settings, console)
    return console.render(request, "settings.html", **page)


ROUTES = [Route("/settings", settings)]
