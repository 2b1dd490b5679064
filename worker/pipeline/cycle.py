"""One worker cycle over every account: recover, sync, judge, deliver.

One account's failure is recorded and never stops the others. Each account's step is
`begin` (recover, read the cursor), the poll, then `finish` (file, deliver, alert): with one
poller the poll runs in between on this thread, as it always did; with more, `cycle` hands the
polls to a pool (pipeline/pollers.py) and files each answer as it arrives. Everything but the
poll runs on the calling thread, the only one that uses the state database.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from worker.clients import ClientDirectory
from worker.config import Config
from worker.errors import AccountNeedsPractitioner, FairWarningError, Recoverable
from worker.notices.templates import TemplateLibrary
from worker.pipeline.alerts import AlertRoute, raise_alerts
from worker.pipeline.calendar import CalendarSource
from worker.pipeline.casework import Desk, open_desk
from worker.pipeline.delivery import Post, Sent, deliver_due
from worker.pipeline.pollers import Polled, Pollers, poll_here
from worker.pipeline.sender import Sender
from worker.pipeline.sync import SyncReport, file_changes
from worker.store import leases, outbox, sync_state
from worker.store.audit import audit
from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.db import transaction

log = logging.getLogger("fairwarning")

# An account that needs the practitioner is tried again this often, never in a tight loop.
PAUSE = timedelta(hours=1)
# How long one poll may run before it is reported as overrun, when the source says nothing.
POLL_BUDGET = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Mailroom:
    """One account's calendar and the sender that delivers its notices.

    `poll_budget` is how long one poll of the calendar may take, retries included, before a
    pool of pollers reports it as overrun and carries on with the other accounts.
    """

    name: str
    calendar: CalendarSource
    sender: Sender
    poll_budget: timedelta = POLL_BUDGET


@dataclass(slots=True)
class AccountReport:
    """What a cycle did for one account."""

    account: str
    sync: SyncReport | None = None
    sent: list[Sent] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(slots=True)
class Ticket:
    """One account's step between `Worker.begin` and `Worker.finish`: what the poll needs."""

    room: Mailroom
    report: AccountReport
    now: datetime
    cursor: str | None
    paused: bool  # the account was paused when the step began: no poll


class Worker:
    """Runs cycles for the configured accounts against one state database.

    `pollers` is how many calendars `cycle` fetches at once (1: one after another).
    """

    def __init__(
        self,
        *,
        config: Config,
        directory: ClientDirectory,
        templates: TemplateLibrary,
        db: Connection,
        mailrooms: list[Mailroom],
        clock: Callable[[], datetime],
        alert_relay: AlertRoute | None = None,
        pollers: int = 1,
    ) -> None:
        """`alert_relay` is the configured `alerts.via` route, if any (see alerts.py)."""
        self.config = config
        self.directory = directory
        self.templates = templates
        self.db = db
        self.mailrooms = mailrooms
        self.clock = clock
        self.alert_relay = alert_relay
        self.pollers = pollers
        # The name of this worker's account leases, when several share a PostgreSQL database
        # (worker/service/leased.py); None when it is the only one.
        self.holder: str | None = None
        self._pool: Pollers | None = None

    def pool(self, *, ready: Callable[[], None] | None = None) -> Pollers:
        """The pool of pollers, started on first use and kept until `close_pool`.

        `ready` is called from a poller whenever a poll is back (the service loop's wake-up).
        """
        if self._pool is None:
            self._pool = Pollers(self.pollers, ready=ready)
        return self._pool

    def close_pool(self) -> None:
        """Stop the pollers; polls still in flight are forgotten (nothing of theirs was written)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def desk(self, account: str, now: datetime) -> Desk:
        return open_desk(self.config, self.db, account, self.directory, now)

    def cycle(self, rooms: list[Mailroom] | None = None) -> list[AccountReport]:
        """One pass over every account (or over `rooms`), in the configured order."""
        rooms = self.mailrooms if rooms is None else rooms
        if self.pollers <= 1:
            return [self.cycle_account(room) for room in rooms]
        pool = self.pool()
        reports: dict[str, AccountReport] = {}
        waiting = deque(rooms)
        tickets: dict[str, Ticket] = {}
        try:
            while waiting or tickets:
                # A few polls queued ahead keep every poller busy without holding many answers.
                while waiting and len(tickets) < 2 * pool.size:
                    ticket = self.begin(waiting.popleft())
                    name = ticket.room.name
                    if ticket.paused:
                        reports[name] = self.finish(ticket, None)
                    elif pool.busy(name):
                        reports[name] = self.finish(ticket, Polled(name, error=_still(name)))
                    else:
                        tickets[name] = ticket
                        budget = ticket.room.poll_budget.total_seconds()
                        pool.submit(name, ticket.room.calendar, ticket.cursor, budget=budget)
                for polled in pool.collect():
                    reports[polled.account] = self.finish(tickets.pop(polled.account), polled)
        except BaseException:
            pool.abandon()  # e.g. a database fault: the next cycle polls those accounts again
            raise
        return [reports[room.name] for room in rooms]

    def cycle_account(self, room: Mailroom) -> AccountReport:
        """One account's whole step on this thread: begin, poll, finish."""
        ticket = self.begin(room)
        if ticket.paused:
            return self.finish(ticket, None)
        return self.finish(ticket, poll_here(room.name, room.calendar, ticket.cursor))

    def begin(self, room: Mailroom) -> Ticket:
        """Settle sends a crash interrupted and read where the account's calendar was left."""
        report = AccountReport(room.name)
        now = self.clock()
        drafts = self.config.policy.mode == "drafts"
        detail = outbox.INTERRUPTED_DRAFT if drafts else outbox.INTERRUPTED
        report.interrupted = outbox.recover_interrupted(
            self.db, room.name, now, detail, holder=self.holder
        )
        with transaction(self.db):
            state = sync_state.account_state(self.db, room.name)
        paused = state.sync_paused(now)
        if paused:
            report.error = f"paused until {state.paused_until:%Y-%m-%d %H:%M} UTC: "
            report.error += state.pause_reason
        return Ticket(room, report, now, state.cursor, paused)

    def finish(self, ticket: Ticket, polled: Polled | None) -> AccountReport:
        """File the poll's answer (or its error), then deliver what is due and raise alerts.

        `polled` is None for an account that was paused when its step began.
        """
        room, report, now = ticket.room, ticket.report, ticket.now
        if self.holder is not None and not self._still_held(room.name):
            report.error = (
                f"account {room.name} was taken over by another worker while this one was "
                "polling it (its lease ran out); that worker files and sends for it now"
            )
            return report
        try:
            if polled is not None:
                report.sync = file_changes(self.desk(room.name, now), polled.outcome())
        except AccountNeedsPractitioner as exc:
            report.error = exc.message
            with transaction(self.db):
                sync_state.pause(self.db, room.name, now + PAUSE, exc.message)
                audit(self.db, now, room.name, "paused", exc.message)
        except FairWarningError as exc:
            report.error = exc.message
            self._note(room.name, "sync failed", exc.message)
        except DATABASE_ERRORS:
            raise  # the state database is everyone's: the service loop reports it, once
        except Exception as exc:  # one account's bug must not stop the others
            log.exception("unexpected error while syncing account %s", room.name)
            report.error = f"unexpected {type(exc).__name__}: {exc}"
            self._note(room.name, "sync failed", report.error)
        post = Post(
            self.db,
            room.name,
            room.sender,
            self.templates,
            self.config.practitioner,
            self.config.policy,
        )
        report.sent = deliver_due(post, self.clock())

        def routes() -> list[AlertRoute]:
            return self.alert_routes(room, own_allowed=not ticket.paused)

        report.alerts = raise_alerts(
            self.db, self.config, room.name, routes, self.templates, self.clock()
        )
        return report

    def alert_routes(self, room: Mailroom, *, own_allowed: bool) -> list[AlertRoute]:
        """The relay, then other accounts that work, then this account's own mailbox.

        The own mailbox of an account that was paused when the cycle began is left out (the
        cycle that pauses it tries it once): no token request more often than the pause allows.
        """
        now = self.clock()
        routes = [self.alert_relay] if self.alert_relay is not None else []
        states = sync_state.account_states(self.db)  # one query, not one per account
        paused = {n for n, s in states.items() if s.sync_paused(now) or s.sending_paused(now)}
        for other in self.mailrooms:
            if other.name != room.name and other.name not in paused:
                routes.append(AlertRoute(f"account {other.name}'s mailbox", other.sender))
        own = states.get(room.name)  # absent: never polled, so never paused
        if own_allowed and (own is None or not own.sending_paused(now)):
            routes.append(AlertRoute(f"account {room.name}'s own mailbox", room.sender))
        return routes

    def _still_held(self, account: str) -> bool:
        assert self.holder is not None
        return leases.holds(self.db, self.holder, account, self.clock())

    def _note(self, account: str, event: str, detail: str) -> None:
        with transaction(self.db):
            audit(self.db, self.clock(), account, event, detail)


def _still(account: str) -> Recoverable:
    return Recoverable(
        f"the last poll of account {account}'s calendar overran and is still running; "
        "polled again once it has returned",
        account=account,
    )
