"""One worker cycle over every account: recover, sync, judge, deliver.

One account's failure is recorded and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from worker.clients import ClientDirectory
from worker.config import Config
from worker.errors import AccountNeedsPractitioner, FairWarningError
from worker.notices.templates import TemplateLibrary
from worker.pipeline.alerts import AlertRoute, raise_alerts
from worker.pipeline.calendar import CalendarSource
from worker.pipeline.casework import Desk, open_desk
from worker.pipeline.delivery import Post, Sent, deliver_due
from worker.pipeline.sender import Sender
from worker.pipeline.sync import SyncReport, sync_account
from worker.store import outbox, sync_state
from worker.store.audit import audit
from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.db import transaction

log = logging.getLogger("fairwarning")

# An account that needs the practitioner is tried again this often, never in a tight loop.
PAUSE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Mailroom:
    """One account's calendar and the sender that delivers its notices."""

    name: str
    calendar: CalendarSource
    sender: Sender


@dataclass(slots=True)
class AccountReport:
    """What a cycle did for one account."""

    account: str
    sync: SyncReport | None = None
    sent: list[Sent] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    error: str = ""


class Worker:
    """Runs cycles for the configured accounts against one state database."""

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
    ) -> None:
        """`alert_relay` is the configured `alerts.via` route, if any (see alerts.py)."""
        self.config = config
        self.directory = directory
        self.templates = templates
        self.db = db
        self.mailrooms = mailrooms
        self.clock = clock
        self.alert_relay = alert_relay

    def desk(self, account: str, now: datetime) -> Desk:
        return open_desk(self.config, self.db, account, self.directory, now)

    def cycle(self) -> list[AccountReport]:
        """One pass over every account."""
        return [self.cycle_account(room) for room in self.mailrooms]

    def cycle_account(self, room: Mailroom) -> AccountReport:
        report = AccountReport(room.name)
        now = self.clock()
        drafts = self.config.policy.mode == "drafts"
        detail = outbox.INTERRUPTED_DRAFT if drafts else outbox.INTERRUPTED
        report.interrupted = outbox.recover_interrupted(self.db, room.name, now, detail)
        with transaction(self.db):
            state = sync_state.account_state(self.db, room.name)
        paused_before = state.sync_paused(now)
        try:
            if paused_before:
                report.error = f"paused until {state.paused_until:%Y-%m-%d %H:%M} UTC: "
                report.error += state.pause_reason
            else:
                report.sync = sync_account(self.desk(room.name, now), room.calendar)
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
        routes = self.alert_routes(room, own_allowed=not paused_before)
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
        with transaction(self.db):
            states = {r.name: sync_state.account_state(self.db, r.name) for r in self.mailrooms}
        for other in self.mailrooms:
            state = states[other.name]
            if other.name != room.name and not (
                state.sync_paused(now) or state.sending_paused(now)
            ):
                routes.append(AlertRoute(f"account {other.name}'s mailbox", other.sender))
        if own_allowed and not states[room.name].sending_paused(now):
            routes.append(AlertRoute(f"account {room.name}'s own mailbox", room.sender))
        return routes

    def _note(self, account: str, event: str, detail: str) -> None:
        with transaction(self.db):
            audit(self.db, self.clock(), account, event, detail)
