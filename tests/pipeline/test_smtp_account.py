"""An account that sends through its own SMTP server: the sender the wiring builds from the
config, against the real SMTP server (aiosmtpd, STARTTLS and AUTH) started by the tests."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.practice import PRACTITIONER, SAM, Practice
from tests.servers.smtp import PASSWORD, USER, SmtpServer
from worker.config import SmtpSettings
from worker.private_files import write_private
from worker.store import sync_state
from worker.store.db import transaction
from worker.wiring import build_sender, smtp_password_path

HOUR = timedelta(hours=1)


@pytest.fixture
def smtp_practice(
    practice: Practice, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Practice:
    """Account main sends through the test server; the test CA is trusted as a system CA."""
    trusted = tmp_path / "ca.pem"
    smtp_server.ca.cert_pem.write_to_path(str(trusted))
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))
    settings = SmtpSettings.model_validate(
        {
            "provider": "smtp",
            "host": "127.0.0.1",
            "port": smtp_server.port,
            "security": "starttls",
            "username": USER,
            "timeout": "5s",
        }
    )
    [account] = practice.config.accounts
    account = account.model_copy(update={"sender": settings})
    practice.config = practice.config.model_copy(update={"accounts": [account]})
    practice.sender = build_sender(account, practice.config, practice.clock)  # type: ignore[assignment]
    practice.worker = practice.build_worker()
    write_private(smtp_password_path(practice.config, "main"), PASSWORD.encode())
    return practice


def _to(server: SmtpServer, address: str) -> list[EmailMessage]:
    return [r.message for r in server.messages if address in r.recipients]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _sending_pause(practice: Practice) -> str:
    [row] = practice.query("SELECT sending_pause_reason FROM accounts WHERE name = 'main'")
    return str(row["sending_pause_reason"] or "")


def test_a_late_decline_sends_the_reminder_through_the_practitioners_smtp_server(
    smtp_practice: Practice, smtp_server: SmtpServer
) -> None:
    assert type(smtp_practice.sender).__name__ == "SmtpSender"
    smtp_practice.late_decline()
    smtp_practice.clock.advance(HOUR)
    smtp_practice.cycle()
    [notice] = _to(smtp_server, SAM)
    [received] = [r for r in smtp_server.messages if SAM in r.recipients]
    assert received.envelope_from == PRACTITIONER, "MAIL FROM defaults to the notice's From"
    assert PRACTITIONER in str(notice["From"])
    assert "policy" in _text(notice).lower()
    assert smtp_server.logins == [f"{USER}:ok"]
    assert smtp_practice.outbox_states() == ["sent"]
    smtp_practice.clock.advance(HOUR)
    smtp_practice.cycle()
    assert len(_to(smtp_server, SAM)) == 1, "sent once"


def test_a_5xx_answer_is_a_rejected_notice_and_an_alert_with_the_servers_words(
    smtp_practice: Practice, smtp_server: SmtpServer
) -> None:
    smtp_server.answers[SAM] = "550 5.1.1 Mailbox does not exist"
    smtp_practice.late_decline()
    smtp_practice.clock.advance(HOUR)
    smtp_practice.cycle()
    assert smtp_practice.outbox_states() == ["rejected"]
    assert _to(smtp_server, SAM) == []
    [alert] = _to(smtp_server, PRACTITIONER)
    assert "Mailbox does not exist" in _text(alert)


def test_a_connection_dropped_after_data_is_unknown_and_never_resent(
    smtp_practice: Practice, smtp_server: SmtpServer
) -> None:
    smtp_server.answers[SAM] = "drop"
    smtp_practice.late_decline()
    smtp_practice.clock.advance(HOUR)
    smtp_practice.cycle()
    assert smtp_practice.outbox_states() == ["unknown"]
    del smtp_server.answers[SAM]  # the server answers normally again
    for _ in range(3):
        smtp_practice.clock.advance(HOUR)
        smtp_practice.cycle()
    assert smtp_practice.outbox_states() == ["unknown"]
    assert _to(smtp_server, SAM) == [], "never resent blindly"
    [alert] = _to(smtp_server, PRACTITIONER)
    [row] = smtp_practice.query("SELECT ref FROM outbox")
    assert row["ref"] in _text(alert)


def test_a_wrong_stored_password_pauses_sending_with_the_command_that_fixes_it(
    smtp_practice: Practice, smtp_server: SmtpServer
) -> None:
    write_private(smtp_password_path(smtp_practice.config, "main"), b"not-the-password")
    smtp_practice.late_decline()
    smtp_practice.clock.advance(HOUR)
    smtp_practice.cycle()
    assert smtp_server.messages == []
    assert f"{USER}:refused" in smtp_server.logins
    assert "fairwarning auth smtp --account main" in _sending_pause(smtp_practice)
    assert smtp_practice.outbox_states() == ["queued"], "waits, never lost"
    write_private(smtp_password_path(smtp_practice.config, "main"), PASSWORD.encode())
    with transaction(smtp_practice.db):
        sync_state.resume(smtp_practice.db, "main")  # what `auth smtp` does once it stored it
    smtp_practice.clock.advance(HOUR)
    smtp_practice.cycle()
    assert smtp_practice.outbox_states() == ["sent"]
    assert len(_to(smtp_server, SAM)) == 1
