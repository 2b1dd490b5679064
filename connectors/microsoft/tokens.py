"""Graph access tokens for one signed-in account, refreshed by MSAL from its persisted cache.

Nothing here touches the network until the first `access_token()`: MSAL's application
constructor fetches the authority's metadata, and the worker must start, and report, with
no network at all.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msal
import requests
from msal.exceptions import MsalServiceError

from connectors.microsoft.http import DEFAULT_TIMEOUT, AccessTokens, Graph
from connectors.microsoft.settings import (
    SignInSettings,
    build_application,
    cache_path,
    read_settings,
    settings_path,
    sign_in_command,
)
from worker.errors import AccountNeedsPractitioner, Recoverable
from worker.private_files import read_private, write_private

# OAuth errors only the practitioner can clear (RFC 6749 §5.2, OpenID Connect §3.1.2.6):
# a revoked or expired refresh token, consent or MFA needed, the app registration changed.
_NEEDS_PRACTITIONER = frozenset(
    {
        "invalid_grant",
        "interaction_required",
        "consent_required",
        "login_required",
        "invalid_client",
        "unauthorized_client",
    }
)

_Stamp = tuple[int, int, int]


class MicrosoftTokens:
    """Hands out Graph access tokens for `account`, signed in with `sign_in` beforehand.

    The token cache and settings live in `tokens_dir`. Both are re-read when another process
    (`fairwarning auth microsoft`) replaces them, and the cache is written back (0600, atomic
    replace) whenever MSAL changed it, so a rotated refresh token is never lost.
    """

    def __init__(self, *, account: str, tokens_dir: Path) -> None:
        self.account = account
        self._settings_file = settings_path(tokens_dir, account)
        self._cache_file = cache_path(tokens_dir, account)
        self._lock = threading.Lock()
        self._cache = msal.SerializableTokenCache()
        self._app: Any = None
        self._settings: SignInSettings | None = None
        self._settings_seen: _Stamp | None = None
        self._cache_seen: _Stamp | None = None

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed if needed.

        Raises AccountNeedsPractitioner (with the command that fixes it) when the refresh
        token was revoked, expired or needs consent, and Recoverable for outages. MSAL
        replays an identical token-endpoint error for 60 seconds, so retrying sooner is
        pointless: callers leave it to a later cycle.
        """
        with self._lock:
            app, settings = self._ready()
            try:
                account = self._signed_in(app, settings)
                result = app.acquire_token_silent_with_error(
                    list(settings.scopes), account, force_refresh=force_refresh
                )
            except (requests.RequestException, MsalServiceError, ValueError) as exc:
                raise Recoverable(
                    f"could not refresh the Microsoft token of account {self.account!r} "
                    f"({type(exc).__name__}: {exc})",
                    account=self.account,
                ) from exc
            finally:
                self._persist()
            return self._token(result, settings)

    def sign_in_command(self) -> str:
        """The `fairwarning auth microsoft` command for this account, as last signed in."""
        try:
            settings = read_settings(self._settings_file, self.account)
        except AccountNeedsPractitioner:
            return sign_in_command(self.account)
        return settings.fix_command(self.account)

    def _ready(self) -> tuple[Any, SignInSettings]:
        settings_stamp = _stamp(self._settings_file)
        if self._app is None or self._settings is None or settings_stamp != self._settings_seen:
            settings = read_settings(self._settings_file, self.account)
            self._load_cache(settings)
            self._app = build_application(settings, self._cache)
            self._settings, self._settings_seen = settings, settings_stamp
        elif _stamp(self._cache_file) != self._cache_seen:
            self._load_cache(self._settings)
        return self._app, self._settings

    def _load_cache(self, settings: SignInSettings) -> None:
        stamp = _stamp(self._cache_file)
        try:
            text = read_private(self._cache_file).decode("utf-8")
            self._cache.deserialize(text)
        except FileNotFoundError:
            raise self._sign_in_again(settings, "no token cache is stored") from None
        except (OSError, ValueError) as exc:
            raise self._sign_in_again(settings, f"its token cache cannot be read ({exc})") from exc
        self._cache_seen = stamp

    def _signed_in(self, app: Any, settings: SignInSettings) -> Any:
        accounts = app.get_accounts(username=settings.username or None) or app.get_accounts()
        if not accounts:
            raise self._sign_in_again(settings, "the token cache holds no signed-in account")
        return accounts[0]

    def _token(self, result: dict[str, Any] | None, settings: SignInSettings) -> str:
        if result is None:
            raise self._sign_in_again(settings, "the token cache holds no usable token")
        token = result.get("access_token")
        if isinstance(token, str) and token:
            return token
        error = str(result.get("error") or "unknown_error")
        said = describe_oauth_error(result)
        if error in _NEEDS_PRACTITIONER:
            raise self._sign_in_again(settings, f"Microsoft said {said}")
        raise Recoverable(
            f"Microsoft's sign-in service failed for account {self.account!r}: {said}",
            account=self.account,
            error=error,
        )

    def _persist(self) -> None:
        if not self._cache.has_state_changed:
            return
        if _stamp(self._cache_file) != self._cache_seen:
            # A sign-in replaced the file meanwhile: it wins. Dropping our rotated refresh
            # token costs nothing, since Microsoft does not revoke a refresh token on use.
            return
        write_private(self._cache_file, self._cache.serialize().encode("utf-8"))
        self._cache_seen = _stamp(self._cache_file)

    def _sign_in_again(self, settings: SignInSettings, why: str) -> AccountNeedsPractitioner:
        return AccountNeedsPractitioner(
            f"account {self.account!r} ({settings.username or 'Microsoft'}) must sign in "
            f"again: {why.rstrip('.')}. Run `{settings.fix_command(self.account)}`",
            account=self.account,
        )


def describe_oauth_error(result: dict[str, Any]) -> str:
    """`error: first line of error_description`, without trace and correlation ids."""
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").strip()
    first = description.splitlines()[0].strip() if description else ""
    return f"{error}: {first}" if first else error


def _stamp(path: Path) -> _Stamp | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino


def graph_for(
    *,
    account: str,
    tokens_dir: Path,
    tokens: AccessTokens | None,
    graph_url: str,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = DEFAULT_TIMEOUT,
) -> Graph:
    """The Graph path of one account: given tokens (shared by its calendar and sender), or
    the account's stored sign-in."""
    return Graph(
        account=account,
        tokens=tokens or MicrosoftTokens(account=account, tokens_dir=tokens_dir),
        graph_url=graph_url,
        clock=clock,
        sleep=sleep,
        timeout=timeout,
    )
