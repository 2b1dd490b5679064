"""Copies in the practitioner's own mailbox: a real Dovecot IMAP server and a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from connectors.imap import ImapMailbox
from connectors.smtp import SmtpSender
from tests.servers import smtp
from tests.servers.imap import DRAFTS_FOLDER, PASSWORD, SENT_FOLDER, USER, ImapServer
from tests.servers.smtp import SmtpServer, free_port
from worker.errors import AccountNeedsPractitioner
from worker.model import REF_HEADER
from worker.pipeline.sender import Outcome

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIX = "fairwarning auth smtp --account main"


def _mailbox(server: ImapServer, *, password: str = PASSWORD, port: int = 0) -> ImapMailbox:
    return ImapMailbox(
        host="127.0.0.1",
        port=port or server.port,
        security="none",
        username=USER,
        password=lambda: password,
        fix=FIX,
        clock=lambda: NOW,
        timeout=5,
    )


def _sender(smtp_server: SmtpServer, mailbox: ImapMailbox) -> SmtpSender:
    return SmtpSender(
        host="127.0.0.1",
        port=smtp_server.port,
        security="starttls",
        username=smtp.USER,
        password=lambda: smtp.PASSWORD,
        from_address=smtp.USER,
        fix=FIX,
        clock=lambda: NOW,
        timeout=5,
        context=smtp_server.client_context(),
        mailbox=mailbox,
        save_to_sent=True,
    )


def _notice(ref: str = "FW-3F2A9C1B7D10") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Dana Rivera <dana@riveracoaching.example>"
    message["To"] = "Sam Lee <sam@example.org>"
    message["Subject"] = "About our session on Wednesday"
    message["Message-ID"] = make_msgid(domain="riveracoaching.example")
    message[REF_HEADER] = ref
    message.set_content("Hi Sam,\n\nA kind reminder of my policy.\n")
    return message


def test_a_sent_notice_is_copied_whole_into_the_sent_folder(
    smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    notice = _notice()
    delivery = _sender(smtp_server, _mailbox(imap_server)).send(notice)
    assert delivery.outcome is Outcome.SENT
    assert delivery.warning == ""
    assert len(smtp_server.messages) == 1
    # Found by its \Sent flag: the folder is not called "Sent" on this server.
    [copy] = imap_server.messages(SENT_FOLDER)
    for header in ("Message-ID", "Subject", "From", "To", REF_HEADER):
        assert copy[header] == notice[header]
    assert copy.get_content().replace("\r\n", "\n") == notice.get_content()
    assert imap_server.messages(DRAFTS_FOLDER) == []


def test_a_failed_copy_leaves_the_notice_sent_with_a_warning(
    smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    down = _mailbox(imap_server, port=free_port())
    delivery = _sender(smtp_server, down).send(_notice())
    assert delivery.outcome is Outcome.SENT
    assert len(smtp_server.messages) == 1
    assert delivery.warning.startswith("sent, but no copy was saved in your Sent folder")
    assert "could not reach IMAP 127.0.0.1" in delivery.warning


def test_a_refused_copy_login_names_the_command_that_stores_the_password(
    smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    wrong = _mailbox(imap_server, password="old-password")
    delivery = _sender(smtp_server, wrong).send(_notice())
    assert delivery.outcome is Outcome.SENT
    assert f"store the right password with: {FIX}" in delivery.warning


def test_a_draft_lands_in_drafts_and_nothing_is_sent(
    smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    notice = _notice()
    delivery = _sender(smtp_server, _mailbox(imap_server)).draft(notice)
    assert delivery.outcome is Outcome.DRAFTED
    assert smtp_server.messages == []
    [draft] = imap_server.messages(DRAFTS_FOLDER)
    assert draft["Message-ID"] == notice["Message-ID"]
    assert draft[REF_HEADER] == notice[REF_HEADER]


def test_drafting_the_same_notice_again_finds_the_first_draft(imap_server: ImapServer) -> None:
    """A crash after the APPEND and before the outbox record: the rebuilt notice (a new
    Message-ID, the same reference) is found in Drafts and not appended a second time."""
    mailbox = _mailbox(imap_server)
    first = mailbox.draft(_notice())
    again = mailbox.draft(_notice())
    other = mailbox.draft(_notice(ref="FW-000000000001"))
    assert (first.outcome, again.outcome, other.outcome) == (Outcome.DRAFTED,) * 3
    assert "already in Drafts" in again.detail
    refs = [m[REF_HEADER] for m in imap_server.messages(DRAFTS_FOLDER)]
    assert refs == ["FW-3F2A9C1B7D10", "FW-000000000001"]


def test_an_unreachable_mailbox_defers_the_draft(imap_server: ImapServer) -> None:
    delivery = _mailbox(imap_server, port=free_port()).draft(_notice())
    assert delivery.outcome is Outcome.DEFERRED
    assert delivery.retry_at is not None
    assert delivery.retry_at > NOW
    assert "could not reach IMAP 127.0.0.1" in delivery.detail


def test_a_refused_login_needs_the_practitioner(imap_server: ImapServer) -> None:
    with pytest.raises(AccountNeedsPractitioner) as caught:
        _mailbox(imap_server, password="old-password").draft(_notice())
    assert f"refused the login for {USER}" in caught.value.message
    assert caught.value.message.endswith(f"store the right password with: {FIX}")
    assert imap_server.messages(DRAFTS_FOLDER) == []
