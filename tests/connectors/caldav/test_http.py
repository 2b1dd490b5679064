"""The CalDAV HTTP path: which answers are retried, and which pause the account with the fix.

Servers that misbehave on purpose are hard to come by, so these answers are recorded ones,
played back with `responses`; the working paths are tested against Radicale elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses

from connectors.caldav.credentials import auth_command
from connectors.caldav.http import CalDavError, DavClient, Login, LoginRefused, SyncTokenInvalid
from worker.errors import AccountNeedsPractitioner, Recoverable

CALENDAR = "https://caldav.example.com/dana/sessions/"
LOGIN = Login("https://caldav.example.com", "dana@example.com", "s3cret")
EMPTY = b'<?xml version="1.0"?><multistatus xmlns="DAV:"><sync-token>t2</sync-token></multistatus>'
FIX = auth_command("main", LOGIN)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def _client(waits: list[float]) -> DavClient:
    return DavClient(account="main", login=LOGIN, fix=FIX, sleep=waits.append)


def _answer(mocked: responses.RequestsMock, status: int, body: bytes = b"", **headers: str) -> None:
    mocked.add("REPORT", CALENDAR, status=status, body=body, headers=headers)


def test_an_outage_is_tried_again_with_growing_waits_then_left_for_the_next_cycle(
    mocked: responses.RequestsMock,
) -> None:
    for _ in range(4):
        _answer(mocked, 503)
    waits: list[float] = []

    with pytest.raises(Recoverable, match="HTTP 503"):
        _client(waits).report(CALENDAR, "<x/>", sync=True)

    assert len(waits) == 3
    assert waits[0] < waits[1] < waits[2] <= 30


def test_a_timeout_then_an_answer_is_one_good_poll(mocked: responses.RequestsMock) -> None:
    mocked.add("REPORT", CALENDAR, body=requests.ReadTimeout("read timed out"))
    _answer(mocked, 500)
    _answer(mocked, 207, EMPTY)
    waits: list[float] = []

    found = _client(waits).report(CALENDAR, "<x/>", sync=True)

    assert found.sync_token == "t2"
    assert len(waits) == 2


def test_retry_after_is_honoured_up_to_a_limit(mocked: responses.RequestsMock) -> None:
    _answer(mocked, 429, **{"Retry-After": "7"})
    _answer(mocked, 503, **{"Retry-After": "3600"})
    _answer(mocked, 207, EMPTY)
    waits: list[float] = []

    _client(waits).report(CALENDAR, "<x/>")

    assert waits == [7.0, 30.0]


def test_a_refused_password_pauses_the_account_with_the_exact_command(
    mocked: responses.RequestsMock,
) -> None:
    _answer(mocked, 401)

    with pytest.raises(LoginRefused) as refused:
        _client([]).report(CALENDAR, "<x/>", sync=True)

    assert (
        "fairwarning auth caldav --account main --url https://caldav.example.com "
        "--username dana@example.com" in refused.value.message
    )
    assert "s3cret" not in refused.value.message


@pytest.mark.parametrize(("status", "words"), [(403, "may not read"), (404, "found nothing at")])
def test_a_calendar_that_cannot_be_read_pauses_the_account_and_says_how_to_list_them(
    mocked: responses.RequestsMock, status: int, words: str
) -> None:
    _answer(mocked, status)

    with pytest.raises(AccountNeedsPractitioner, match=words) as paused:
        _client([]).report(CALENDAR, "<x/>", sync=True)

    assert f"`{FIX} --list-calendars`" in paused.value.message


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, b'<error xmlns="DAV:"><valid-sync-token/></error>'),  # Radicale, RFC 6578
        (412, b""),  # Xandikos
        (410, b""),
    ],
)
def test_a_refused_sync_token_is_told_apart_from_a_refused_login(
    mocked: responses.RequestsMock, status: int, body: bytes
) -> None:
    _answer(mocked, status, body)

    with pytest.raises(SyncTokenInvalid):
        _client([]).report(CALENDAR, "<x/>", sync=True)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Service temporarily unavailable</html>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><multistatus xmlns="DAV:"/>',
        b"",
    ],
    ids=["html", "entity-expansion", "empty"],
)
def test_an_unreadable_or_hostile_answer_is_an_outage_not_a_crash(
    mocked: responses.RequestsMock, body: bytes
) -> None:
    _answer(mocked, 207, body)

    with pytest.raises(CalDavError, match="unreadable answer"):
        _client([]).report(CALENDAR, "<x/>")
