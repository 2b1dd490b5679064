"""The Gmail sender against the fake Google: sent once, or exactly what went wrong."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httplib2  # type: ignore[import-untyped]
import pytest

from connectors.google import GmailSender
from tests.connectors.google.fake_google import PRACTITIONER, FakeGoogle, Fault
from tests.practice import Clock
from worker.config import Config
from worker.errors import AccountNeedsPractitioner
from worker.pipeline.sender import Outcome
from worker.wiring import build_sender


def notice(to: str = "sam@example.org") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Dana Rivera <dana@riveracoaching.example>"
    message["To"] = f"Sam Taylor <{to}>"
    message["Subject"] = "A gentle reminder of my cancellation policy"
    message.set_content("Hi Sam,\n\nJust a reminder of my 24-hour policy.\n\nDana\n")
    return message


def test_a_notice_is_sent_once_with_gmails_message_and_thread_ids(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.SENT
    [request] = fake.calls("gmail")
    assert (request.method, request.path) == ("POST", "/gmail/v1/users/me/messages/send")
    assert set(json.loads(request.body)) == {"raw"}
    [message] = fake.messages()
    assert message["To"].addresses[0].addr_spec == "sam@example.org"
    assert message["Subject"] == "A gentle reminder of my cancellation policy"
    assert delivery.provider_id == fake.sent[0]["id"]
    assert f"thread {fake.sent[0]['id']}" in delivery.detail


def test_a_throttled_send_is_deferred_until_googles_retry_time(
    fake: FakeGoogle, sender: GmailSender, clock: Clock
) -> None:
    fake.fail("gmail", Fault(429, "error_429_too_many_requests", {"Retry-After": "120"}))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.DEFERRED
    assert delivery.retry_at == clock.now + timedelta(seconds=120)
    assert not delivery.pause_sending
    assert fake.sent == []
    assert len(fake.calls("gmail")) == 1


def test_the_daily_sending_limit_pauses_sending_until_the_time_gmail_names(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(429, "error_429_mail_sending"))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.DEFERRED
    assert delivery.pause_sending
    assert delivery.retry_at == datetime(2026, 11, 24, 8, tzinfo=UTC)
    assert "daily sending limit" in delivery.detail
    assert fake.sent == []


def test_a_daily_limit_without_a_time_pauses_until_midnight_pacific(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(403, "error_403_daily_limit"))

    delivery = sender.send(notice())

    # The clock says 09:00 UTC on 23 November: 01:00 in California; midnight comes at 08:00 UTC.
    assert (delivery.outcome, delivery.pause_sending) == (Outcome.DEFERRED, True)
    assert delivery.retry_at == datetime(2026, 11, 24, 8, tzinfo=UTC)


@pytest.mark.parametrize("body", ["error_403_rate_limit", "error_403_user_rate_limit"])
def test_a_rate_limit_answer_defers_without_pausing(
    fake: FakeGoogle, sender: GmailSender, body: str
) -> None:
    fake.fail("gmail", Fault(403, body))

    delivery = sender.send(notice())

    assert (delivery.outcome, delivery.pause_sending) == (Outcome.DEFERRED, False)


def test_a_503_with_a_retry_time_defers_and_one_without_is_unknown(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(503, "error_503_unavailable", {"Retry-After": "30"}))
    fake.fail("gmail", Fault(503, "error_503_unavailable"))

    first, second = sender.send(notice()), sender.send(notice())

    assert first.outcome is Outcome.DEFERRED
    assert second.outcome is Outcome.UNKNOWN


def test_a_server_error_is_unknown_and_never_resent(fake: FakeGoogle, sender: GmailSender) -> None:
    fake.fail("gmail", Fault(500, "error_500_backend"))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.UNKNOWN
    assert "Sent folder" in delivery.detail
    assert len(fake.calls("gmail")) == 1


def test_a_refused_message_is_rejected_with_status_reason_and_message(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(400, "error_400_invalid_to"))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.REJECTED
    assert "HTTP 400 invalidArgument: Invalid To header" in delivery.detail


def test_a_send_that_times_out_is_unknown_and_gmail_did_get_it(
    fake: FakeGoogle, token_path: Path, clock: Clock
) -> None:
    sender = GmailSender(
        account="main", token_path=token_path, api_endpoint=fake.url, clock=clock, timeout=0.3
    )
    fake.fail("gmail", Fault(delay=0.8))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.UNKNOWN
    assert "did not answer in time" in delivery.detail
    assert len(fake.calls("gmail")) == 1
    assert len(fake.sent) == 1


def test_a_connection_lost_after_the_request_is_unknown_and_sent_only_once(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(drop=True))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.UNKNOWN
    assert len(fake.calls("gmail")) == 1
    assert len(fake.sent) == 1


def test_httplib2_alone_would_have_sent_that_message_twice(fake: FakeGoogle) -> None:
    """Why sends bypass httplib2: it re-sends a request whose answer was lost."""
    fake.fail("gmail", Fault(drop=True))
    http = httplib2.Http(timeout=2)
    try:
        http.request(
            f"{fake.url}gmail/v1/users/me/messages/send",
            "POST",
            body=json.dumps({"raw": "eA=="}),
            headers={"Authorization": f"Bearer {fake.grant()['token']}"},
        )
    finally:
        http.close()
    assert len(fake.calls("gmail")) == 2


def test_a_refused_connection_is_deferred_as_not_sent(
    token_path: Path, clock: Clock, fake: FakeGoogle
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = GmailSender(
        account="main",
        token_path=token_path,
        api_endpoint=f"http://127.0.0.1:{closed_port}/",
        clock=clock,
    )

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.DEFERRED
    assert delivery.detail.startswith("not sent")


def test_an_unreachable_token_endpoint_defers_the_send_without_trying_it(
    fake: FakeGoogle, sender: GmailSender, token_path: Path
) -> None:
    stale = json.loads(token_path.read_text())
    stale.update(expiry="2020-01-01T00:00:00Z", token_uri="http://127.0.0.1:9/token")
    token_path.write_text(json.dumps(stale))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.DEFERRED
    assert "token endpoint" in delivery.detail
    assert fake.calls("gmail") == []


def test_a_revoked_grant_is_raised_before_any_send_request(
    fake: FakeGoogle, sender: GmailSender, token_path: Path
) -> None:
    stale = json.loads(token_path.read_text())
    stale["expiry"] = "2020-01-01T00:00:00Z"
    token_path.write_text(json.dumps(stale))
    fake.revoke_everything()

    with pytest.raises(AccountNeedsPractitioner) as caught:
        sender.send(notice())

    assert "fairwarning auth google --account main --client-secrets" in caught.value.message
    assert fake.calls("gmail") == []


def test_a_grant_revoked_while_the_token_looked_valid_is_raised_and_nothing_is_sent(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.revoke_everything()

    with pytest.raises(AccountNeedsPractitioner, match="invalid_grant"):
        sender.send(notice())

    [refused] = fake.calls("gmail")  # answered 401: Gmail did not take it
    assert fake.sent == []
    assert refused.method == "POST"


def test_a_missing_send_scope_needs_the_practitioner(fake: FakeGoogle, sender: GmailSender) -> None:
    fake.fail("gmail", Fault(403, "error_403_insufficient_scope"))

    with pytest.raises(AccountNeedsPractitioner, match="insufficientPermissions"):
        sender.send(notice())


def test_an_unreadable_success_answer_still_counts_as_sent(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(truncate=True))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.SENT
    assert "could not be read" in delivery.detail
    assert len(fake.sent) == 1


def test_the_accounts_send_timeout_setting_bounds_a_hung_send(
    fake: FakeGoogle, token_path: Path, clock: Clock, tmp_path: Path
) -> None:
    config = Config.model_validate(
        {
            "practitioner": {"name": "Dana Rivera", "email": PRACTITIONER},
            "accounts": [
                {
                    "name": "main",
                    "calendar": {"provider": "local", "path": str(tmp_path)},
                    "sender": {"provider": "gmail", "api_endpoint": fake.url, "timeout": "1s"},
                }
            ],
            "state_dir": str(token_path.parents[1]),
        }
    )
    sender = build_sender(config.accounts[0], config, clock)
    fake.fail("gmail", Fault(delay=2.5))

    delivery = sender.send(notice())

    assert delivery.outcome is Outcome.UNKNOWN
    assert "did not answer in time" in delivery.detail


def test_a_draft_is_created_once_and_nothing_is_sent(fake: FakeGoogle, sender: GmailSender) -> None:
    delivery = sender.draft(notice())

    assert delivery.outcome is Outcome.DRAFTED
    [request] = fake.calls("gmail")
    assert (request.method, request.path) == ("POST", "/gmail/v1/users/me/drafts")
    assert set(json.loads(request.body)["message"]) == {"raw"}
    assert fake.sent == []
    assert delivery.provider_id == fake.drafts[0]["id"]
    assert "Drafts" in delivery.detail


def test_a_draft_without_the_compose_scope_needs_the_practitioner(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(403, "error_403_insufficient_scope"))
    with pytest.raises(AccountNeedsPractitioner) as caught:
        sender.draft(notice())
    assert "refused to create drafts (drafts mode needs gmail.compose)" in caught.value.message
    assert fake.drafts == []


def test_a_draft_that_failed_at_gmail_is_unknown_and_says_to_look_in_drafts(
    fake: FakeGoogle, sender: GmailSender
) -> None:
    fake.fail("gmail", Fault(500, "error_500_backend"))
    delivery = sender.draft(notice())
    assert delivery.outcome is Outcome.UNKNOWN
    assert "Look in the Drafts folder" in delivery.detail
