"""Builds a Worker from the configuration: the one place that knows every connector.

The package is that place; `worker.wiring.auth` holds the one-time authorisation of each
provider for `fairwarning auth`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from worker.clients import load_directory
from worker.config import (
    Account,
    CalDavCalendarSettings,
    Config,
    GmailSenderSettings,
    GoogleCalendarSettings,
    MicrosoftCalendarSettings,
    OutlookSenderSettings,
    SendmailSettings,
    SmtpSettings,
    WebhookSettings,
)
from worker.errors import AccountNeedsPractitioner, ConfigError
from worker.notices.templates import TemplateLibrary
from worker.pipeline.alerts import AlertRoute
from worker.pipeline.calendar import CalendarSource
from worker.pipeline.casework import Desk, open_desk
from worker.pipeline.cycle import POLL_BUDGET, Mailroom, Worker
from worker.pipeline.sender import Sender
from worker.private_files import read_private, tokens_dir
from worker.store.connection import Connection
from worker.store.db import open_database

if TYPE_CHECKING:  # the Microsoft connector imports msal: only when configured
    from connectors.microsoft import AccessTokens
    from connectors.smtp import SmtpSender


def desk_for(config: Config, db: Connection, account: str, now: datetime) -> Desk:
    """A desk for the review commands, outside any worker cycle."""
    return open_desk(config, db, account, load_directory(config), now)


def build_worker(config: Config, *, clock: Callable[[], datetime]) -> Worker:
    """Open the state database and the connectors for every configured account."""
    return Worker(
        config=config,
        directory=load_directory(config),
        templates=TemplateLibrary(user_dir=config.templates_dir),
        db=open_database(config.state_dir, config.state),
        mailrooms=[build_mailroom(a, config, clock) for a in config.accounts],
        clock=clock,
        alert_relay=build_alert_relay(config, clock),
        pollers=config.workers.pollers,
    )


SET_ALERT_PASSWORD = "fairwarning alerts set-password"  # noqa: S105 - a command, not a secret


def alert_password_path(config: Config) -> Path:
    return tokens_dir(config.state_dir) / "alerts.smtp-password"


def build_alert_relay(config: Config, clock: Callable[[], datetime]) -> AlertRoute | None:
    """The `alerts.via` route: an SMTP relay, a webhook or sendmail; None when not set."""
    via = config.alerts.via
    if isinstance(via, SmtpSettings):
        password_file = alert_password_path(config)
        smtp = _smtp_sender(
            via,
            lambda: _stored_password(password_file, via.username, SET_ALERT_PASSWORD),
            from_address=via.from_address or _address_or(via.username, config),
            fix=SET_ALERT_PASSWORD,
            clock=clock,
        )
        return AlertRoute(f"the SMTP relay {via.host}:{via.port}", smtp)
    if isinstance(via, WebhookSettings):
        from connectors.webhook import WebhookSender

        hook = WebhookSender(url=via.url, clock=clock, timeout=via.timeout.total_seconds())
        return AlertRoute(f"the webhook {hook.describe().removeprefix('webhook ')}", hook)
    if isinstance(via, SendmailSettings):
        from connectors.sendmail import SendmailSender

        program = SendmailSender(path=via.path, timeout=via.timeout.total_seconds())
        return AlertRoute(f"sendmail ({via.path})", program)
    return None


def fault_alert_routes(
    config: Config, clock: Callable[[], datetime], worker: Worker | None
) -> list[AlertRoute]:
    """Routes for an alert about the state database: the relay, then every account's mailbox.

    Pauses are kept in the database, so none can be consulted: each mailbox is tried once.
    """
    relay = worker.alert_relay if worker is not None else build_alert_relay(config, clock)
    rooms = (
        worker.mailrooms
        if worker is not None
        else [build_mailroom(a, config, clock) for a in config.accounts]
    )
    routes = [relay] if relay is not None else []
    return routes + [AlertRoute(f"account {r.name}'s mailbox", r.sender) for r in rooms]


def _address_or(username: str, config: Config) -> str:
    return username if "@" in username else config.practitioner.email


def _stored_password(path: Path, username: str, fix: str) -> str:
    if not username:
        return ""
    try:
        return read_private(path).decode("utf-8")
    except FileNotFoundError:
        raise AccountNeedsPractitioner(
            f"no password stored for the SMTP login {username}; store it with {fix}"
        ) from None


def smtp_password_path(config: Config, account: str) -> Path:
    return tokens_dir(config.state_dir) / f"{account}.smtp-password"


def auth_smtp_command(account: str) -> str:
    return f"fairwarning auth smtp --account {account}"


def _smtp_sender(
    settings: SmtpSettings,
    password: Callable[[], str],
    *,
    from_address: str,
    fix: str,
    clock: Callable[[], datetime],
) -> SmtpSender:
    from connectors.smtp import SmtpSender

    return SmtpSender(
        host=settings.host,
        port=settings.port,
        security=settings.security,
        username=settings.username,
        password=password,
        from_address=from_address,
        fix=fix,
        clock=clock,
        timeout=settings.timeout.total_seconds(),
    )


def account_smtp_sender(
    account: Account, settings: SmtpSettings, config: Config, clock: Callable[[], datetime]
) -> SmtpSender:
    """The account's own SMTP server; the envelope sender defaults to the notice's From.

    Its IMAP mailbox (Sent copies, drafts) logs in with the same stored password."""
    from connectors.imap import DRAFTS, SENT, ImapMailbox

    path, fix = smtp_password_path(config, account.name), auth_smtp_command(account.name)
    smtp = _smtp_sender(
        settings,
        lambda: _stored_password(path, settings.username, fix),
        from_address=settings.from_address,
        fix=fix,
        clock=clock,
    )
    imap = settings.imap
    smtp.mailbox = ImapMailbox(
        host=imap.resolved_host(settings.host),
        port=imap.resolved_port(),
        security=imap.security,
        username=imap.username or settings.username,
        password=lambda: _stored_password(path, imap.username or settings.username, fix),
        fix=fix,
        clock=clock,
        timeout=settings.timeout.total_seconds(),
        folders={SENT: imap.sent_folder, DRAFTS: imap.drafts_folder},
    )
    smtp.save_to_sent = settings.save_to_sent
    return smtp


def check_smtp_login(config: Config, account: Account, password: str, now: datetime) -> None:
    """Log in to the account's SMTP server with `password`, sending nothing; raises on failure."""
    settings = account.sender
    if not isinstance(settings, SmtpSettings):
        raise ConfigError(f'account {account.name} does not send through SMTP (provider = "smtp")')
    smtp = _smtp_sender(
        settings,
        lambda: password,
        from_address=settings.from_address,
        fix=auth_smtp_command(account.name),
        clock=lambda: now,
    )
    smtp.check_login()


def build_mailroom(account: Account, config: Config, clock: Callable[[], datetime]) -> Mailroom:
    """The account's calendar and sender; a Microsoft account's two share one token source."""
    shared: AccessTokens | None = None
    uses_microsoft = isinstance(account.calendar, MicrosoftCalendarSettings) or isinstance(
        account.sender, OutlookSenderSettings
    )
    if uses_microsoft:
        from connectors.microsoft import MicrosoftTokens

        shared = MicrosoftTokens(account=account.name, tokens_dir=tokens_dir(config.state_dir))
    return Mailroom(
        account.name,
        build_calendar(account, config, clock, microsoft_tokens=shared),
        build_sender(account, config, clock, microsoft_tokens=shared),
        poll_budget=poll_budget(account),
    )


# A poll may retry each answer a few times (with waits) and read several pages: the budget for
# the whole poll is this many of the calendar's per-answer timeouts.
ANSWERS_PER_POLL = 10


def poll_budget(account: Account) -> timedelta:
    """How long one poll of the account's calendar may run before it is reported as overrun."""
    timeout = getattr(account.calendar, "timeout", None)
    return timeout * ANSWERS_PER_POLL if isinstance(timeout, timedelta) else POLL_BUDGET


def build_calendar(
    account: Account,
    config: Config,
    clock: Callable[[], datetime],
    *,
    microsoft_tokens: AccessTokens | None = None,
) -> CalendarSource:
    """The account's calendar source; a provider's SDK is imported only when configured."""
    settings = account.calendar
    practitioner = config.practitioner
    tokens = tokens_dir(config.state_dir)
    if isinstance(settings, GoogleCalendarSettings):
        from connectors.google import GoogleCalendar

        google: CalendarSource = GoogleCalendar(
            account=account.name,
            token_path=google_token_path(config, account.name),
            calendar_id=settings.calendar_id,
            practitioner_email=practitioner.email,
            time_zone=practitioner.time_zone,
            api_endpoint=settings.api_endpoint,
            clock=clock,
            timeout=settings.timeout.total_seconds(),
        )
        return google
    if isinstance(settings, MicrosoftCalendarSettings):
        from connectors.microsoft import OutlookCalendar

        microsoft: CalendarSource = OutlookCalendar(
            account=account.name,
            tokens_dir=tokens,
            graph_url=settings.graph_url,
            past=settings.past,
            ahead=settings.ahead,
            practitioner_email=practitioner.email,
            time_zone=practitioner.time_zone,
            clock=clock,
            tokens=microsoft_tokens,
            timeout=settings.timeout.total_seconds(),
        )
        return microsoft
    if isinstance(settings, CalDavCalendarSettings):
        from connectors.caldav import CalDavCalendar

        return CalDavCalendar(
            account=account.name,
            url=settings.url,
            login_path=caldav_login_path(config, account.name),
            practitioner_email=practitioner.email,
            time_zone=practitioner.time_zone,
            clock=clock,
            past=settings.past,
            ahead=settings.ahead,
            sync_collection=settings.sync_collection,
            timeout=settings.timeout.total_seconds(),
        )
    from connectors.local import LocalCalendar

    return LocalCalendar(
        path=settings.path,
        practitioner_email=practitioner.email,
        time_zone=practitioner.time_zone,
        clock=clock,
    )


def build_sender(
    account: Account,
    config: Config,
    clock: Callable[[], datetime],
    *,
    microsoft_tokens: AccessTokens | None = None,
) -> Sender:
    """The account's sender; in dry-run mode every notice is written to the state directory."""
    from connectors.file_sender import FileSender

    settings = account.sender
    if config.policy.mode == "dry-run":
        return FileSender(folder=dry_run_folder(config, account.name))
    if isinstance(settings, GmailSenderSettings):
        from connectors.google import GmailSender

        gmail: Sender = GmailSender(
            account=account.name,
            token_path=google_token_path(config, account.name),
            api_endpoint=settings.api_endpoint,
            clock=clock,
            timeout=settings.timeout.total_seconds(),
        )
        return gmail
    if isinstance(settings, OutlookSenderSettings):
        from connectors.microsoft import OutlookSender

        outlook: Sender = OutlookSender(
            account=account.name,
            tokens_dir=tokens_dir(config.state_dir),
            graph_url=settings.graph_url,
            save_to_sent_items=settings.save_to_sent_items,
            clock=clock,
            tokens=microsoft_tokens,
            timeout=settings.timeout.total_seconds(),
        )
        return outlook
    if isinstance(settings, SmtpSettings):
        return account_smtp_sender(account, settings, config, clock)
    return FileSender(folder=settings.folder)


def google_token_path(config: Config, account: str) -> Path:
    return tokens_dir(config.state_dir) / f"{account}.google.json"


def caldav_login_path(config: Config, account: str) -> Path:
    return tokens_dir(config.state_dir) / f"{account}.caldav.json"


def dry_run_folder(config: Config, account: str) -> Path:
    return config.state_dir / "dry-run" / account
