"""Alerts to the practitioner: once per condition, through a route that does not depend on the
account that failed (a relay, another account, then the account's own mailbox)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.practice import PRACTITIONER, Practice
from tests.servers.smtp import PASSWORD, USER, SmtpServer
from worker.config import AlertSettings, Config
from worker.errors import AccountNeedsPractitioner
from worker.model import CalendarChanges
from worker.notices.templates import TemplateLibrary
from worker.pipeline.alert_samples import sample_alert
from worker.pipeline.alerts import ALERT_KINDS, describe_routes
from worker.pipeline.calendar import MemoryCalendar
from worker.pipeline.cycle import Mailroom
from worker.pipeline.sender import Delivery, MemorySender, Outcome
from worker.private_files import write_private
from worker.service.health import describe, exit_code, health
from worker.wiring import alert_password_path, build_alert_relay

HOUR = timedelta(hours=1)


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_cases_waiting_for_review_are_listed_once_a_day_at_the_digest_hour(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    practice.clock.now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 06:00 in London
    practice.late_decline()
    assert practice.alerts() == []
    practice.clock.now = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    practice.cycle()
    practice.cycle()
    [digest] = practice.alerts()
    assert "1 case waiting for your review" in str(digest["Subject"])
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    assert f"fairwarning approve {case['id']}" in _text(digest)
    assert "sam@example.org" in _text(digest)
    practice.clock.advance(24 * HOUR)
    practice.cycle()
    assert len(practice.alerts()) == 2, "still waiting the next day: a new digest"


def test_with_a_public_console_the_digest_links_each_case_to_its_page(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    web = practice.config.web.model_copy(update={"public_url": "https://fw.example.org"})
    practice.config = practice.config.model_copy(update={"web": web})
    practice.worker = practice.build_worker()
    practice.clock.now = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    practice.late_decline()
    practice.cycle()
    [digest] = practice.alerts()
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    assert f"https://fw.example.org/review/{case['id']}" in _text(digest)


def test_without_a_public_console_the_digest_has_no_link(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    practice.clock.now = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    practice.late_decline()
    practice.cycle()
    [digest] = practice.alerts()
    assert "console" not in _text(digest)


def test_a_send_that_ended_unknown_is_reported_once_with_what_to_check(
    practice: Practice,
) -> None:
    practice.late_decline()
    practice.sender.script = [Delivery(Outcome.UNKNOWN, detail="read timed out")]
    practice.clock.advance(HOUR)
    practice.cycle()
    practice.cycle()
    [alert] = practice.alerts()
    [row] = practice.query("SELECT ref FROM outbox")
    assert row["ref"] in _text(alert)
    assert "read timed out" in _text(alert)
    assert "Sent folder" in _text(alert)
    assert practice.notices() == []


class _Revoked:
    def poll(self, cursor: str | None) -> CalendarChanges:
        raise AccountNeedsPractitioner(
            "Google refused the token: run fairwarning auth google --account main "
            "--client-secrets client_secret.json"
        )


def test_revoked_access_is_alerted_once_and_again_after_a_later_revocation(
    practice: Practice,
) -> None:
    practice.baseline()
    real = practice.worker.mailrooms[0]
    practice.worker.mailrooms[0] = replace(real, calendar=_Revoked())
    practice.cycle()
    practice.clock.advance(2 * HOUR)
    practice.cycle()
    [alert] = practice.alerts()
    assert "fairwarning auth google --account main --client-secrets client_secret.json" in _text(
        alert
    )
    practice.worker.mailrooms[0] = real
    practice.clock.advance(2 * HOUR)
    practice.cycle()
    practice.worker.mailrooms[0] = replace(real, calendar=_Revoked())
    practice.clock.advance(2 * HOUR)
    practice.cycle()
    assert len(practice.alerts()) == 2


def test_a_sending_pause_is_told_once_sending_works_again(practice: Practice) -> None:
    practice.late_decline()
    until = practice.clock.now + 6 * HOUR
    practice.sender.script = [
        Delivery(Outcome.DEFERRED, "daily limit", retry_at=until, pause_sending=True)
    ]
    practice.clock.advance(HOUR)
    practice.cycle()
    assert practice.alerts() == []
    practice.clock.now = until + timedelta(minutes=1)
    practice.cycle()
    practice.cycle()
    [alert] = practice.alerts()
    assert "paused until" in str(alert["Subject"])
    assert len(practice.notices()) == 1


def test_alerts_can_be_turned_off(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    practice.config = practice.config.model_copy(
        update={"alerts": practice.config.alerts.model_copy(update={"enabled": False})}
    )
    practice.worker = practice.build_worker()
    practice.late_decline()
    practice.clock.advance(12 * HOUR)
    practice.cycle()
    assert practice.alerts() == []


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", ALERT_KINDS)
def test_every_alert_template_renders(tmp_path: Path, kind: str, language: str) -> None:
    config = Practice(tmp_path).config
    rendered = TemplateLibrary().render(kind, language, sample_alert(kind, config))
    assert rendered.subject
    assert config.practitioner.name in rendered.text


# --- Routes: alerts arrive even when the failing account is the practitioner's mailbox ---


class _RevokedSender:
    """A mailbox whose authorisation was revoked: every attempt needs a token and fails."""

    def __init__(self) -> None:
        self.attempts = 0

    def send(self, message: EmailMessage) -> Delivery:
        self.attempts += 1
        raise AccountNeedsPractitioner("Google refused the token (invalid_grant)")


def _revoke_main(practice: Practice) -> _RevokedSender:
    practice.baseline()
    revoked = _RevokedSender()
    practice.worker.mailrooms[0] = replace(
        practice.worker.mailrooms[0], calendar=_Revoked(), sender=revoked
    )
    return revoked


def _alert_rows(practice: Practice) -> list[dict[str, str]]:
    return [dict(r) for r in practice.query("SELECT key, state, detail FROM alerts ORDER BY key")]


def test_a_revoked_mailbox_alert_goes_out_through_the_practitioners_other_account(
    practice: Practice,
) -> None:
    second = MemorySender()
    practice.worker.mailrooms.append(
        Mailroom("second", MemoryCalendar(clock=practice.clock), second)
    )
    revoked = _revoke_main(practice)
    practice.cycle()
    [alert] = second.sent
    assert "fairwarning auth google --account main" in _text(alert)
    assert revoked.attempts == 0, "the revoked mailbox is the last resort, not the first"
    [row] = _alert_rows(practice)
    assert row["state"] == "sent"
    assert row["detail"] == "via account second's mailbox"


def test_a_paused_mailbox_is_tried_once_per_pause_and_the_alert_waits_visibly(
    practice: Practice,
) -> None:
    revoked = _revoke_main(practice)
    practice.cycle()
    assert revoked.attempts == 1, "the cycle that found the revocation tries its mailbox once"
    for _ in range(10):
        practice.clock.advance(timedelta(minutes=5))
        practice.cycle()
    assert revoked.attempts == 1, "no token request while the account is paused"
    [row] = _alert_rows(practice)
    assert row["state"] == "undelivered"
    assert "account main's own mailbox: Google refused the token" in row["detail"]
    audit = practice.query("SELECT detail FROM audit WHERE event = 'alert not sent'")
    assert len(audit) == 1, "the audit log says it once, not once per cycle"
    report = health(practice.db, ["main"], practice.clock.now, timedelta(minutes=1))
    assert exit_code(report) == 1
    assert "ALERT NOT DELIVERED (reauth, account main): account main's own mailbox: Google " in (
        describe(report)
    )
    practice.clock.advance(HOUR)
    practice.cycle()
    assert revoked.attempts == 2, "after the pause: one new try"


def test_a_rejected_notice_is_alerted_once(practice: Practice) -> None:
    practice.late_decline()
    practice.sender.script = [Delivery(Outcome.REJECTED, detail="550 5.1.1 no such user")]
    practice.clock.advance(HOUR)
    practice.cycle()
    practice.cycle()
    [alert] = practice.alerts()
    assert "was refused" in str(alert["Subject"])
    assert "550 5.1.1 no such user" in _text(alert)
    [case] = practice.query("SELECT id FROM decisions")
    assert f"fairwarning approve {case['id']}" in _text(alert)


def test_the_only_route_through_the_accounts_own_mailbox_is_warned_about(
    practice: Practice,
) -> None:
    route, warning = describe_routes(practice.config)
    assert route == f"alerts go to {PRACTITIONER} through the account's own mailbox"
    assert "add an [alerts.via] route" in warning
    relayed = _with_via(practice, {"provider": "sendmail", "path": "/usr/sbin/sendmail"})
    route, warning = describe_routes(relayed)
    assert route.startswith(f"alerts go to {PRACTITIONER} through sendmail (/usr/sbin/sendmail)")
    assert warning == ""


def _with_via(practice: Practice, via: dict[str, Any]) -> Config:
    alerts = AlertSettings.model_validate({"via": via})
    return practice.config.model_copy(update={"alerts": alerts})


def _relay_through(practice: Practice, via: dict[str, Any]) -> None:
    practice.config = _with_via(practice, via)
    practice.worker = practice.build_worker()
    practice.worker.alert_relay = build_alert_relay(practice.config, practice.clock)


def test_a_revoked_only_account_alerts_through_the_smtp_relay(
    practice: Practice, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trusted = tmp_path / "ca.pem"
    smtp_server.ca.cert_pem.write_to_path(str(trusted))
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))
    _relay_through(
        practice,
        {"provider": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "username": USER},
    )
    write_private(alert_password_path(practice.config), PASSWORD.encode())
    revoked = _revoke_main(practice)
    practice.cycle()
    practice.cycle()
    [received] = smtp_server.messages
    assert received.recipients == [PRACTITIONER]
    assert "fairwarning auth google --account main" in _text(received.message)
    assert revoked.attempts == 0
    assert _alert_rows(practice)[0]["detail"] == f"via the SMTP relay 127.0.0.1:{smtp_server.port}"


def test_a_relay_without_its_password_falls_back_and_says_how_to_fix_it(
    practice: Practice, smtp_server: SmtpServer
) -> None:
    _relay_through(
        practice,
        {"provider": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "username": USER},
    )
    practice.late_decline()
    practice.sender.script = [Delivery(Outcome.UNKNOWN, detail="read timed out")]
    practice.clock.advance(HOUR)
    practice.cycle()
    [alert] = practice.alerts()
    assert "read timed out" in _text(alert)
    [row] = _alert_rows(practice)
    assert row["detail"] == "via account main's own mailbox"
    [note] = practice.query("SELECT detail FROM audit WHERE event = 'alert not sent'") or [None]
    assert note is None, "a route that failed before one that worked is not an alert failure"


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fairwarning-alerts"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_revoked_only_account_alerts_through_a_webhook(practice: Practice, webhook: str) -> None:
    _relay_through(practice, {"provider": "webhook", "url": webhook})
    revoked = _revoke_main(practice)
    practice.cycle()
    practice.cycle()
    [document] = _Hook.received
    assert document["title"].startswith("Fair Warning")
    assert "fairwarning auth google --account main" in document["message"]
    assert document["text"].startswith(document["title"])
    assert document["ref"].startswith("ALERT-")
    assert revoked.attempts == 0


def test_a_revoked_only_account_alerts_through_sendmail(practice: Practice, tmp_path: Path) -> None:
    caught = tmp_path / "sendmail-input.eml"
    program = tmp_path / "sendmail"
    program.write_text(f'#!/bin/sh\n[ "$1 $2" = "-t -oi" ] || exit 64\ncat > "{caught}"\n')
    program.chmod(0o755)
    _relay_through(practice, {"provider": "sendmail", "path": str(program)})
    _revoke_main(practice)
    practice.cycle()
    assert f"To: Dana Rivera <{PRACTITIONER}>" in caught.read_text()
    assert "fairwarning auth google --account main" in caught.read_text()
