"""The one-time authorisation of each provider, for `fairwarning auth` (connectors lazily)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from worker.config import (
    Account,
    CalDavCalendarSettings,
    Config,
    GmailSenderSettings,
    GoogleCalendarSettings,
    MicrosoftCalendarSettings,
    OutlookSenderSettings,
    SmtpSettings,
)
from worker.private_files import tokens_dir
from worker.wiring import (
    auth_smtp_command,
    caldav_login_path,
    google_token_path,
    smtp_password_path,
)


def authorize_google(
    config: Config,
    account: str,
    *,
    client_secrets: Path,
    list_calendars: bool,
    port: int,
    say: Callable[[str], None],
    ask: Callable[[], str],
) -> list[str]:
    """Run Google's consent flow for `account`; returns the scopes granted."""
    from connectors.google import authorize

    return authorize(
        account=account,
        client_secrets=client_secrets,
        token_path=google_token_path(config, account),
        list_calendars=list_calendars,
        drafts=config.policy.mode == "drafts",
        port=port,
        say=say,
        ask=ask,
    )


def sign_in_microsoft(
    config: Config,
    account: str,
    *,
    client_id: str,
    authority: str,
    authority_host: str,
    say: Callable[[str], None],
) -> str:
    """Sign `account` in with a device code; returns who signed in."""
    from connectors.microsoft import sign_in

    return sign_in(
        account=account,
        tokens_dir=tokens_dir(config.state_dir),
        client_id=client_id,
        authority=authority,
        authority_host=authority_host,
        drafts=config.policy.mode == "drafts",
        say=say,
    )


def describe_credentials(config: Config, account: Account) -> str:
    """One line about the account's stored credentials, for `fairwarning auth status`."""
    if isinstance(account.calendar, GoogleCalendarSettings) or isinstance(
        account.sender, GmailSenderSettings
    ):
        from connectors.google import describe_credentials as google

        return str(google(google_token_path(config, account.name)))
    if isinstance(account.calendar, MicrosoftCalendarSettings) or isinstance(
        account.sender, OutlookSenderSettings
    ):
        from connectors.microsoft import describe_credentials as microsoft

        return str(microsoft(account=account.name, tokens_dir=tokens_dir(config.state_dir)))
    if isinstance(account.calendar, CalDavCalendarSettings):
        from connectors.caldav import describe_login

        caldav = describe_login(caldav_login_path(config, account.name), account.name)
        if not isinstance(account.sender, SmtpSettings):
            return caldav
        return f"{caldav}; {_describe_smtp(config, account.name, account.sender)}"
    if isinstance(account.sender, SmtpSettings):
        return _describe_smtp(config, account.name, account.sender)
    return "local calendar and file sender: no credentials needed"


def _describe_smtp(config: Config, account: str, settings: SmtpSettings) -> str:
    where = f"SMTP {settings.host}:{settings.port} ({settings.security})"
    if not settings.username:
        return f"{where}: no login, no password needed"
    path = smtp_password_path(config, account)
    if not path.exists():
        return (
            f"{where} as {settings.username}: no password stored; run {auth_smtp_command(account)}"
        )
    return f"{where} as {settings.username}: password stored in {path}"


def authorize_caldav(
    config: Config, account: str, *, url: str, username: str, password: str
) -> list[tuple[str, str]]:
    """Check the CalDAV login, store it, and return the (name, address) of each calendar."""
    from connectors.caldav import authorize

    found = authorize(
        account=account,
        url=url,
        username=username,
        password=password,
        login_path=caldav_login_path(config, account),
    )
    return [(calendar.name, calendar.url) for calendar in found]
