"""What is wrong with the state database, in one line that names the file and the fix.

Every sqlite3 or OS error met while using the state database becomes a `DatabaseFault` here and
nowhere else, so `run --once`, the service log and `status` all say the same thing:

- `readonly`: the database, its `-wal` or `-shm` file, or their folder cannot be written;
- `locked`: another program holds the database longer than the busy timeout;
- `full`: the disk is full;
- `corrupt`: the file is damaged or is not a database (restore the backup);
- `io`: a disk I/O error (a filesystem turned read-only, a failing disk);
- `cantopen`: the file or its folder cannot be opened at all;
- `other`: anything else, with SQLite's own words.
"""

from __future__ import annotations

import errno
import os
import pwd
import sqlite3
from pathlib import Path

import psycopg

from worker.errors import DatabaseFault

RESTORE_GUIDE = 'README.md, "Backup and restore"'

_KINDS = {
    sqlite3.SQLITE_READONLY: "readonly",
    sqlite3.SQLITE_PERM: "readonly",
    sqlite3.SQLITE_BUSY: "locked",
    sqlite3.SQLITE_LOCKED: "locked",
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_CORRUPT: "corrupt",
    sqlite3.SQLITE_NOTADB: "corrupt",
    sqlite3.SQLITE_IOERR: "io",
    sqlite3.SQLITE_CANTOPEN: "cantopen",
}
_WORDS = (  # when SQLite gave no code (or an OS error), its words still say which
    ("readonly", "readonly"),
    ("locked", "locked"),
    ("full", "full"),
    ("malformed", "corrupt"),
    ("not a database", "corrupt"),
    ("disk i/o", "io"),
    ("unable to open", "cantopen"),
)
_ERRNO_KINDS = {
    errno.EACCES: "readonly",
    errno.EPERM: "readonly",
    errno.EROFS: "readonly",
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EIO: "io",
}


def user() -> str:
    """The name of the user this process runs as, for the `chown` in a fix."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def kind_of(exc: BaseException) -> str:
    """Which condition an sqlite3 or OS error is (see the module docstring)."""
    if isinstance(exc, OSError):
        return _ERRNO_KINDS.get(exc.errno or 0, "cantopen")
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _KINDS:
        if code == sqlite3.SQLITE_READONLY_DIRECTORY:
            return "readonly-folder"
        return _KINDS[code & 0xFF]
    words = str(exc).lower()
    return next((kind for word, kind in _WORDS if word in words), "other")


def _detail(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}"
    name = getattr(exc, "sqlite_errorname", None)
    return f"SQLite: {exc}" + (f" [{name}]" if name else "")


def classify(exc: BaseException, db: Path, *, reading: bool = False) -> DatabaseFault:
    """The fault behind `exc`, met while using the database file `db`.

    `reading` is for the read-only commands (`status`, `history`, `review`): a file they cannot
    open is usually one they are not the owner of, and the fix is to run them as that owner.
    """
    if isinstance(exc, psycopg.Error):
        return _postgres_fault(exc)
    kind, detail = kind_of(exc), _detail(exc)
    return damaged(db, detail) if kind == "corrupt" else _fault(kind, db, detail, reading)


def damaged(db: Path, detail: str) -> DatabaseFault:
    """A database that is not one, or that fails its integrity check: restore the backup."""
    detail = " ".join(detail.split())
    return DatabaseFault(
        f"the state database {db} is damaged ({detail}); fix: stop the worker and restore your "
        f"last backup as {RESTORE_GUIDE} says: move {db} and its -wal and -shm files aside, "
        f"copy the backup to {db}, chmod 600 it, then start the worker again",
        kind="corrupt",
        path=str(db),
    )


_READING = (
    "cannot read the state database {db} as user {me} ({detail}); fix: run this command as the "
    "user the worker runs as, or chown/chmod the database and its -wal and -shm files to this "
    "user: `{files}`"
)
_MESSAGES = {
    "readonly": (
        "the state database {db} is read-only for user {me} ({detail}); fix: chown/chmod the "
        "database and its -wal and -shm files: `{files}`"
    ),
    "readonly-folder": (
        "the folder {folder} is not writable by user {me}, so the state database's -wal and -shm "
        "files cannot be made ({detail}); fix: `sudo chown {me} {folder} && sudo chmod 700 "
        "{folder}`, and chown/chmod the database and its -wal and -shm files: `{files}`"
    ),
    "locked": (
        "the state database {db} is locked by another program ({detail}); fix: stop what holds "
        "it (`fuser -v {db}` names it: a sqlite3 shell, a backup job), and keep the state folder "
        "on a local disk, not a network filesystem"
    ),
    "full": (
        "the disk holding the state database {db} is full ({detail}); fix: free some space there "
        "(`df -h {folder}`); the unfinished step was rolled back and is tried again"
    ),
    "io": (
        "disk I/O error on the state database {db} or its -wal or -shm file ({detail}); the disk "
        "may be full (`df -h {folder}`), the filesystem read-only (`mount`) or failing (`dmesg`); "
        "fix that, and if needed chown/chmod the database and its -wal and -shm files: `{files}`"
    ),
    "cantopen": (
        "cannot open the state database {db} ({detail}); fix: make sure {folder} exists on a "
        "local disk and belongs to user {me} (mode 0700), and chown/chmod the database and its "
        "-wal and -shm files: `{files}`"
    ),
    "other": (
        "cannot use the state database {db} ({detail}); check that {folder} exists, is writable "
        "by this user and is not on a network filesystem"
    ),
}


def _fault(kind: str, db: Path, detail: str, reading: bool) -> DatabaseFault:
    me, detail = user(), " ".join(detail.split())
    text = _READING if reading and kind in ("readonly", "readonly-folder", "cantopen") else None
    text = text or _MESSAGES.get(kind, _MESSAGES["other"])
    message = text.format(
        db=db,
        folder=db.parent,
        me=me,
        detail=detail,
        files=f"sudo chown {me} {db}* && sudo chmod 600 {db}*",
    )
    kind = "readonly" if kind == "readonly-folder" else kind
    return DatabaseFault(message, kind=kind, path=str(db))


def _postgres_fault(exc: psycopg.Error) -> DatabaseFault:
    """A PostgreSQL state database (`state.database`) refused a connection or a statement.

    libpq's own words name the server; the fix depends on which side is wrong.
    """
    detail = " ".join(str(exc).split()) or type(exc).__name__
    kind = "cantopen" if isinstance(exc, psycopg.OperationalError) else "other"
    return DatabaseFault(
        f"cannot use the PostgreSQL state database ({detail}); fix: check state.database in the "
        "config, that the server is running and reachable from here, and that the password is "
        "in PGPASSWORD, ~/.pgpass or the file state.password_file names",
        kind=kind,
        path="",
    )
