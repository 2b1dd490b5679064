"""Alerts to the practitioner: by email through their own sender, once per condition."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.practice import Practice
from worker.errors import AccountNeedsPractitioner
from worker.model import CalendarChanges
from worker.notices.templates import TemplateLibrary
from worker.pipeline.alerts import ALERT_KINDS, sample_alert
from worker.pipeline.sender import Delivery, Outcome

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
