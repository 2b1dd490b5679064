"""`fairwarning auth microsoft`: a device-code sign-in that works over SSH, and its status line."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

from connectors.microsoft.settings import (
    AUTHORITY_HOST,
    SignInSettings,
    build_application,
    cache_path,
    encode_settings,
    granted_scopes,
    read_settings,
    scopes_for,
    settings_path,
)
from connectors.microsoft.tokens import describe_oauth_error
from worker.errors import AccountNeedsPractitioner, FairWarningError, Recoverable
from worker.private_files import read_private, write_private

# Refresh tokens lapse after 90 days without use; warn well before that.
IDLE_WARNING = timedelta(days=75)

_HINTS = {
    "invalid_client": "in Microsoft Entra, open the app registration, Authentication, and set "
    "'Allow public client flows' to Yes",
    "unauthorized_client": "check --client-id, and that the app's supported account types "
    "include this kind of account (--authority consumers needs personal accounts allowed)",
    "authorization_declined": "the sign-in was declined in the browser; run the command again",
    "expired_token": "the code expired before it was entered; run the command again",
    "access_denied": "the permissions were not granted; run the command again and accept them",
    "invalid_scope": "the app cannot ask for Calendars.Read and Mail.Send; add them as "
    "delegated Microsoft Graph permissions in the app registration",
}


def sign_in(
    *,
    account: str,
    tokens_dir: Path,
    client_id: str,
    authority: str,
    authority_host: str = AUTHORITY_HOST,
    drafts: bool = False,
    say: Callable[[str], None],
) -> str:
    """Sign `account` in with MSAL's device-code flow and store what the worker needs.

    `say` shows the code and the address to open (on any device with a browser); this call
    then waits until the sign-in is finished there or the code expires. `authority` is
    `consumers` (Outlook.com), `organizations`, or a tenant id or domain, under
    `authority_host`. Returns the signed-in username. Raises FairWarningError subclasses
    with the reason and what to change.
    """
    settings = SignInSettings(
        client_id=client_id.strip(),
        authority=authority.strip().strip("/"),
        authority_host=authority_host.strip().rstrip("/"),
    )
    _check(settings)
    asked = scopes_for(drafts=drafts)  # Mail.ReadWrite only when notices become drafts
    cache = msal.SerializableTokenCache()
    app = build_application(settings, cache)
    try:
        flow = app.initiate_device_flow(scopes=list(asked))
        if "user_code" not in flow:
            raise _refused("start the sign-in", flow)
        say(str(flow.get("message") or _instructions(flow)))
        result = app.acquire_token_by_device_flow(flow)
    except (requests.RequestException, msal.exceptions.MsalServiceError, ValueError) as exc:
        raise Recoverable(
            f"the Microsoft sign-in service could not be reached ({type(exc).__name__}); try again"
        ) from exc
    if "access_token" not in result:
        raise _refused("finish the sign-in", result)
    _check_granted(result, asked)
    username = _username(result, app)
    if cache.has_state_changed:
        write_private(cache_path(tokens_dir, account), cache.serialize().encode("utf-8"))
    signed_in = SignInSettings(
        settings.client_id,
        settings.authority,
        settings.authority_host,
        username,
        granted_scopes(str(result.get("scope") or ""), asked),
    )
    write_private(settings_path(tokens_dir, account), encode_settings(signed_in))
    return username


def describe_credentials(*, account: str, tokens_dir: Path) -> str:
    """One line about the account's Microsoft sign-in, for `fairwarning auth status`.

    Reads only local files (no network) and never shows a token.
    """
    try:
        settings = read_settings(settings_path(tokens_dir, account), account)
    except FairWarningError as exc:
        return f"Microsoft: {exc.message}"
    fix = settings.fix_command(account)
    cache = cache_path(tokens_dir, account)
    try:
        status = cache.stat()
        stored = json.loads(read_private(cache).decode("utf-8"))
    except (OSError, ValueError):
        return (
            f"Microsoft: signed in as {settings.username}, but the token cache is missing "
            f"or unreadable: run `{fix}`"
        )
    if not isinstance(stored, dict) or not stored.get("RefreshToken"):
        return (
            f"Microsoft: signed in as {settings.username}, but no refresh token is stored: "
            f"run `{fix}`"
        )
    saved = datetime.fromtimestamp(status.st_mtime, UTC)
    line = (
        f"Microsoft: signed in as {settings.username} (authority {settings.authority}, "
        f"app {settings.client_id}); tokens last saved {saved:%Y-%m-%d %H:%M} UTC"
    )
    if datetime.now(UTC) - saved > IDLE_WARNING:
        line += "; unused refresh tokens lapse after 90 days, run the worker or sign in again"
    if stat.S_IMODE(status.st_mode) & 0o077:
        line += f"; WARNING: {cache.name} is readable by others, run `chmod 600 {cache}`"
    return line


def _check(settings: SignInSettings) -> None:
    host = urlsplit(settings.authority_host)
    problems = []
    if not settings.client_id:
        problems.append("--client-id is empty (copy the Application (client) ID from Entra)")
    if not settings.authority or "/" in settings.authority:
        problems.append("--authority must be consumers, organizations, or a tenant id or domain")
    if host.scheme != "https" or not host.hostname:
        problems.append("--authority-host must be an https:// address")
    if problems:
        raise AccountNeedsPractitioner("; ".join(problems))


def _refused(step: str, answer: dict[str, Any]) -> AccountNeedsPractitioner:
    error = str(answer.get("error") or "")
    hint = _HINTS.get(error, "see 'Connecting Microsoft' in the README")
    return AccountNeedsPractitioner(
        f"Microsoft would not {step}: {describe_oauth_error(answer)}. Hint: {hint}", error=error
    )


def _check_granted(result: dict[str, Any], asked: tuple[str, ...]) -> None:
    """Refuse a sign-in that lacks a permission the worker needs (an admin may withhold one)."""
    granted = str(result.get("scope") or "")
    if not granted:
        return
    have = {scope.rsplit("/", 1)[-1].lower() for scope in granted.split()}
    missing = [scope for scope in asked if scope.lower() not in have]
    if missing:
        raise AccountNeedsPractitioner(
            f"Microsoft granted {granted!r} but not {', '.join(missing)}: add the missing "
            "delegated permissions to the app registration (and have an administrator consent "
            "if your organisation requires it), then sign in again"
        )


def _username(result: dict[str, Any], app: Any) -> str:
    claims = result.get("id_token_claims") or {}
    name = claims.get("preferred_username") or claims.get("email")
    if isinstance(name, str) and name:
        return name
    accounts = app.get_accounts()
    return str(accounts[0].get("username") or "") if accounts else ""


def _instructions(flow: dict[str, Any]) -> str:
    return (
        f"To sign in, open {flow.get('verification_uri', 'https://microsoft.com/devicelogin')} "
        f"in a browser on any device and enter the code {flow['user_code']}"
    )
