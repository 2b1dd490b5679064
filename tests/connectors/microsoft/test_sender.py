"""Sending through Outlook: sendMail once, and an honest report of what is known."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from connectors.microsoft import OutlookSender
from tests.connectors.microsoft.helpers import (
    GRAPH,
    FakeLogin,
    StaticTokens,
    load,
    sign_in_main,
)
from tests.practice import Clock
from worker.errors import AccountNeedsPractitioner, Recoverable
from worker.model import REF_HEADER
from worker.pipeline.sender import Outcome

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SEND_MAIL = f"{GRAPH}/me/sendMail"


def notice() -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "Dana Rivera <dana@riveracoaching.example>"
    message["To"] = "Sam Taylor <sam@example.org>"
    message["Bcc"] = "dana@riveracoaching.example"
    message["Reply-To"] = "bookings@riveracoaching.example"
    message["Subject"] = "About today's session"
    message[REF_HEADER] = "main-42-reminder"
    message.set_content("Hi Sam,\n\nI just want to remind you of my policy…\n", charset="utf-8")
    message.add_alternative("<p>Hi Sam,</p><p>I just want to remind you…</p>", subtype="html")
    return message


def sender(**changes: object) -> OutlookSender:
    arguments: dict[str, object] = {
        "account": "main",
        "tokens_dir": Path("/nonexistent"),
        "clock": Clock(NOW),
        "tokens": StaticTokens(),
        **changes,
    }
    return OutlookSender(**arguments)  # type: ignore[arg-type]


def answer(mocked: responses.RequestsMock, status: int, payload: str = "", **headers: str) -> None:
    body = json.dumps(load(payload)) if payload else ""
    mocked.add(responses.POST, SEND_MAIL, status=status, body=body, headers=headers)


def test_accepted_is_sent_and_the_exact_mime_the_core_built_goes_out(
    mocked: responses.RequestsMock,
) -> None:
    answer(mocked, 202, **{"request-id": "9c1e3a52-7d3b-4a57-8f0e-1b2c3d4e5f60"})
    message = notice()

    delivery = sender().send(message)

    assert delivery.outcome is Outcome.SENT
    assert delivery.detail == "accepted"
    assert delivery.provider_id == "9c1e3a52-7d3b-4a57-8f0e-1b2c3d4e5f60"
    [call] = mocked.calls
    assert call.request.headers["Content-Type"] == "text/plain"
    assert isinstance(call.request.body, bytes)
    sent = base64.b64decode(call.request.body, validate=True)
    assert sent == message.as_bytes()
    parsed = email.message_from_bytes(sent, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed[REF_HEADER] == "main-42-reminder"
    assert parsed["Bcc"] == "dana@riveracoaching.example"


def test_without_sent_items_the_json_form_goes_with_the_reference_header(
    mocked: responses.RequestsMock,
) -> None:
    answer(mocked, 202)

    delivery = sender(save_to_sent_items=False).send(notice())

    assert delivery.outcome is Outcome.SENT
    [call] = mocked.calls
    assert call.request.headers["Content-Type"] == "application/json"
    assert isinstance(call.request.body, bytes)
    body = json.loads(call.request.body)
    assert body["saveToSentItems"] is False
    graph = body["message"]
    assert graph["subject"] == "About today's session"
    assert graph["body"]["contentType"] == "HTML"
    assert graph["toRecipients"] == [
        {"emailAddress": {"address": "sam@example.org", "name": "Sam Taylor"}}
    ]
    assert graph["bccRecipients"] == [{"emailAddress": {"address": "dana@riveracoaching.example"}}]
    assert graph["replyTo"] == [{"emailAddress": {"address": "bookings@riveracoaching.example"}}]
    assert graph["internetMessageHeaders"] == [
        {"name": "x-fair-warning-ref", "value": "main-42-reminder"}
    ]


def test_a_refused_recipient_is_rejected_with_graphs_code_and_message(
    mocked: responses.RequestsMock,
) -> None:
    answer(mocked, 400, "sendmail-invalid-recipients.json")

    delivery = sender().send(notice())

    assert delivery.outcome is Outcome.REJECTED
    assert delivery.detail.startswith("HTTP 400 ErrorInvalidRecipients: At least one recipient")
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("status", "retry_after", "retry_at"),
    [
        (429, "120", NOW + timedelta(minutes=2)),
        (429, "Fri, 20 Nov 2026 12:30:00 GMT", NOW + timedelta(minutes=30)),
        (503, "30", NOW + timedelta(seconds=30)),
    ],
)
def test_throttling_defers_the_notice_until_graphs_time_without_retrying_here(
    mocked: responses.RequestsMock, status: int, retry_after: str, retry_at: datetime
) -> None:
    answer(mocked, status, "throttled.json", **{"Retry-After": retry_after})

    delivery = sender().send(notice())

    assert delivery.outcome is Outcome.DEFERRED
    assert delivery.retry_at == retry_at
    assert "ApplicationThrottled" in delivery.detail
    assert len(mocked.calls) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_after_sending_is_unknown(
    mocked: responses.RequestsMock, status: int
) -> None:
    answer(mocked, status, "service-unavailable.json")

    delivery = sender().send(notice())

    assert delivery.outcome is Outcome.UNKNOWN
    assert "check Sent Items" in delivery.detail
    assert len(mocked.calls) == 1


def _refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, SEND_MAIL, reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (requests.ReadTimeout("read timed out"), Outcome.UNKNOWN),
        (requests.ConnectionError(ProtocolError("Connection aborted.")), Outcome.UNKNOWN),
        (requests.ConnectTimeout("connect timed out"), Outcome.DEFERRED),
        (_refused(), Outcome.DEFERRED),
    ],
)
def test_no_answer_is_unknown_unless_the_request_never_left(
    mocked: responses.RequestsMock, error: Exception, outcome: Outcome
) -> None:
    mocked.add(responses.POST, SEND_MAIL, body=error)

    delivery = sender().send(notice())

    assert delivery.outcome is outcome
    assert len(mocked.calls) == 1


def test_a_token_that_cannot_be_had_stops_before_sending(
    login: FakeLogin, tokens_dir: Path, mocked: responses.RequestsMock
) -> None:
    login.expires_in = 120
    sign_in_main(tokens_dir)
    login.refuse("token-invalid-grant.json")
    outlook = OutlookSender(account="main", tokens_dir=tokens_dir, clock=Clock(NOW))

    with pytest.raises(AccountNeedsPractitioner, match="fairwarning auth microsoft"):
        outlook.send(notice())

    assert not [c for c in mocked.calls if c.request.url == SEND_MAIL]


def test_the_sign_in_service_down_defers_before_sending(
    login: FakeLogin, tokens_dir: Path, mocked: responses.RequestsMock
) -> None:
    login.expires_in = 120
    sign_in_main(tokens_dir)
    login.answer(503, load("service-unavailable.json"))

    delivery = OutlookSender(account="main", tokens_dir=tokens_dir, clock=Clock(NOW)).send(notice())

    assert delivery.outcome is Outcome.DEFERRED
    assert not [c for c in mocked.calls if c.request.url == SEND_MAIL]


def test_a_stale_token_is_refreshed_once_and_the_message_sent_once(
    mocked: responses.RequestsMock,
) -> None:
    tokens = StaticTokens()
    answer(mocked, 401)
    answer(mocked, 202)

    delivery = sender(tokens=tokens).send(notice())

    assert delivery.outcome is Outcome.SENT
    assert tokens.forced == 1
    assert len(mocked.calls) == 2


def test_a_token_that_cannot_be_refreshed_after_a_refusal_defers(
    mocked: responses.RequestsMock,
) -> None:
    class Flaky(StaticTokens):
        def access_token(self, *, force_refresh: bool = False) -> str:
            if force_refresh:
                raise Recoverable("could not reach the Microsoft sign-in service")
            return super().access_token()

    answer(mocked, 401)

    delivery = sender(tokens=Flaky()).send(notice())

    assert delivery.outcome is Outcome.DEFERRED
    assert len(mocked.calls) == 1


def test_mail_send_not_granted_pauses_the_account(mocked: responses.RequestsMock) -> None:
    answer(mocked, 403, "access-denied.json")

    with pytest.raises(AccountNeedsPractitioner, match=r"grant Mail\.Send"):
        sender().send(notice())


DRAFTS = f"{GRAPH}/me/messages"


def test_a_draft_is_created_once_from_the_exact_mime_and_nothing_is_sent() -> None:
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, DRAFTS, json={"id": "AAMk-draft-1", "isDraft": True}, status=201)
        delivery = sender().draft(notice())
        [call] = mocked.calls
    assert delivery.outcome is Outcome.DRAFTED
    assert delivery.provider_id == "AAMk-draft-1"
    assert call.request.headers["Content-Type"] == "text/plain"
    body = call.request.body
    sent = email.message_from_bytes(base64.b64decode(body if isinstance(body, bytes) else b""))
    assert sent[REF_HEADER] == "main-42-reminder"


def test_a_draft_refused_for_want_of_mail_readwrite_names_the_permission() -> None:
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, DRAFTS, json=load("access-denied.json"), status=403)
        with pytest.raises(AccountNeedsPractitioner) as caught:
            sender().draft(notice())
    assert "refused to create drafts" in caught.value.message
    assert "grant Mail.ReadWrite" in caught.value.message


def test_a_draft_that_timed_out_is_unknown_and_says_to_look_in_drafts() -> None:
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, DRAFTS, json={}, status=504)
        delivery = sender().draft(notice())
    assert delivery.outcome is Outcome.UNKNOWN
    assert "check Drafts" in delivery.detail
