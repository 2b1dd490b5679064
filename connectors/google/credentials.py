"""The practitioner's Google authorisation: one token file per account, read, refreshed, kept.

The file is google-auth's "authorized_user" JSON written by `fairwarning auth google`. It is
read again whenever it changes on disk, so re-authorising fixes a running worker without a
restart. A refreshed access token is written back (mode 0600, atomically) only when it changed.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from pathlib import Path
from typing import Any

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials

from worker.errors import AccountNeedsPractitioner, FairWarningError, Recoverable, StateError
from worker.private_files import is_encrypted, read_private, write_private

CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events.readonly"
CALENDAR_LIST = "https://www.googleapis.com/auth/calendar.readonly"
GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
GMAIL_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
GOOGLE_TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret

# Answers from the token endpoint that only a new authorisation can fix: revoked or expired
# grants (including the 7-day limit of an app left in "Testing"), a deleted or changed client.
_NEEDS_NEW_GRANT = {"invalid_grant", "invalid_client", "unauthorized_client", "deleted_client"}


def needed_scopes(*, list_calendars: bool = False, drafts: bool = False) -> list[str]:
    """The scopes Fair Warning asks for: read events, send mail (alerts, and notices unless in
    drafts mode), create drafts only in drafts mode, and list calendars if asked."""
    scopes = [CALENDAR_EVENTS, GMAIL_SEND]
    if drafts:
        scopes.append(GMAIL_COMPOSE)
    return [*scopes, CALENDAR_LIST] if list_calendars else scopes


def reauthorise_command(account: str) -> str:
    """The command that gives an account a new authorisation."""
    return f"fairwarning auth google --account {account} --client-secrets <your client_secret.json>"


def stored_json(credentials: Credentials) -> bytes:
    """The token file's content: google-auth's "authorized_user" JSON, token endpoint included."""
    body = json.loads(credentials.to_json())  # type: ignore[no-untyped-call]
    return json.dumps({"type": "authorized_user", **body}, indent=2).encode()


def credentials_from(info: dict[str, Any]) -> Credentials:
    """Credentials from a token file's JSON, keeping the file's own token endpoint.

    `Credentials.from_authorized_user_info` always replaces `token_uri` with Google's, which
    would send a private or test endpoint's refresh token to Google.
    """
    missing = [k for k in ("refresh_token", "client_id", "client_secret") if not info.get(k)]
    if missing:
        raise ValueError(f"it has no {', '.join(missing)}")
    scopes = info.get("scopes")
    if isinstance(scopes, str):
        scopes = scopes.split()
    expiry = info.get("expiry")
    return Credentials(  # type: ignore[no-untyped-call]
        token=info.get("token"),
        refresh_token=info["refresh_token"],
        token_uri=info.get("token_uri") or GOOGLE_TOKEN_ENDPOINT,
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=scopes,
        # google-auth keeps expiry as a naive UTC datetime.
        expiry=_naive_utc(expiry) if isinstance(expiry, str) and expiry else None,
    )


def refresh_failure(error: Exception, account: str) -> FairWarningError:
    """What a failed token refresh means for the account: re-authorise, or try again later."""
    if isinstance(error, RefreshError):
        code = _oauth_error(error)
        if code in _NEEDS_NEW_GRANT:
            return AccountNeedsPractitioner(
                f"Google no longer accepts the authorisation of account {account} ({code}: it "
                "was revoked, expired, or the app is still in 'Testing', where Google ends it "
                f"after 7 days). Authorise again with: {reauthorise_command(account)}",
                account=account,
                oauth_error=code,
            )
        return Recoverable(
            f"Google's token endpoint did not renew the access of account {account} ({error}); "
            "trying again next cycle.",
            account=account,
        )
    return Recoverable(
        f"Could not reach Google's token endpoint for account {account} "
        f"({type(error).__name__}: {error}); trying again next cycle.",
        account=account,
    )


# Every exception a token refresh can raise through httplib2.
REFRESH_ERRORS = (RefreshError, TransportError, OSError, HTTPException, httplib2.HttpLib2Error)


@dataclass
class _Loaded:
    stamp: tuple[int, int, int]
    info: dict[str, Any]
    credentials: Credentials


class TokenFile:
    """One account's token file: fresh credentials on demand, refreshed tokens saved back."""

    def __init__(self, *, account: str, path: Path, timeout: float) -> None:
        self.account = account
        self.path = path
        self._timeout = timeout
        self._loaded: _Loaded | None = None

    def credentials(self) -> Credentials:
        """Credentials with a valid access token, refreshed now if needed.

        Raises `AccountNeedsPractitioner` when there is no usable authorisation (so nothing is
        sent with it) and `Recoverable` when the token endpoint cannot be reached.
        """
        loaded = self._load()
        if not loaded.credentials.valid:
            http = httplib2.Http(timeout=self._timeout)
            request = google_auth_httplib2.Request(http)
            try:
                loaded.credentials.refresh(request)  # type: ignore[no-untyped-call]
            except REFRESH_ERRORS as error:
                raise refresh_failure(error, self.account) from error
            finally:
                http.close()
            self.keep(loaded.credentials)
        return loaded.credentials

    def keep(self, credentials: Credentials) -> None:
        """Save the access token if a refresh (here or inside a request) changed it."""
        loaded = self._loaded
        if loaded is None or credentials.token == loaded.info.get("token"):
            return
        info = {**loaded.info, **json.loads(stored_json(credentials))}
        write_private(self.path, json.dumps(info, indent=2).encode())
        self._loaded = _Loaded(_stamp(self.path), info, credentials)

    def _load(self) -> _Loaded:
        try:
            stamp = _stamp(self.path)
        except FileNotFoundError:
            raise AccountNeedsPractitioner(
                f"Account {self.account} has no Google authorisation yet ({self.path} is "
                f"missing). Authorise it with: {reauthorise_command(self.account)}",
                account=self.account,
            ) from None
        if self._loaded is not None and self._loaded.stamp == stamp:
            return self._loaded
        try:
            info = json.loads(read_private(self.path).decode("utf-8"))
            if not isinstance(info, dict):
                raise ValueError("it is not a JSON object")
            credentials = credentials_from(info)
        except (OSError, ValueError) as error:
            raise AccountNeedsPractitioner(
                f"The Google token file of account {self.account} ({self.path}) cannot be used: "
                f"{error}. Authorise again with: {reauthorise_command(self.account)}",
                account=self.account,
            ) from error
        self._loaded = _Loaded(stamp, info, credentials)
        return self._loaded


def describe_credentials(token_path: Path) -> str:
    """One line for `fairwarning auth status`: what the token file holds, never its secrets."""
    try:
        mode = stat.S_IMODE(token_path.stat().st_mode)
        info = json.loads(read_private(token_path).decode("utf-8"))
    except FileNotFoundError:
        return f"not authorised ({token_path} does not exist)"
    except (OSError, ValueError) as error:
        return f"unreadable token file {token_path}: {error}"
    except StateError as error:
        return error.message
    if not isinstance(info, dict):
        return f"unreadable token file {token_path}: not a JSON object"
    scopes = info.get("scopes") or []
    if isinstance(scopes, str):
        scopes = scopes.split()
    names = ", ".join(str(s).rsplit("/", 1)[-1] for s in scopes) or "none recorded"
    refresh = "yes" if info.get("refresh_token") else "NO (authorise again)"
    endpoint = info.get("token_uri") or GOOGLE_TOKEN_ENDPOINT
    line = f"scopes: {names}; refresh token: {refresh}; token endpoint: {endpoint}"
    if is_encrypted(token_path.read_bytes()):
        line += "; encrypted at rest"
    if mode & 0o077:
        line += f"; WARNING: file mode {mode:04o}, should be 0600 (chmod 600 {token_path})"
    return line


def _oauth_error(error: RefreshError) -> str:
    details = error.args[1] if len(error.args) > 1 else None
    if isinstance(details, dict) and isinstance(details.get("error"), str):
        return str(details["error"])
    return str(error.args[0] if error.args else "").partition(":")[0].strip()


def _naive_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _stamp(path: Path) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_mtime_ns, status.st_size, status.st_ino
