"""The CalDAV login stored by `fairwarning auth caldav`: server address, username, password.

Kept as JSON in the state directory through `worker.private_files` (mode 0600, replaced
atomically, encrypted when a key is configured), never in the configuration file.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path

from connectors.caldav.http import Login
from worker.errors import AccountNeedsPractitioner, FairWarningError
from worker.private_files import read_private, write_private


def auth_command(account: str, login: Login | None, url: str = "URL") -> str:
    """The command that stores a new password for `account` (with its known address)."""
    address = login.url if login else url
    username = login.username if login else "USERNAME"
    return (
        f"fairwarning auth caldav --account {account} --url {shlex.quote(address)} "
        f"--username {shlex.quote(username)}"
    )


def save_login(path: Path, login: Login) -> None:
    data = {"url": login.url, "username": login.username, "password": login.password}
    write_private(path, json.dumps(data).encode("utf-8"))


def read_login(path: Path, *, account: str, url: str) -> Login:
    """The stored login; `AccountNeedsPractitioner` (with the fix) if absent or unreadable.

    `url` is the configured calendar, named in the fix when no login was ever stored.
    """
    try:
        raw = json.loads(read_private(path).decode("utf-8"))
        return Login(str(raw["url"]), str(raw["username"]), str(raw["password"]))
    except FileNotFoundError:
        why = "no CalDAV password is stored"
    except FairWarningError as exc:
        why = exc.message
    except (OSError, ValueError, KeyError, TypeError) as exc:
        why = f"the stored CalDAV login {path} cannot be read ({type(exc).__name__})"
    fix = auth_command(account, None, _server_of(url))
    raise AccountNeedsPractitioner(
        f"account {account!r}: {why}; store it with `{fix}`", account=account
    )


def describe_login(path: Path, account: str) -> str:
    """One line for `fairwarning auth status`: who is logged in where, never the password."""
    try:
        login = read_login(path, account=account, url="URL")
    except AccountNeedsPractitioner as exc:
        return f"CalDAV: {exc.message}"
    saved = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"CalDAV {login.url} as {login.username}: password stored in {path} ({saved})"


def _server_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else url
