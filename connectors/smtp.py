"""Sending through an SMTP server, exactly once as far as SMTP allows.

SMTP has no idempotency key, so the one moment that matters is the end of DATA: until the
terminating "." is written the server discards a half-received message, so any failure is
"not sent" (DEFERRED, safe to try again later); once it is written, a lost connection or a
missing reply means the message may have been accepted (UNKNOWN, never resent blindly).
A 4xx answer at any step is DEFERRED, a 5xx is REJECTED with the server's own words.
The password is read when needed, so a fixed password file is picked up without a restart.
With an IMAP `mailbox`, `save_to_sent` appends a copy of each sent message to the Sent
folder (a failed copy is a warning on a message that stays sent, never a resend), and
`draft` puts a notice in Drafts instead of sending it (drafts mode).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from copy import deepcopy
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from connectors.imap import ImapMailbox
from worker.errors import AccountNeedsPractitioner, FairWarningError, Recoverable
from worker.pipeline.sender import Delivery, Outcome

RETRY_AFTER = timedelta(minutes=5)


class _Answered(Exception):
    """The server answered a step with a code other than the one hoped for."""

    def __init__(self, step: str, code: int, text: bytes | str) -> None:
        words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        super().__init__(f"{step}: {code} {' '.join(words.split())}")
        self.code = code


class SmtpSender:
    """Delivers one message per connection through `host:port`.

    `security` is "starttls", "tls" (implicit) or "none"; `password` returns the stored
    password (or "" for a relay without login); `fix` is the command that stores a new one,
    quoted when the server refuses the login. `context` lets tests trust their own CA.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        username: str,
        password: Callable[[], str],
        from_address: str,
        fix: str,
        clock: Callable[[], datetime],
        timeout: float = 30.0,
        context: ssl.SSLContext | None = None,
        mailbox: ImapMailbox | None = None,
        save_to_sent: bool = False,
    ) -> None:
        self.mailbox = mailbox
        self.save_to_sent = save_to_sent
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.from_address = from_address
        self.fix = fix
        self.clock = clock
        self.timeout = timeout
        self.context = context or ssl.create_default_context()

    def describe(self) -> str:
        return f"SMTP {self.host}:{self.port}"

    def send(self, message: EmailMessage) -> Delivery:
        recipients = [a for _, a in getaddresses(message.get_all("To", []) + _copies(message))]
        sender = self.from_address or parseaddr(str(message["From"]))[1]
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return self._later(f"could not reach {self.describe()}: {_say(exc)}")
        try:
            delivery = self._transfer(connection, sender, recipients, _wire_bytes(message))
        finally:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()
        if delivery.outcome is Outcome.SENT and self.save_to_sent and self.mailbox is not None:
            return self._copied(message, delivery, self.mailbox)
        return delivery

    def draft(self, message: EmailMessage) -> Delivery:
        """Put `message` in the Drafts folder of the account's IMAP mailbox; a `Drafter`."""
        if self.mailbox is None:
            raise AccountNeedsPractitioner(
                f"{self.describe()} has no IMAP mailbox to put drafts in; add imap = {{ host = "
                '"…" } to the account\'s sender, or set policy.mode = "review"'
            )
        return self.mailbox.draft(message)

    @staticmethod
    def _copied(message: EmailMessage, delivery: Delivery, mailbox: ImapMailbox) -> Delivery:
        """The sent message's copy in Sent; a failure is a warning, the message stays sent."""
        try:
            mailbox.save_copy(message)
        except FairWarningError as exc:
            warning = f"sent, but no copy was saved in your Sent folder: {exc.message}"
            return Delivery(
                delivery.outcome, delivery.detail, delivery.provider_id, warning=warning
            )
        return delivery

    def check_login(self) -> None:
        """Connect, secure the connection and log in, sending nothing: for `auth smtp`.

        Raises AccountNeedsPractitioner for a refused login or a server without STARTTLS,
        Recoverable when the server cannot be reached or the TLS handshake fails.
        """
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise Recoverable(
                f"could not reach {self.describe()} ({self.security}): {_say(exc)}; check "
                "host, port and security (465 is usually tls, 587 starttls)"
            ) from None
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            connection.ehlo()
            if self.security == "starttls":
                if not connection.has_extn("starttls"):
                    raise AccountNeedsPractitioner(
                        f"{self.describe()} does not offer STARTTLS, so the password would "
                        "travel in the clear; use security = 'tls' (port 465) or another server"
                    )
                connection.starttls(context=self.context)
                connection.ehlo()
            if self.username:
                _log_in(connection, self.username, self._password())
        except smtplib.SMTPAuthenticationError as exc:
            connection.close()
            raise AccountNeedsPractitioner(
                f"{self.describe()} refused the login for {self.username} "
                f"({exc.smtp_code} {_say(exc)}); store the right password with: {self.fix}"
            ) from None
        except BaseException:
            connection.close()
            raise
        return connection

    def _transfer(
        self, connection: smtplib.SMTP, sender: str, recipients: list[str], data: bytes
    ) -> Delivery:
        try:
            _expect(connection.mail(sender), "MAIL FROM")
            refused = []
            for recipient in recipients:
                code, text = connection.rcpt(recipient)
                if code not in (250, 251):
                    refused.append(_Answered(f"RCPT TO {recipient}", code, text))
            if len(refused) == len(recipients):
                raise refused[0] if refused else _Answered("RCPT TO", 554, "no recipients")
            _expect(connection.docmd("DATA"), "DATA", wanted=354)
            connection.send(data + b".\r\n")
        except _Answered as exc:
            return self._answered(exc)
        except (OSError, smtplib.SMTPException) as exc:
            return self._later(f"{self.describe()} dropped the message before it ended: {exc}")
        try:
            code, text = connection.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            return Delivery(
                Outcome.UNKNOWN,
                detail=f"{self.describe()} took the whole message but gave no answer ({exc})",
            )
        if code == 250:
            return Delivery(Outcome.SENT, provider_id=_say(text))
        return self._answered(_Answered("end of DATA", code, text))

    def _answered(self, exc: _Answered) -> Delivery:
        if 400 <= exc.code < 500:
            return self._later(f"{self.describe()} asked to try later: {exc}")
        return Delivery(Outcome.REJECTED, detail=f"{self.describe()} refused: {exc}")

    def _later(self, detail: str) -> Delivery:
        return Delivery(Outcome.DEFERRED, detail=detail, retry_at=self.clock() + RETRY_AFTER)


def _log_in(connection: smtplib.SMTP, username: str, password: str) -> None:
    """One PLAIN attempt where offered: smtplib's login() would try every mechanism in turn."""
    if "plain" not in connection.esmtp_features.get("auth", "").lower().split():
        connection.login(username, password)
        return
    connection.user, connection.password = username, password
    code, text = connection.auth("PLAIN", connection.auth_plain)
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, text)


def _copies(message: EmailMessage) -> list[str]:
    return [str(v) for v in message.get_all("Cc", []) + message.get_all("Bcc", [])]


def _expect(answer: tuple[int, bytes], step: str, wanted: int = 250) -> None:
    code, text = answer
    if code != wanted:
        raise _Answered(step, code, text)


def _wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent after DATA: no Bcc header, CRLF lines, leading dots doubled."""
    copy = deepcopy(message)
    del copy["Bcc"]
    flat = copy.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    flat = re.sub(rb"(?m)^\.", b"..", re.sub(rb"\r?\n", b"\r\n", flat))
    return flat if flat.endswith(b"\r\n") else flat + b"\r\n"


def _say(value: object) -> str:
    if isinstance(value, smtplib.SMTPResponseException):
        value = value.smtp_error
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())
