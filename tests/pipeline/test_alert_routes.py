"""Alert routes among many accounts: the first other mailbox that works carries the alert,
and an idle pass does not read every account's state once per account."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.practice import Practice
from worker.errors import AccountNeedsPractitioner
from worker.model import CalendarChanges
from worker.pipeline.calendar import MemoryCalendar
from worker.pipeline.cycle import Mailroom
from worker.pipeline.sender import MemorySender
from worker.store import sync_state
from worker.store.db import transaction


class _Revoked:
    def poll(self, cursor: str | None) -> CalendarChanges:
        raise AccountNeedsPractitioner("Google refused the token: run fairwarning auth google")


def _add_accounts(practice: Practice, count: int) -> dict[str, MemorySender]:
    senders = {f"acct-{n:02}": MemorySender() for n in range(count)}
    for name, sender in senders.items():
        calendar = MemoryCalendar(clock=practice.clock)
        practice.worker.mailrooms.append(Mailroom(name, calendar, sender))
    return senders


def _revoke_main(practice: Practice) -> None:
    room = practice.worker.mailrooms[0]
    practice.worker.mailrooms[0] = replace(room, calendar=_Revoked())


@pytest.fixture(params=["sqlite", "postgresql"])
def practice(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Practice]:
    """The practice on each state database (the routes read every account's row at once)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    practice = Practice(tmp_path, database=url)
    yield practice
    practice.db.close()


def test_among_forty_accounts_the_alert_goes_through_the_first_one_not_paused(
    practice: Practice,
) -> None:
    senders = _add_accounts(practice, 40)
    practice.worker.cycle()
    now = practice.clock.now
    with transaction(practice.db):
        for n in range(10):
            sync_state.pause(practice.db, f"acct-{n:02}", now + timedelta(hours=1), "revoked")
        for n in range(10, 20):
            sync_state.pause_sending(practice.db, f"acct-{n:02}", now + timedelta(hours=1), "limit")
        sync_state.pause_sending(practice.db, "acct-20", now - timedelta(minutes=1), "over")
    _revoke_main(practice)
    practice.worker.cycle()
    paused = [name for name, sender in senders.items() if name < "acct-20" and sender.sent]
    assert paused == [], "a paused mailbox carries no alert, not even its own"
    assert practice.sender.sent == [], "the revoked account's own mailbox is the last resort"
    [row] = practice.query("SELECT state, detail FROM alerts WHERE key = 'reauth:main'")
    assert (row["state"], row["detail"]) == ("sent", "via account acct-20's mailbox")


def test_an_account_not_polled_yet_can_carry_an_alert(practice: Practice) -> None:
    practice.baseline()
    senders = _add_accounts(practice, 3)  # main's step comes first: they have no state yet
    _revoke_main(practice)
    practice.worker.cycle()
    assert [len(s.sent) for s in senders.values()] == [1, 0, 0]
    [row] = practice.query("SELECT detail FROM alerts WHERE key = 'reauth:main'")
    assert row["detail"] == "via account acct-00's mailbox"


def _statements_per_idle_account(practice: Practice, accounts: int) -> float:
    _add_accounts(practice, accounts - 1)
    practice.worker.cycle()  # the baseline
    practice.worker.cycle()
    assert isinstance(practice.db, sqlite3.Connection)
    statements: list[str] = []
    practice.db.set_trace_callback(statements.append)
    try:
        practice.worker.cycle()
    finally:
        practice.db.set_trace_callback(None)
    return len(statements) / accounts


def test_an_idle_pass_costs_each_account_the_same_however_many_there_are(
    tmp_path: Path,
) -> None:
    few = _statements_per_idle_account(Practice(tmp_path / "few"), 5)
    many = _statements_per_idle_account(Practice(tmp_path / "many"), 40)
    assert many == few, "choosing alert routes must not read every account for every account"
