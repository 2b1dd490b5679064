"""The state database as the service loop sees it: faults named, logged once, alerted.

Also the files the loop keeps for monitors: the heartbeat and the recorded fault.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from worker.config import Config
from worker.errors import DatabaseFault, FairWarningError
from worker.notices.templates import TemplateLibrary
from worker.pipeline.alerts import alert_without_state
from worker.pipeline.cycle import Worker
from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.db import check_writable, database_path, open_database
from worker.store.faults import classify
from worker.wiring import fault_alert_routes

log = logging.getLogger("fairwarning")

HEARTBEAT = "heartbeat"
FAULT = "database-fault"


class Guard:
    """The state database as the loop sees it: each fault condition is logged once.

    After a fault the database is reopened before every retry: a file that was read-only
    when it was opened stays read-only in that connection even once it has been fixed.
    """

    def __init__(
        self,
        config: Config,
        *,
        say: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.say = say  # `run --once` says it on stderr, as its last words, instead
        self.config = config
        self.clock = clock  # with a clock, a new fault is also sent as an alert
        self.state_dir = config.state_dir
        self.interval = config.poll_interval
        self.fault: DatabaseFault | None = None
        self.checked: datetime | None = None
        self.unbeaten = ""

    def ready(self, worker: Worker, now: datetime) -> None:
        """Reopen after a fault; otherwise prove, once per interval, that a commit still works."""
        if self.fault is not None:
            close_database(worker.db)
            worker.db = open_database(self.state_dir, self.config.state)
        elif self.checked is None or now - self.checked >= self.interval:
            check_writable(worker.db)
        self.checked = now

    def failed(self, worker: Worker | None, exc: Exception, now: datetime) -> DatabaseFault:
        """Name the fault (logging it if it is new) and record it for `status`."""
        fault = exc if isinstance(exc, DatabaseFault) else self._diagnose(worker, exc)
        if self.say and (self.fault is None or fault.message != self.fault.message):
            log.error("%s", fault.message)
        if self.fault is None or fault.message != self.fault.message:
            with contextlib.suppress(OSError):
                _write_plain(fault_path(self.state_dir), f"{now.isoformat()}\n{fault.message}\n")
            self._alert(worker, fault, now)
        self.fault = fault
        return fault

    def _alert(self, worker: Worker | None, fault: DatabaseFault, now: datetime) -> None:
        """The practitioner hears of it through the relay or any mailbox: none needs the state."""
        if self.clock is None:
            return
        try:
            routes = fault_alert_routes(self.config, self.clock, worker)
            took = alert_without_state(
                self.config,
                routes,
                TemplateLibrary(user_dir=self.config.templates_dir),
                fault.message,
                now,
            )
        except FairWarningError as exc:
            took, why = "", exc.message
        else:
            why = "no route took it"
        if took:
            log.info("told the practitioner about it through %s", took)
        else:
            log.warning("could not alert the practitioner about it (%s)", why)

    def _diagnose(self, worker: Worker | None, exc: Exception) -> DatabaseFault:
        """Reopening names a fault best: a file that turned read-only reopens read-only."""
        first = classify(exc, database_path(self.state_dir))
        if worker is None or first.kind == "locked":  # reopening would only wait again
            return first
        close_database(worker.db)
        try:
            worker.db = open_database(self.state_dir, self.config.state)
        except DatabaseFault as fault:
            return fault
        return first

    def recovered(self) -> None:
        if self.fault is not None:
            log.info("the state database %s works again", database_path(self.state_dir))
            self.fault = None
        with contextlib.suppress(OSError):
            fault_path(self.state_dir).unlink(missing_ok=True)

    def beat(self, now: datetime) -> None:
        """Touch the heartbeat; a failure to is logged once, never fatal."""
        path = self.state_dir / HEARTBEAT
        try:
            _write_plain(path, f"{now.isoformat()}\n")
        except OSError as exc:
            said = f"cannot write the heartbeat {path}: {exc.strerror or exc}"
            if said != self.unbeaten:
                log.error("%s; `fairwarning status` will say the worker is not running", said)
            self.unbeaten = said
        else:
            self.unbeaten = ""


def close_database(db: Connection) -> None:
    """Close the state database, ignoring a connection already broken."""
    with contextlib.suppress(*DATABASE_ERRORS):
        db.close()


def _write_plain(path: Path, text: str) -> None:
    """Atomically replace `path`, mode 0600, unencrypted: monitors read it without the key."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def heartbeat_path(config: Config) -> Path:
    return config.state_dir / HEARTBEAT


def fault_path(state_dir: Path) -> Path:
    """Where the worker records a state database fault for `status` (gone once it works)."""
    return state_dir / FAULT
