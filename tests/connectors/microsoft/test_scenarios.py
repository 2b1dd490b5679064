"""A practitioner on Outlook, end to end: real core, real connector, Microsoft faked offline.

The worker is built as the service builds it (config, client directory, templates, SQLite
state) with an OutlookCalendar and an OutlookSender signed in through MSAL's device-code
flow; Graph and the sign-in service are the in-memory fakes.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from connectors.microsoft import OutlookCalendar, OutlookSender, sign_in
from tests.connectors.microsoft.fake_graph import FakeGraph, NoAnswer
from tests.connectors.microsoft.helpers import CLIENT_ID, LOGIN_HOST, FakeLogin, load
from tests.practice import SAM, Clock
from worker.clients import load_directory
from worker.config import Config
from worker.notices.templates import TemplateLibrary
from worker.pipeline.cycle import AccountReport, Mailroom, Worker
from worker.private_files import tokens_dir
from worker.store import sync_state
from worker.store.db import open_database, transaction

PRACTITIONER = "dana@riveracoaching.example"
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


class OutlookPractice:
    """Dana's practice on Outlook.com: one account, automatic mode, a 10-minute undo window."""

    def __init__(self, tmp_path: Path, mocked: responses.RequestsMock) -> None:
        self.clock = Clock()
        self.login = FakeLogin(mocked)
        self.graph = FakeGraph(mocked, practitioner=PRACTITIONER, clock=self.clock)
        self.config = Config.model_validate(
            {
                "practitioner": {
                    "name": "Dana Rivera",
                    "email": PRACTITIONER,
                    "time_zone": "Europe/London",
                },
                "policy": {"mode": "auto", "hold": "10m"},
                "accounts": [
                    {
                        "name": "main",
                        "calendar": {"provider": "microsoft"},
                        "sender": {"provider": "outlook"},
                    }
                ],
                "clients": [{"email": SAM, "name": "Sam Taylor", "prepaid_balance": 5}],
                "state_dir": str(tmp_path / "state"),
            }
        )
        self.tokens = tokens_dir(self.config.state_dir)
        self.db = open_database(self.config.state_dir)

    def sign_in(self) -> None:
        sign_in(
            account="main",
            tokens_dir=self.tokens,
            client_id=CLIENT_ID,
            authority="consumers",
            authority_host=LOGIN_HOST,
            say=lambda line: None,
        )

    def start(self) -> None:
        """`fairwarning run`: the worker with this account's Outlook calendar and mailbox."""
        account = self.config.accounts[0]
        calendar = OutlookCalendar(
            account=account.name,
            tokens_dir=self.tokens,
            practitioner_email=PRACTITIONER,
            time_zone=self.config.practitioner.time_zone,
            clock=self.clock,
        )
        sender = OutlookSender(account=account.name, tokens_dir=self.tokens, clock=self.clock)
        self.worker = Worker(
            config=self.config,
            directory=load_directory(self.config),
            templates=TemplateLibrary(user_dir=None),
            db=self.db,
            mailrooms=[Mailroom(account.name, calendar, sender)],
            clock=self.clock,
        )

    def book(self, client: str, starts_in: timedelta, *, organised_by_client: bool = False) -> str:
        start = self.clock.now + starts_in
        people = [(PRACTITIONER, "Dana Rivera", "accepted")] if organised_by_client else []
        return self.graph.add_event(
            subject=f"Coaching with {client}",
            start=start,
            end=start + timedelta(minutes=50),
            attendees=[*people, (client, "Sam Taylor", "accepted")],
            organizer=("Sam Taylor", client) if organised_by_client else None,
        )

    def cycle(self) -> AccountReport:
        [report] = self.worker.cycle()
        return report

    def later(self, by: timedelta) -> AccountReport:
        self.clock.advance(by)
        return self.cycle()

    def query(self, sql: str) -> list[sqlite3.Row]:
        return list(self.db.execute(sql))

    def outbox(self) -> list[tuple[str, str]]:
        return [(r["kind"], r["state"]) for r in self.query("SELECT kind, state FROM outbox")]

    def graph_requests(self) -> list[str]:
        return [r.split("?")[0] for r in self.graph.requests]


@pytest.fixture
def practice(tmp_path: Path, mocked: responses.RequestsMock) -> OutlookPractice:
    practice = OutlookPractice(tmp_path, mocked)
    practice.sign_in()
    practice.start()
    return practice


def _text(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def test_a_first_late_decline_sends_a_reminder_from_the_practitioners_outlook(
    practice: OutlookPractice,
) -> None:
    session = practice.book(SAM, 5 * HOUR)
    assert practice.cycle().sync.baseline  # type: ignore[union-attr]

    practice.clock.advance(MINUTE)
    practice.graph.decline(session, SAM)
    [decision] = practice.cycle().sync.decisions  # type: ignore[union-attr]
    assert decision.verdict == "reminder"
    assert practice.graph.sent == [], "the undo window holds the notice"

    practice.later(11 * MINUTE)

    [message] = practice.graph.sent_to(SAM)
    assert message["X-Fair-Warning-Ref"]
    assert "Dana Rivera" in str(message["From"])
    assert message.get_content_type() == "multipart/alternative"
    assert "about 5 hours before it was due to begin" in _text(message)
    assert practice.outbox() == [("reminder", "sent")]


def test_a_second_late_decline_within_a_year_forfeits(practice: OutlookPractice) -> None:
    first = practice.book(SAM, 5 * HOUR)
    second = practice.book(SAM, 7 * 24 * HOUR + 5 * HOUR)
    practice.cycle()
    practice.clock.advance(MINUTE)
    practice.graph.decline(first, SAM)
    practice.cycle()
    practice.later(11 * MINUTE)

    practice.clock.advance(7 * 24 * HOUR - 12 * MINUTE)
    practice.graph.decline(second, SAM)
    practice.cycle()
    practice.later(11 * MINUTE)

    assert practice.outbox() == [("reminder", "sent"), ("forfeit", "sent")]
    forfeit = practice.graph.sent_to(SAM)[1]
    assert "forfeit" in _text(forfeit).lower()


def test_a_client_cancelling_the_meeting_they_organised_counts_as_theirs(
    practice: OutlookPractice,
) -> None:
    session = practice.book(SAM, 5 * HOUR, organised_by_client=True)
    practice.cycle()
    practice.clock.advance(MINUTE)
    practice.graph.cancel(session)

    [decision] = practice.cycle().sync.decisions  # type: ignore[union-attr]
    practice.later(11 * MINUTE)

    assert decision.verdict == "reminder"
    assert len(practice.graph.sent_to(SAM)) == 1


def test_the_practitioner_deleting_a_session_waits_for_review(practice: OutlookPractice) -> None:
    session = practice.book(SAM, 5 * HOUR)
    practice.cycle()
    practice.clock.advance(MINUTE)
    practice.graph.delete(session)

    [decision] = practice.cycle().sync.decisions  # type: ignore[union-attr]
    practice.later(HOUR)

    assert decision.verdict == "review"
    assert practice.graph.sent_to(SAM) == []
    assert f"GET https://graph.microsoft.com/v1.0/me/events/{session}" in practice.graph.requests


def test_a_deletion_is_still_noticed_when_the_window_moves_for_the_day(
    practice: OutlookPractice,
) -> None:
    session = practice.book(SAM, 24 * HOUR + 5 * HOUR)
    practice.cycle()
    practice.later(24 * HOUR - MINUTE)
    practice.clock.advance(2 * MINUTE)
    practice.graph.delete(session)

    report = practice.cycle()

    assert report.sync is not None
    assert not report.sync.baseline
    assert json.loads(practice.query("SELECT cursor FROM accounts")[0]["cursor"])["built_at"] == (
        practice.clock.now.isoformat()
    ), "this poll built a new window"
    [decision] = report.sync.decisions
    assert decision.verdict == "review"


def test_a_throttled_send_is_delivered_once_after_graphs_time(practice: OutlookPractice) -> None:
    session = practice.book(SAM, 5 * HOUR)
    practice.cycle()
    practice.graph.decline(session, SAM)
    practice.cycle()
    practice.graph.sendmail_answers(
        (429, {"Retry-After": "3600"}, json.dumps(load("throttled.json")))
    )

    practice.later(11 * MINUTE)
    assert practice.outbox() == [("reminder", "queued")]
    practice.later(30 * MINUTE)
    assert practice.graph.attempts_to(SAM) == 1, "nothing is sent before Graph's time"
    practice.later(31 * MINUTE)
    practice.later(MINUTE)

    assert len(practice.graph.sent_to(SAM)) == 1
    assert practice.graph.attempts_to(SAM) == 2
    assert practice.outbox() == [("reminder", "sent")]


def test_a_send_that_timed_out_is_unknown_and_never_sent_again(practice: OutlookPractice) -> None:
    session = practice.book(SAM, 5 * HOUR)
    practice.cycle()
    practice.graph.decline(session, SAM)
    practice.cycle()
    practice.graph.sendmail_answers(NoAnswer(requests.ReadTimeout("read timed out"), taken=True))

    practice.later(11 * MINUTE)
    practice.later(HOUR)
    practice.later(HOUR)

    assert practice.outbox() == [("reminder", "unknown")]
    assert practice.graph.attempts_to(SAM) == 1
    assert len(practice.graph.sent_to(SAM)) == 1, "it reached Outlook: see Sent Items"


def test_an_idle_cycle_asks_graph_a_single_question(practice: OutlookPractice) -> None:
    practice.book(SAM, 5 * HOUR)
    practice.cycle()
    before = len(practice.graph.requests)

    report = practice.later(MINUTE)

    assert report.error == ""
    assert practice.graph_requests()[before:] == [
        "GET https://graph.microsoft.com/v1.0/me/calendarView/delta"
    ]


def test_a_decline_made_while_graph_forgot_the_delta_token_still_gets_its_reminder(
    practice: OutlookPractice,
) -> None:
    session = practice.book(SAM, 5 * HOUR)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.graph.decline(session, SAM)
    practice.graph.expire_tokens()
    practice.clock.advance(20 * MINUTE)

    report = practice.cycle()
    practice.later(11 * MINUTE)

    assert report.sync is not None
    assert not report.sync.baseline
    assert "syncStateNotFound" in report.sync.resync
    [decision] = report.sync.decisions
    assert decision.verdict == "reminder"
    assert decision.notice == 4 * HOUR, "timed by the client's answer, not by the re-sync"
    assert len(practice.graph.sent_to(SAM)) == 1
    [resync] = practice.query("SELECT detail FROM audit WHERE event = 'resync'")
    assert "syncStateNotFound" in resync["detail"]


def test_a_meeting_deleted_while_graph_forgot_the_token_waits_for_review_if_maybe_early(
    practice: OutlookPractice,
) -> None:
    session = practice.book(SAM, 26 * HOUR, organised_by_client=True)
    practice.cycle()
    practice.clock.advance(3 * HOUR)  # 23 h before the session now, 26 h at the last poll
    practice.graph.delete(session)  # Graph keeps no time for a deletion
    practice.graph.expire_tokens()

    report = practice.cycle()
    practice.later(HOUR)

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.fact.kind == "cancelled_by_organizer"
    assert decision.verdict == "review"
    assert "gap in watching" in decision.reasons[0]
    assert practice.graph.sent_to(SAM) == []


def test_the_first_poll_sends_nothing_for_a_decline_made_before_it(
    practice: OutlookPractice,
) -> None:
    session = practice.book(SAM, 5 * HOUR)
    practice.graph.decline(session, SAM)
    practice.clock.advance(MINUTE)

    report = practice.cycle()
    practice.later(HOUR)

    assert report.sync is not None
    assert report.sync.baseline
    assert report.sync.decisions == ()
    assert practice.outbox() == []


@pytest.mark.parametrize("token_lost", [False, True], ids=["daily", "token-lost-too"])
def test_a_decline_just_before_the_window_moves_for_the_day_gets_its_reminder(
    practice: OutlookPractice, token_lost: bool
) -> None:
    session = practice.book(SAM, 24 * HOUR + 5 * HOUR)
    practice.cycle()
    practice.later(24 * HOUR - MINUTE)
    practice.clock.advance(2 * MINUTE)
    practice.graph.decline(session, SAM)
    if token_lost:
        practice.graph.expire_tokens()
    polled_at = practice.clock.now

    report = practice.cycle()
    built_at = json.loads(practice.query("SELECT cursor FROM accounts")[0]["cursor"])["built_at"]
    practice.later(11 * MINUTE)

    assert report.sync is not None
    assert built_at == polled_at.isoformat(), "this poll built a new window"
    assert bool(report.sync.resync) is token_lost
    [decision] = report.sync.decisions
    assert decision.verdict == "reminder"
    assert len(practice.graph.sent_to(SAM)) == 1


def test_a_session_left_behind_by_the_moving_window_is_not_taken_as_deleted(
    practice: OutlookPractice,
) -> None:
    practice.book(SAM, HOUR)
    practice.book(SAM, 50 * HOUR)
    practice.cycle()

    report = practice.later(26 * HOUR)  # the first session started 25 h ago

    assert report.sync is not None
    assert json.loads(practice.query("SELECT cursor FROM accounts")[0]["cursor"])["built_at"] == (
        practice.clock.now.isoformat()
    ), "this poll built a new window"
    assert report.sync.decisions == ()
    assert practice.query("SELECT * FROM facts") == []


def test_a_revoked_sign_in_pauses_the_account_with_the_command_that_fixes_it(
    tmp_path: Path, mocked: responses.RequestsMock
) -> None:
    practice = OutlookPractice(tmp_path, mocked)
    practice.login.expires_in = 120  # every cycle refreshes the token
    practice.sign_in()
    practice.start()
    practice.book(SAM, 5 * HOUR)
    practice.cycle()
    practice.login.revoke()

    report = practice.later(MINUTE)
    refreshes = len(practice.login.refreshes)
    paused = practice.later(5 * MINUTE)

    command = (
        f"fairwarning auth microsoft --account main --client-id {CLIENT_ID} "
        f"--authority consumers --authority-host {LOGIN_HOST}"
    )
    assert command in report.error
    assert paused.error.startswith("paused until")
    assert len(practice.login.refreshes) == refreshes, "nothing is tried while paused"
    practice.sign_in()  # `fairwarning auth microsoft` (the CLI also resumes the account)
    with transaction(practice.db):
        sync_state.resume(practice.db, "main")
    assert practice.later(MINUTE).error == ""


def test_two_late_declines_before_the_reminder_went_out_get_one_reminder_naming_both(
    practice: OutlookPractice,
) -> None:
    first = practice.book(SAM, 5 * HOUR)
    second = practice.book(SAM, 23 * HOUR)
    practice.cycle()
    practice.clock.advance(MINUTE)
    practice.graph.decline(first, SAM)
    practice.cycle()
    practice.clock.advance(4 * MINUTE)
    practice.graph.decline(second, SAM)

    [decision] = practice.cycle().sync.decisions  # type: ignore[union-attr]
    practice.later(11 * MINUTE)

    assert (decision.verdict, decision.counts) == ("reminder", False)
    assert decision.reasons[-1].startswith("joins the reminder FW-")
    assert practice.outbox() == [("reminder", "sent")]
    [reminder] = practice.graph.sent_to(SAM)
    assert "and our session on Tuesday 24 November at 08:00." in _text(reminder)


def test_a_late_decline_after_outlook_sent_the_reminder_forfeits_and_names_it(
    practice: OutlookPractice,
) -> None:
    first = practice.book(SAM, 5 * HOUR)
    second = practice.book(SAM, 29 * HOUR)
    practice.cycle()
    practice.clock.advance(MINUTE)
    practice.graph.decline(first, SAM)
    practice.cycle()
    practice.later(11 * MINUTE)
    [sent] = practice.query("SELECT ref FROM outbox WHERE state = 'sent'")
    practice.clock.advance(6 * HOUR)
    practice.graph.decline(second, SAM)

    [decision] = practice.cycle().sync.decisions  # type: ignore[union-attr]

    assert decision.verdict == "forfeit"
    assert decision.reasons[-1] == f"rests on the reminder {sent['ref']} sent on 23 Nov"
