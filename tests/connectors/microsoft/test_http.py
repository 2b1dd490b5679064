"""The one HTTP path to Graph: retries for GETs only, Retry-After, limits, errors mapped once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from requests import PreparedRequest

from connectors.microsoft.http import (
    CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
    MAILBOX_CONCURRENCY,
    Graph,
    GraphError,
    SyncStateLost,
    retry_at,
)
from tests.connectors.microsoft.helpers import GRAPH, Sleeps, StaticTokens, load
from tests.practice import Clock
from worker.errors import AccountNeedsPractitioner

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
EVENTS = f"{GRAPH}/me/events"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def tokens() -> StaticTokens:
    return StaticTokens()


@pytest.fixture
def graph(sleeps: Sleeps, tokens: StaticTokens) -> Graph:
    return Graph(account="main", tokens=tokens, clock=Clock(NOW), sleep=sleeps)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert retry_at({"Retry-After": "7"}, NOW) == NOW + timedelta(seconds=7)
    assert retry_at({"Retry-After": "Fri, 20 Nov 2026 12:05:00 GMT"}, NOW) == NOW + timedelta(
        minutes=5
    )
    assert retry_at({"Retry-After": "Fri, 20 Nov 2026 11:00:00 GMT"}, NOW) == NOW
    assert retry_at({"Retry-After": "soon"}, NOW) is None
    assert retry_at({}, NOW) is None


def test_a_throttled_get_waits_as_long_as_graph_says_then_succeeds(
    graph: Graph, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    mocked.add(
        responses.GET, EVENTS, status=429, json=load("throttled.json"), headers={"Retry-After": "3"}
    )
    mocked.add(
        responses.GET,
        EVENTS,
        status=429,
        json=load("throttled.json"),
        headers={"Retry-After": "Fri, 20 Nov 2026 12:00:10 GMT"},
    )
    mocked.add(responses.GET, EVENTS, json={"value": []})

    assert graph.get_json("me/events") == {"value": []}
    assert sleeps.seconds == [3.0, 10.0]


def test_without_retry_after_a_get_backs_off_exponentially_with_jitter(
    graph: Graph, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    mocked.add(responses.GET, EVENTS, status=503, json=load("service-unavailable.json"))

    with pytest.raises(GraphError) as raised:
        graph.get_json("me/events")

    assert raised.value.status == 503
    assert len(mocked.calls) == 4
    assert [int(s) for s in sleeps.seconds] == [1, 2, 4]


def test_a_wait_longer_than_a_cycle_should_take_is_left_to_a_later_cycle(
    graph: Graph, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    mocked.add(
        responses.GET,
        EVENTS,
        status=429,
        json=load("throttled.json"),
        headers={"Retry-After": "600"},
    )

    with pytest.raises(GraphError) as raised:
        graph.get_json("me/events")

    assert raised.value.retry_at == NOW + timedelta(minutes=10)
    assert sleeps.seconds == []
    assert len(mocked.calls) == 1


def test_a_network_failure_on_a_get_is_retried(
    graph: Graph, mocked: responses.RequestsMock
) -> None:
    mocked.add(responses.GET, EVENTS, body=requests.ReadTimeout("read timed out"))
    mocked.add(responses.GET, EVENTS, json={"value": []})

    assert graph.get_json("me/events") == {"value": []}


def test_every_request_has_a_timeout(graph: Graph, mocked: responses.RequestsMock) -> None:
    mocked.add(responses.GET, EVENTS, json={"value": []})

    graph.get_json("me/events")

    [call] = mocked.calls
    assert call.request.req_kwargs["timeout"] == (CONNECT_TIMEOUT, DEFAULT_TIMEOUT)  # type: ignore[attr-defined]


def test_the_accounts_timeout_setting_limits_every_answer(
    tokens: StaticTokens, mocked: responses.RequestsMock
) -> None:
    mocked.add(responses.GET, EVENTS, json={"value": []})
    hurried = Graph(account="main", tokens=tokens, clock=Clock(NOW), timeout=7)

    hurried.get_json("me/events")

    [call] = mocked.calls
    assert call.request.req_kwargs["timeout"] == (CONNECT_TIMEOUT, 7)  # type: ignore[attr-defined]


def test_a_rejected_token_is_refreshed_once(
    graph: Graph, mocked: responses.RequestsMock, tokens: StaticTokens
) -> None:
    mocked.add(responses.GET, EVENTS, status=401)
    mocked.add(responses.GET, EVENTS, json={"value": []})

    assert graph.get_json("me/events") == {"value": []}
    assert tokens.forced == 1


def test_a_token_graph_keeps_refusing_needs_the_practitioner(
    graph: Graph, mocked: responses.RequestsMock
) -> None:
    mocked.add(
        responses.GET, EVENTS, status=401, json={"error": {"code": "InvalidAuthenticationToken"}}
    )

    with pytest.raises(AccountNeedsPractitioner, match="fairwarning auth microsoft"):
        graph.get_json("me/events")
    assert len(mocked.calls) == 2


def test_a_missing_permission_needs_the_practitioner(
    graph: Graph, mocked: responses.RequestsMock
) -> None:
    mocked.add(responses.GET, EVENTS, status=403, json=load("access-denied.json"))

    with pytest.raises(AccountNeedsPractitioner, match="ErrorAccessDenied") as raised:
        graph.get_json("me/events")
    assert "run `fairwarning auth microsoft --account main --client-id ID" in raised.value.message


def test_graph_forgetting_a_delta_token_is_its_own_error(
    graph: Graph, mocked: responses.RequestsMock
) -> None:
    mocked.add(responses.GET, EVENTS, status=410, json=load("sync-state-not-found.json"))

    with pytest.raises(SyncStateLost):
        graph.get_json("me/events")


def test_an_unreadable_answer_is_recoverable(graph: Graph, mocked: responses.RequestsMock) -> None:
    mocked.add(responses.GET, EVENTS, body='{"value": [')

    with pytest.raises(GraphError, match="unreadable"):
        graph.get_json("me/events")


def test_at_most_four_requests_reach_one_mailbox_at_once(mocked: responses.RequestsMock) -> None:
    active, most = 0, 0
    lock = threading.Lock()

    def slow(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return 200, {}, "{}"

    mocked.add_callback(responses.GET, EVENTS, callback=slow)
    # The calendar and the sender of one account are separate objects sharing the limit.
    doors = [
        Graph(account="busy", tokens=StaticTokens(), clock=Clock(NOW)),
        Graph(account="busy", tokens=StaticTokens(), clock=Clock(NOW)),
    ]
    threads = [
        threading.Thread(target=doors[n % 2].get_json, args=("me/events",)) for n in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most == MAILBOX_CONCURRENCY
    assert len(mocked.calls) == 12


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "ErrorItemNotFound"),
        (410, "ErrorItemNotFound"),
        (400, "ErrorCalendarOccurrenceIsDeletedFromRecurrence"),
        (400, "ErrorInvalidIdMalformed"),
    ],
)
def test_an_item_graph_no_longer_has_is_missing_not_an_error(
    graph: Graph, mocked: responses.RequestsMock, status: int, code: str
) -> None:
    mocked.add(responses.GET, f"{EVENTS}/AAMkAD=", status=status, json={"error": {"code": code}})

    assert graph.get_json("me/events/AAMkAD=", missing_ok=True) is None
