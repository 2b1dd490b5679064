"""Copies of notices in the practitioner's own mailbox over IMAP: Sent copies and drafts.

An SMTP server keeps no copy of what it sent, so `save_to_sent` appends one to the Sent
folder; in drafts mode the notice is appended to Drafts instead of being sent. Folders are
found by their SPECIAL-USE flag (RFC 6154: `\\Sent`, `\\Drafts`), else by the usual name.

IMAP APPEND has no idempotency key either, but a draft can be looked for: every notice
carries its reference in the `X-Fair-Warning-Ref` header, so the Drafts folder is searched
for it before appending. A crash between the APPEND and the outbox record, or an APPEND
whose answer was lost, therefore puts the draft there once: the next attempt finds it.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from worker.errors import AccountNeedsPractitioner, Recoverable
from worker.model import REF_HEADER
from worker.pipeline.sender import Delivery, Outcome

RETRY_AFTER = timedelta(minutes=5)
SENT, DRAFTS = "\\Sent", "\\Drafts"
_USUAL_NAMES = {SENT: "Sent", DRAFTS: "Drafts"}
_LISTED = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


class ImapMailbox:
    """The practitioner's mailbox at `host:port` (`security`: "tls", "starttls" or "none").

    `password` returns the stored password when it is needed (the SMTP one: one mailbox,
    one password); `fix` is the command that stores a new one, quoted when the login is
    refused. `folders` may name the Sent and Drafts folders where the server marks neither.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        username: str,
        password: Callable[[], str],
        fix: str,
        clock: Callable[[], datetime],
        timeout: float = 30.0,
        context: ssl.SSLContext | None = None,
        folders: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.fix = fix
        self.clock = clock
        self.timeout = timeout
        self.context = context or ssl.create_default_context()
        self.folders = dict(folders or {})

    def describe(self) -> str:
        return f"IMAP {self.host}:{self.port}"

    def save_copy(self, message: EmailMessage) -> str:
        """Append `message` to the Sent folder, marked read; returns the folder.

        Raises Recoverable (server unreachable, APPEND refused) or AccountNeedsPractitioner
        (login refused): the caller reports either as a warning, the notice stays sent.
        """
        with self._session() as connection:
            folder = _folder(connection, SENT, self.folders)
            _append(connection, folder, "(\\Seen)", message, self.clock())
        return folder

    def draft(self, message: EmailMessage) -> Delivery:
        """Put `message` in the Drafts folder once; a `Drafter`.

        A draft already carrying the notice's reference is not appended again. Failures
        are DEFERRED (the next attempt looks before appending, so none can draft twice);
        a refused login raises AccountNeedsPractitioner with the command that fixes it.
        """
        ref = str(message.get(REF_HEADER, "")).strip()
        try:
            with self._session() as connection:
                folder = _folder(connection, DRAFTS, self.folders)
                if ref and _holds(connection, folder, ref):
                    return Delivery(Outcome.DRAFTED, detail=f"already in {folder} ({ref})")
                _append(connection, folder, "(\\Draft)", message, self.clock())
        except Recoverable as exc:
            return Delivery(
                Outcome.DEFERRED,
                detail=f"not drafted yet: {exc.message}",
                retry_at=self.clock() + RETRY_AFTER,
            )
        return Delivery(Outcome.DRAFTED, detail=f"in your {folder} folder ({self.describe()})")

    def check_login(self) -> None:
        """Connect and log in, changing nothing (for `auth smtp`); raises like `draft`."""
        with self._session():
            pass

    def _session(self) -> _Session:
        return _Session(self)

    def _connect(self) -> imaplib.IMAP4:
        try:
            if self.security == "tls":
                connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=self.context, timeout=self.timeout
                )
            else:
                connection = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    connection.starttls(ssl_context=self.context)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise Recoverable(
                f"could not reach {self.describe()} ({self.security}): {_say(exc)}; check "
                "the imap host, port and security (993 is usually tls, 143 starttls)"
            ) from None
        try:
            connection.login(self.username, self._password())
        except imaplib.IMAP4.abort as exc:
            _close(connection)
            raise Recoverable(f"{self.describe()} dropped the connection: {_say(exc)}") from None
        except imaplib.IMAP4.error as exc:
            _close(connection)
            raise AccountNeedsPractitioner(
                f"{self.describe()} refused the login for {self.username} ({_say(exc)}); "
                f"store the right password with: {self.fix}"
            ) from None
        except BaseException:
            _close(connection)
            raise
        return connection


class _Session:
    """One logged-in connection; IMAP and socket failures inside become Recoverable."""

    def __init__(self, mailbox: ImapMailbox) -> None:
        self.mailbox = mailbox
        self.connection: imaplib.IMAP4 | None = None

    def __enter__(self) -> imaplib.IMAP4:
        self.connection = self.mailbox._connect()
        return self.connection

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        if self.connection is not None:
            try:
                self.connection.logout()
            except (OSError, imaplib.IMAP4.error):
                _close(self.connection)
        if isinstance(exc, OSError | imaplib.IMAP4.error):
            raise Recoverable(f"{self.mailbox.describe()}: {_say(exc)}") from None


def _folder(connection: imaplib.IMAP4, use: str, named: dict[str, str]) -> str:
    """The folder named in the config, else the one flagged `use`, else the usual name."""
    if named.get(use):
        return named[use]
    status, listed = connection.list()
    if status == "OK":
        for line in listed:
            found = _LISTED.match(line) if isinstance(line, bytes) else None
            if found and use.lower().encode() in found["flags"].lower().split():
                return _unquote(found["name"].decode("utf-8", "replace"))
    return _USUAL_NAMES[use]


def _holds(connection: imaplib.IMAP4, folder: str, ref: str) -> bool:
    status, _ = connection.select(_quote(folder), readonly=True)
    if status != "OK":
        return False  # no such folder yet: the APPEND creates it
    status, found = connection.uid("SEARCH", "HEADER", REF_HEADER, ref)
    if status != "OK":
        raise imaplib.IMAP4.error(f"SEARCH in {folder} failed: {found!r}")
    return bool(found and found[0] and found[0].split())


def _append(
    connection: imaplib.IMAP4, folder: str, flags: str, message: EmailMessage, now: datetime
) -> None:
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    moment = imaplib.Time2Internaldate(time.mktime(now.astimezone().timetuple()))
    status, answer = connection.append(_quote(folder), flags, moment, raw)
    if status != "OK" and b"TRYCREATE" in b" ".join(a for a in answer if isinstance(a, bytes)):
        connection.create(_quote(folder))
        status, answer = connection.append(_quote(folder), flags, moment, raw)
    if status != "OK":
        raise imaplib.IMAP4.error(f"APPEND to {folder} refused: {_say(answer)}")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def _close(connection: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown()


def _say(value: object) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())
