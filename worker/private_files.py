"""Files only this user may read (tokens, caches), written so a crash never leaves half a file.

Optionally encrypted at rest with Fernet (AES-128-CBC + HMAC, from `cryptography`): the key
comes from $FAIRWARNING_KEY or a systemd credential named `fairwarning-key`
(`LoadCredential=`), never from the configuration file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from worker.errors import StateError

KEY_VARIABLE = "FAIRWARNING_KEY"
KEY_CREDENTIAL = "fairwarning-key"
_FERNET_PREFIX = b"gAAAAA"


def secret_key() -> bytes | None:
    """The encryption key, if one is configured (environment first, then systemd)."""
    if os.environ.get(KEY_VARIABLE):
        return os.environ[KEY_VARIABLE].strip().encode()
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        with contextlib.suppress(OSError):
            return (Path(credentials) / KEY_CREDENTIAL).read_bytes().strip()
    return None


def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise StateError(
            f"{KEY_VARIABLE} (or the {KEY_CREDENTIAL} credential) is not a valid key; "
            "make one with `fairwarning service new-key`"
        ) from None


def is_encrypted(data: bytes) -> bool:
    return data.startswith(_FERNET_PREFIX)


def read_private(path: Path) -> bytes:
    """The file's contents, decrypted if it was written encrypted."""
    data = path.read_bytes()
    if not is_encrypted(data):
        return data
    key = secret_key()
    if key is None:
        raise StateError(
            f"{path} is encrypted but no key is set: export {KEY_VARIABLE} or give the "
            f"service the {KEY_CREDENTIAL} credential"
        )
    try:
        return _fernet(key).decrypt(data)
    except InvalidToken:
        raise StateError(
            f"{path} cannot be decrypted with the configured key; set the key it was written "
            "with, or authorise the account again"
        ) from None


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`, mode 0600, in a 0700 folder, fsynced.

    Encrypted first when a key is configured.
    """
    key = secret_key()
    if key is not None:
        data = _fernet(key).encrypt(data)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def tokens_dir(state_dir: Path) -> Path:
    """Where OAuth tokens and caches live: inside the state directory, never in the config."""
    return state_dir / "tokens"


def new_key() -> str:
    return Fernet.generate_key().decode()
