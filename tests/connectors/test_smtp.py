"""Sending through a real SMTP server (aiosmtpd, STARTTLS and AUTH) on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from connectors.smtp import SmtpSender
from tests.servers.smtp import PASSWORD, USER, SmtpServer
from worker.errors import AccountNeedsPractitioner
from worker.model import REF_HEADER
from worker.pipeline.sender import Outcome

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CLIENT = "sam@example.org"


def _sender(server: SmtpServer, *, password: str = PASSWORD, timeout: float = 5) -> SmtpSender:
    return SmtpSender(
        host="127.0.0.1",
        port=server.port,
        security="starttls",
        username=USER,
        password=lambda: password,
        from_address=USER,
        fix="fairwarning alerts set-password",
        clock=lambda: NOW,
        timeout=timeout,
        context=server.client_context(),
    )


def _notice(
    to: str = CLIENT, body: str = "Hi Sam,\n\nA kind reminder of my policy.\n"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Dana Rivera <dana@riveracoaching.example>"
    message["To"] = to
    message["Bcc"] = "dana@riveracoaching.example"
    message["Subject"] = "About our session on Wednesday"
    message[REF_HEADER] = "FW-3F2A9C1B7D10"
    message.set_content(body)
    return message


def test_a_notice_is_delivered_over_starttls_with_login(smtp_server: SmtpServer) -> None:
    delivery = _sender(smtp_server).send(_notice())
    assert delivery.outcome is Outcome.SENT
    [received] = smtp_server.messages
    assert received.envelope_from == USER
    assert received.recipients == [CLIENT, "dana@riveracoaching.example"]
    assert received.message["Subject"] == "About our session on Wednesday"
    assert received.message[REF_HEADER] == "FW-3F2A9C1B7D10"
    assert smtp_server.logins == [f"{USER}:ok"]


def test_the_bcc_header_never_reaches_the_client(smtp_server: SmtpServer) -> None:
    _sender(smtp_server).send(_notice())
    [received] = smtp_server.messages
    assert received.message["Bcc"] is None
    assert b"Bcc" not in received.raw


def test_a_line_starting_with_a_dot_arrives_whole(smtp_server: SmtpServer) -> None:
    _sender(smtp_server).send(_notice(body="Hi Sam,\n.\n..and a dot line\nBye\n"))
    [received] = smtp_server.messages
    content = str(received.message.get_content()).replace("\r\n", "\n")
    assert content == "Hi Sam,\n.\n..and a dot line\nBye\n"


def test_a_4xx_answer_is_tried_again_later(smtp_server: SmtpServer) -> None:
    smtp_server.answers[CLIENT] = "451 4.3.0 Try again later"
    delivery = _sender(smtp_server).send(_notice())
    assert delivery.outcome is Outcome.DEFERRED
    assert delivery.retry_at is not None
    assert delivery.retry_at > NOW
    assert "451" in delivery.detail
    assert smtp_server.messages == []


def test_a_5xx_answer_is_rejected_with_the_servers_words(smtp_server: SmtpServer) -> None:
    smtp_server.answers[CLIENT] = "550 5.1.1 No such user here"
    delivery = _sender(smtp_server).send(_notice())
    assert delivery.outcome is Outcome.REJECTED
    assert "550 5.1.1 No such user here" in delivery.detail


def test_a_connection_lost_after_the_whole_message_is_unknown(smtp_server: SmtpServer) -> None:
    smtp_server.answers[CLIENT] = "drop"
    delivery = _sender(smtp_server).send(_notice())
    assert delivery.outcome is Outcome.UNKNOWN
    assert "no answer" in delivery.detail


def test_a_wrong_password_needs_the_practitioner_with_the_command(
    smtp_server: SmtpServer,
) -> None:
    with pytest.raises(AccountNeedsPractitioner) as refused:
        _sender(smtp_server, password="wrong").send(_notice())
    assert "fairwarning alerts set-password" in refused.value.message
    assert smtp_server.logins == [f"{USER}:refused"]
    assert smtp_server.messages == []


def test_a_server_that_is_down_is_not_sent_and_tried_later() -> None:
    from tests.servers.smtp import free_port

    sender = SmtpSender(
        host="127.0.0.1",
        port=free_port(),
        security="starttls",
        username=USER,
        password=lambda: PASSWORD,
        from_address=USER,
        fix="fairwarning alerts set-password",
        clock=lambda: NOW,
        timeout=2,
    )
    delivery = sender.send(_notice())
    assert delivery.outcome is Outcome.DEFERRED
    assert "could not reach" in delivery.detail


def test_an_untrusted_certificate_is_not_sent_to(smtp_server: SmtpServer) -> None:
    sender = _sender(smtp_server)
    sender.context = __import__("ssl").create_default_context()  # the test CA is not trusted
    delivery = sender.send(_notice())
    assert delivery.outcome is Outcome.DEFERRED
    assert smtp_server.logins == []
