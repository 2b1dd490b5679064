"""A bounded pool of pollers: threads that fetch calendars and do nothing else.

Only `CalendarSource.poll` runs here, the network part of a step. Judging what a poll found,
every database write and every send stay on the thread that owns the state database (the
writer): it hands polls to the pool and files their answers as they come back, so the state
database is never touched from two threads and keeps the transactions it has.

A poll that is still running when its budget is spent is reported as overrun for its account
alone and given up on: the writer carries on with the others, the stuck thread is replaced (at
most `size` times over, so the pool stays bounded) and retires once its poll returns, and its
answer is dropped unread. Nothing was written for it, so the account's next poll starts from
the same cursor. One account is never polled twice at once (sources keep per-account state).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from worker.errors import Recoverable
from worker.model import CalendarChanges
from worker.pipeline.calendar import CalendarSource


@dataclass(frozen=True, slots=True)
class Polled:
    """What one poll came back with: the changes, or what it raised."""

    account: str
    changes: CalendarChanges | None = None
    error: Exception | None = None

    def outcome(self) -> CalendarChanges:
        """The changes; or the poll's own error, raised here on the writer's thread."""
        if self.error is not None:
            raise self.error
        assert self.changes is not None
        return self.changes


def poll_here(account: str, source: CalendarSource, cursor: str | None) -> Polled:
    """Poll on this thread, keeping what the poll raised for the writer to judge."""
    try:
        return Polled(account, changes=source.poll(cursor))
    except Exception as error:  # judged on the writer's thread, like any poll's error
        return Polled(account, error=error)


@dataclass(slots=True)
class _Flight:
    account: str
    source: CalendarSource
    cursor: str | None
    budget: float  # seconds the poll may run before it is reported as overrun
    started: float | None = None
    polled: Polled | None = None
    given_up: bool = False
    replaced: bool = False


@dataclass(slots=True)
class _Board:
    queued: list[_Flight] = field(default_factory=list)
    flights: dict[str, _Flight] = field(default_factory=dict)  # submitted, not yet collected
    stranded: dict[str, _Flight] = field(default_factory=dict)  # given up, still running
    threads: int = 0
    closed: bool = False


class Pollers:
    """`size` threads that run `CalendarSource.poll` for the writer.

    `ready` is called (from a poller's thread) whenever a poll finishes, for a loop that waits
    on something else too (the service loop's wake-up event). `monotonic` is the clock that
    budgets are measured with.
    """

    def __init__(
        self,
        size: int,
        *,
        ready: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 1:
            raise ValueError("a pool of pollers needs at least one thread")
        self.size = size
        self._ready = ready
        self._monotonic = monotonic
        self._changed = threading.Condition()
        self._board = _Board()

    def busy(self, account: str) -> bool:
        """Whether a poll of `account` is queued, running, or given up on but still running."""
        with self._changed:
            return account in self._board.flights or account in self._board.stranded

    @property
    def in_flight(self) -> int:
        """Polls submitted and not yet collected."""
        with self._changed:
            return len(self._board.flights)

    def submit(
        self, account: str, source: CalendarSource, cursor: str | None, *, budget: float
    ) -> None:
        """Queue one poll of `account`; it may run for `budget` seconds once started."""
        with self._changed:
            board = self._board
            if board.closed:
                raise RuntimeError("the pollers were closed")
            if account in board.flights or account in board.stranded:
                raise RuntimeError(f"account {account} is already being polled")
            flight = _Flight(account, source, cursor, budget)
            board.flights[account] = flight
            board.queued.append(flight)
            if board.threads < self.size:
                self._start_thread()
            self._changed.notify_all()

    def collect(self, timeout: float | None = None) -> list[Polled]:
        """Polls that finished or overran, oldest first; waits up to `timeout` s for the first.

        With nothing in flight it returns at once.
        """
        end = None if timeout is None else self._monotonic() + timeout
        with self._changed:
            while True:
                ready = self._harvest()
                now = self._monotonic()
                if ready or not self._board.flights or (end is not None and now >= end):
                    return ready
                limits = [d for d in (end, self._next_deadline()) if d is not None]
                self._changed.wait(min(limits) - now if limits else None)

    def next_deadline(self) -> float | None:
        """When the earliest running poll overruns (on the `monotonic` clock), if any runs."""
        with self._changed:
            return self._next_deadline()

    def abandon(self) -> None:
        """Forget every poll not yet collected (their answers are dropped unread)."""
        with self._changed:
            for flight in list(self._board.flights.values()):
                self._give_up(flight)

    def close(self) -> None:
        """Forget what is in flight and let every thread end; threads never block exit."""
        with self._changed:
            self.abandon()
            self._board.closed = True
            self._changed.notify_all()

    def _harvest(self) -> list[Polled]:
        board = self._board
        now = self._monotonic()
        done: list[Polled] = []
        for flight in list(board.flights.values()):
            if flight.polled is not None:
                done.append(flight.polled)
                del board.flights[flight.account]
            elif flight.started is not None and now - flight.started >= flight.budget:
                self._give_up(flight)
                done.append(Polled(flight.account, error=_overrun(flight)))
        return done

    def _next_deadline(self) -> float | None:
        running = [
            f.started + f.budget
            for f in self._board.flights.values()
            if f.started is not None and f.polled is None
        ]
        return min(running, default=None)

    def _give_up(self, flight: _Flight) -> None:
        board = self._board
        board.flights.pop(flight.account, None)
        if flight.started is None:  # never started: just unqueue it
            board.queued.remove(flight)
            return
        if flight.polled is not None:
            return
        flight.given_up = True
        board.stranded[flight.account] = flight
        # Keep `size` threads serving while this one is stuck, but never more than `size` spare.
        if sum(f.replaced for f in board.stranded.values()) < self.size:
            flight.replaced = True
            self._start_thread()

    def _start_thread(self) -> None:
        self._board.threads += 1
        name = f"poller-{self._board.threads}"
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self) -> None:
        while True:
            with self._changed:
                board = self._board
                while not board.queued and not board.closed:
                    self._changed.wait()
                if board.closed:
                    board.threads -= 1
                    return
                flight = board.queued.pop(0)
                flight.started = self._monotonic()
            polled = poll_here(flight.account, flight.source, flight.cursor)
            with self._changed:
                if flight.given_up:
                    del board.stranded[flight.account]
                    if flight.replaced:  # a replacement took this thread's place
                        board.threads -= 1
                        return
                    continue
                flight.polled = polled
                self._changed.notify_all()
            if self._ready is not None:
                self._ready()


def _overrun(flight: _Flight) -> Recoverable:
    return Recoverable(
        f"the calendar of account {flight.account} did not answer within "
        f"{flight.budget:g} s; polled again after the usual back-off",
        account=flight.account,
    )
