"""Several pollers fetch calendars at once; the writer alone judges, writes and sends.

The proofs are about order and threads, never about how long anything took: a barrier that
only opens when every poll is in flight at once, a poll that hangs until the test releases it,
SQLite's trace callback naming the thread of every statement, and the same scenario run with
one poller and with eight.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from tests.practice import PRACTITIONER, Clock, config_for
from worker.clients import load_directory
from worker.model import Attendee, CalendarChanges, Response, Session
from worker.notices.templates import TemplateLibrary
from worker.pipeline.calendar import MemoryCalendar
from worker.pipeline.cycle import AccountReport, Mailroom, Worker
from worker.pipeline.pollers import Pollers
from worker.pipeline.sender import MemorySender
from worker.store.db import open_database

ACCOUNTS = 6


@dataclass
class SlowCalendar:
    """A memory calendar whose answer takes a moment, noting when and on which thread."""

    calendar: MemoryCalendar
    delay: float = 0.05
    barrier: threading.Barrier | None = None  # opens only once every poll is in flight
    hang: threading.Event | None = None  # the poll does not return until this is set
    polls: list[tuple[int, float, float]] = field(default_factory=list)  # thread, began, ended

    def poll(self, cursor: str | None) -> CalendarChanges:
        began = time.monotonic()
        if self.barrier is not None:
            self.barrier.wait(timeout=20)
        if self.hang is not None:
            self.hang.wait(timeout=20)
        time.sleep(self.delay)
        answer = self.calendar.poll(cursor)
        self.polls.append((threading.get_ident(), began, time.monotonic()))
        return answer


@dataclass
class Practices:
    """Several accounts, each with its own client, slow calendar and mailbox."""

    tmp_path: Path
    pollers: int
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.config = config_for(self.tmp_path)
        self.db = open_database(self.config.state_dir)
        self.calendars = [SlowCalendar(MemoryCalendar(clock=self.clock)) for _ in range(ACCOUNTS)]
        self.senders = [MemorySender() for _ in range(ACCOUNTS)]
        self.worker = Worker(
            config=self.config,
            directory=load_directory(self.config),
            templates=TemplateLibrary(),
            db=self.db,
            mailrooms=[
                Mailroom(f"acct{n}", self.calendars[n], self.senders[n]) for n in range(ACCOUNTS)
            ],
            clock=self.clock,
            pollers=self.pollers,
        )

    def book(self, n: int, key: str, starts_in: timedelta) -> None:
        start = self.clock.now + starts_in
        self.calendars[n].calendar.add(
            Session(
                key=key,
                title="Coaching",
                start=start,
                end=start + timedelta(minutes=50),
                organizer_email=PRACTITIONER,
                organizer_is_practitioner=True,
                attendees=(
                    Attendee(PRACTITIONER, "Dana Rivera", Response.ACCEPTED),
                    Attendee(client(n), "", Response.ACCEPTED),
                ),
                updated=self.clock.now - timedelta(days=3),
            )
        )

    def cycle(self) -> list[AccountReport]:
        reports = self.worker.cycle()
        assert [r.account for r in reports] == [f"acct{n}" for n in range(ACCOUNTS)]
        return reports


def client(n: int) -> str:
    return f"client{n}@example.org"


def test_polls_of_several_accounts_are_in_flight_at_once(tmp_path: Path) -> None:
    office = Practices(tmp_path, pollers=ACCOUNTS)
    barrier = threading.Barrier(ACCOUNTS)
    for calendar in office.calendars:
        calendar.barrier = barrier  # one poller at a time would break it (BrokenBarrierError)
    reports = office.cycle()
    assert [r.error for r in reports] == [""] * ACCOUNTS
    began = [began for c in office.calendars for _, began, _ in c.polls]
    ended = [ended for c in office.calendars for _, _, ended in c.polls]
    assert max(began) < min(ended)  # every poll began before any of them ended
    assert len({thread for c in office.calendars for thread, _, _ in c.polls}) == ACCOUNTS
    office.worker.close_pool()


def test_a_hung_calendar_is_reported_for_its_account_and_the_others_carry_on(
    tmp_path: Path,
) -> None:
    office = Practices(tmp_path, pollers=3)
    for n in range(ACCOUNTS):
        office.book(n, f"s{n}", timedelta(hours=5))
    office.cycle()  # baseline
    hang = threading.Event()
    hung = office.worker.mailrooms[2]
    office.worker.mailrooms[2] = Mailroom(
        hung.name, hung.calendar, hung.sender, poll_budget=timedelta(seconds=0.3)
    )
    office.calendars[2].hang = hang
    for n in range(ACCOUNTS):
        office.calendars[n].calendar.decline(f"s{n}", client(n))
    reports = office.cycle()
    assert not hang.is_set()  # the cycle ended while account 2's poll was still hanging
    assert "acct2" in reports[2].error
    assert "did not answer within 0.3 s" in reports[2].error
    for n in (0, 1, 3, 4, 5):
        assert reports[n].error == ""
        assert reports[n].sync is not None
        assert [d.verdict.value for d in reports[n].sync.decisions] == ["reminder"]
    again = office.cycle()  # still hanging: that account alone is told so, not polled twice
    assert "still running" in again[2].error
    assert [r.error for i, r in enumerate(again) if i != 2] == [""] * (ACCOUNTS - 1)
    hang.set()
    _wait_until(lambda: not office.worker.pool().busy("acct2"))
    recovered = office.cycle()  # its cursor never moved: the decline is judged now
    assert recovered[2].error == ""
    assert recovered[2].sync is not None
    assert [d.verdict.value for d in recovered[2].sync.decisions] == ["reminder"]
    office.worker.close_pool()


def test_every_statement_runs_on_the_writer_thread(tmp_path: Path) -> None:
    office = Practices(tmp_path, pollers=4)
    threads: set[int] = set()
    office.db.set_trace_callback(lambda statement: threads.add(threading.get_ident()))
    for n in range(ACCOUNTS):
        office.book(n, f"s{n}", timedelta(hours=5))
    office.cycle()
    for n in range(ACCOUNTS):
        office.calendars[n].calendar.decline(f"s{n}", client(n))
    office.cycle()
    office.clock.advance(timedelta(minutes=11))
    office.cycle()
    assert threads == {threading.get_ident()}
    pollers = {thread for c in office.calendars for thread, _, _ in c.polls}
    assert threading.get_ident() not in pollers  # the polls did run elsewhere
    office.worker.close_pool()


def _scenario(tmp_path: Path, pollers: int) -> tuple[list[tuple[object, ...]], list[str]]:
    """Late and timely declines over six accounts; the decisions, notices and messages."""
    office = Practices(tmp_path, pollers=pollers)
    for n in range(ACCOUNTS):
        office.book(n, f"late{n}", timedelta(hours=5))
        office.book(n, f"early{n}", timedelta(days=3))
    office.cycle()
    for n in range(ACCOUNTS):
        office.calendars[n].calendar.decline(f"late{n}", client(n))
        if n % 2:
            office.calendars[n].calendar.decline(f"early{n}", client(n))
    office.clock.advance(timedelta(minutes=1))
    office.cycle()
    office.clock.advance(timedelta(minutes=11))
    office.cycle()
    rows = office.db.execute(
        "SELECT o.account, o.session_key, o.client_email, o.kind, o.state, d.status "
        "FROM outbox o JOIN decisions d ON d.id = o.decision_id ORDER BY o.account, o.session_key"
    ).fetchall()
    messages = [
        f"{m['To']}|{m['Subject']}|{m.get_body().get_content()}"  # type: ignore[union-attr]
        for sender in office.senders
        for m in sender.sent
    ]
    office.worker.close_pool()
    office.db.close()
    return [tuple(row) for row in rows], messages


def test_eight_pollers_decide_and_send_exactly_what_one_does(tmp_path: Path) -> None:
    one_rows, one_messages = _scenario(tmp_path / "one", pollers=1)
    eight_rows, eight_messages = _scenario(tmp_path / "eight", pollers=8)
    assert len(one_rows) == ACCOUNTS  # one reminder per late decline, none for the early ones
    assert {row[4] for row in one_rows} == {"sent"}
    assert eight_rows == one_rows
    assert eight_messages == one_messages


def test_a_pool_polls_one_account_once_at_a_time() -> None:
    hang = threading.Event()
    calendars = [SlowCalendar(MemoryCalendar(clock=Clock()), hang=hang) for _ in range(4)]
    pool = Pollers(2)
    for n, calendar in enumerate(calendars):
        pool.submit(f"acct{n}", calendar, None, budget=60)
    assert pool.busy("acct0")
    with pytest.raises(RuntimeError, match="already being polled"):
        pool.submit("acct0", calendars[0], None, budget=60)
    hang.set()
    done: list[str] = []
    while len(done) < 4:
        done += [p.account for p in pool.collect(timeout=10)]
    assert sorted(done) == [f"acct{n}" for n in range(4)]
    pool.close()


def _wait_until(condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)
