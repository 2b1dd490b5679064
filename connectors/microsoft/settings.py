"""What a Microsoft sign-in leaves in the tokens folder, and the MSAL application built from it.

Two files per account, both written 0600 by atomic replace:

- `<account>.msal.json`: MSAL's serialized token cache (refresh and access tokens).
- `<account>.microsoft.json`: the app's client id, the authority, the sign-in host and the
  signed-in username, so the worker can refresh tokens later with nothing in the config file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import msal
import requests

from worker.errors import AccountNeedsPractitioner, Recoverable
from worker.private_files import read_private

# MSAL adds openid, profile and offline_access itself and refuses them if passed.
SCOPES = ("Calendars.Read", "Mail.Send")
DRAFT_SCOPE = "Mail.ReadWrite"  # asked for only in drafts mode: it can read the mailbox


def scopes_for(*, drafts: bool) -> tuple[str, ...]:
    """What a sign-in asks for: drafts mode adds Mail.ReadWrite (POST /me/messages)."""
    return (*SCOPES, DRAFT_SCOPE) if drafts else SCOPES


AUTHORITY_HOST = "https://login.microsoftonline.com"
# Sign-in hosts MSAL knows; any other host (a test server, a private proxy) must be used
# without MSAL's instance discovery, which would ask login.microsoftonline.com about it.
MICROSOFT_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)
TOKEN_TIMEOUT = 30


@dataclass(frozen=True, slots=True)
class SignInSettings:
    """How an account signed in: enough to rebuild its MSAL application later.

    `scopes` are the permissions as Microsoft wrote them when granting them: personal
    accounts answer with `https://graph.microsoft.com/Mail.Send` where `Mail.Send` was asked,
    and MSAL finds a cached access token only under the names it was stored with.
    """

    client_id: str
    authority: str
    authority_host: str = AUTHORITY_HOST
    username: str = ""
    scopes: tuple[str, ...] = SCOPES

    @property
    def authority_url(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.authority.strip('/')}"

    def fix_command(self, account: str) -> str:
        """The command that signs this account in again with the same app and authority."""
        return sign_in_command(account, self.client_id, self.authority, self.authority_host)


def sign_in_command(
    account: str,
    client_id: str = "<application id>",
    authority: str = "consumers",
    authority_host: str = AUTHORITY_HOST,
) -> str:
    command = (
        f"fairwarning auth microsoft --account {account} --client-id {client_id} "
        f"--authority {authority}"
    )
    if authority_host.rstrip("/") != AUTHORITY_HOST:
        command += f" --authority-host {authority_host}"
    return command


def settings_path(tokens_dir: Path, account: str) -> Path:
    return tokens_dir / f"{account}.microsoft.json"


def cache_path(tokens_dir: Path, account: str) -> Path:
    return tokens_dir / f"{account}.msal.json"


def encode_settings(settings: SignInSettings) -> bytes:
    return (json.dumps(asdict(settings), indent=2, sort_keys=True) + "\n").encode()


def read_settings(path: Path, account: str) -> SignInSettings:
    """The account's sign-in settings, or AccountNeedsPractitioner saying how to sign in."""
    try:
        raw = json.loads(read_private(path).decode("utf-8"))
    except FileNotFoundError:
        raise AccountNeedsPractitioner(
            f"account {account!r} is not signed in to Microsoft yet: run "
            f"`{sign_in_command(account)}` (see 'Connecting Microsoft' in the README)",
            account=account,
        ) from None
    except (OSError, ValueError) as exc:
        raise AccountNeedsPractitioner(
            f"the Microsoft sign-in settings of account {account!r} ({path}) cannot be read "
            f"({exc}); sign in again with `{sign_in_command(account)}`",
            account=account,
        ) from exc
    fields = ("client_id", "authority", "authority_host", "username")
    if not isinstance(raw, dict) or not all(isinstance(raw.get(f), str) for f in fields):
        raise AccountNeedsPractitioner(
            f"the Microsoft sign-in settings of account {account!r} ({path}) are incomplete; "
            f"sign in again with `{sign_in_command(account)}`",
            account=account,
        )
    scopes = raw.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        scopes = list(SCOPES)
    return SignInSettings(**{f: raw[f] for f in fields}, scopes=tuple(scopes))


def granted_scopes(granted: str, asked: tuple[str, ...] = SCOPES) -> tuple[str, ...]:
    """Our scopes as Microsoft named them in a token answer's `scope`, else as we ask."""
    wanted = {scope.lower() for scope in asked}
    named = tuple(s for s in granted.split() if s.rsplit("/", 1)[-1].lower() in wanted)
    return named or asked


def build_application(
    settings: SignInSettings, cache: msal.SerializableTokenCache
) -> msal.PublicClientApplication:
    """MSAL's public client for these settings. It fetches the authority's metadata.

    Network trouble is Recoverable; an authority the sign-in host does not know needs the
    practitioner.
    """
    host = urlsplit(settings.authority_host).hostname or ""
    try:
        return msal.PublicClientApplication(
            settings.client_id,
            authority=settings.authority_url,
            token_cache=cache,
            timeout=TOKEN_TIMEOUT,
            instance_discovery=None if host in MICROSOFT_HOSTS else False,
        )
    except (requests.RequestException, msal.exceptions.MsalServiceError) as exc:
        raise Recoverable(
            f"could not reach the Microsoft sign-in service at {host} ({type(exc).__name__})",
            host=host,
        ) from exc
    except ValueError as exc:
        if isinstance(exc.__context__, json.JSONDecodeError):
            raise Recoverable(
                f"the Microsoft sign-in service at {host} sent an unreadable answer", host=host
            ) from exc
        raise AccountNeedsPractitioner(
            f"{host} does not accept the authority {settings.authority!r}: use `consumers` "
            "for Outlook.com, `organizations` or your tenant id or domain for Microsoft 365 "
            f"({exc})",
            host=host,
        ) from exc
