"""The console's password (an Argon2id hash) and the key that signs its sessions.

Both live in the state directory, 0600, written atomically. Setting a new password also
makes a new signing key, so every session opened with the old password ends.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from worker.errors import FairWarningError
from worker.private_files import read_private, write_private

SHORTEST_PASSWORD = 10


class NoPassword(FairWarningError):
    """The console refuses to start before a password is set."""


def console_dir(state_dir: Path) -> Path:
    return state_dir / "console"


def password_path(state_dir: Path) -> Path:
    return console_dir(state_dir) / "password"


def set_password(state_dir: Path, password: str) -> None:
    if len(password) < SHORTEST_PASSWORD:
        raise FairWarningError(
            f"that password has {len(password)} characters; use at least {SHORTEST_PASSWORD} "
            "(a few unrelated words make a good one)"
        )
    write_private(password_path(state_dir), PasswordHasher().hash(password).encode())
    write_private(_secret_path(state_dir), secrets.token_hex(32).encode())


def has_password(state_dir: Path) -> bool:
    return password_path(state_dir).is_file()


def check_password(state_dir: Path, password: str) -> bool:
    try:
        stored = read_private(password_path(state_dir)).decode()
    except FileNotFoundError:
        return False
    try:
        return PasswordHasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_generation(state_dir: Path) -> str:
    """Changes whenever the password is set: a session opened before that is over."""
    try:
        return hashlib.sha256(password_path(state_dir).read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        return ""


def session_key(state_dir: Path) -> str:
    """The key that signs session cookies, made when the password was set."""
    if not has_password(state_dir):
        raise NoPassword(
            "the console has no password yet; set one with `fairwarning web set-password`"
        )
    path = _secret_path(state_dir)
    if not path.is_file():
        write_private(path, secrets.token_hex(32).encode())
    return read_private(path).decode()


def _secret_path(state_dir: Path) -> Path:
    return console_dir(state_dir) / "session-key"
