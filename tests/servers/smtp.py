"""A real SMTP server (aiosmtpd) on 127.0.0.1 with STARTTLS and AUTH, started once per session.

Tests read what arrived in `messages` and change how it answers through `answers`: a map
from a recipient address to the reply its message gets ("451 …", "550 …", or "drop" to
close the connection once the whole message has been received, before answering).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "alerts@riveracoaching.example", "relay-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    envelope_from: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class SmtpServer:
    """What the running server received, and how it will answer."""

    port: int
    ca: trustme.CA
    messages: list[Received] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def reset(self) -> None:
        self.messages.clear()
        self.answers.clear()
        self.logins.clear()


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        answer = next(
            (self.server.answers[r] for r in envelope.rcpt_tos if r in self.server.answers),
            "250 2.0.0 Ok: queued as FW1",
        )
        if answer == "drop":
            smtp.transport.close()
            return "421 closing"
        if answer.startswith("250"):
            raw = bytes(envelope.original_content or envelope.content)
            parsed = message_from_bytes(raw, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.server.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw)
            )
        return answer


def start_smtp() -> tuple[SmtpServer, Controller]:
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(tls)
    server = SmtpServer(port=free_port(), ca=ca)

    def authenticate(smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        server.logins.append(f"{data.login.decode()}:{'ok' if ok else 'refused'}")
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=server.port,
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    return server, controller
