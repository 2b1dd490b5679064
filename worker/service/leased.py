"""The service loop's schedule when several workers share one PostgreSQL database.

It has the small interface of `lifecycle.Schedule` (start, take, record, again, next_due), but
the due times live in the shared lease table (worker/store/leases.py): `take` claims due
accounts, `record` releases one with its next due time, and a heartbeat thread renews the
leases still held. The heartbeat is a thread of its own, with its own connection, because a
poll on the loop's thread (one poller) or a slow send can take minutes: a lease renewed only
between steps would have to outlast the slowest step, and a dead worker's accounts would wait
that long. Renewed every third of the lease, it survives two missed beats.

The schedule's own connection is not the worker's: a lease that cannot be claimed, renewed or
released is logged and left to expire (then any worker polls the account), never a crash.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from worker.config import Config
from worker.errors import DatabaseFault, StateError
from worker.pipeline.cycle import Mailroom, Worker
from worker.service.guard import Guard
from worker.service.pacing import wait_after
from worker.store import leases
from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.postgres import connect

log = logging.getLogger("fairwarning")

SHARED = "schedule"  # the kind of fault of a shared schedule that cannot be read
RETRY_TROUBLE = timedelta(seconds=5)
SHORTEST_WAIT = timedelta(milliseconds=50)  # a due account claimed by another a moment ago


class LeasedSchedule:
    """When each account is next due, shared with every worker on the database."""

    def __init__(
        self,
        *,
        interval: timedelta,
        lease: timedelta,
        connect: Callable[[], Connection],
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
    ) -> None:
        self.interval = interval
        self.lease = lease
        self.holder = leases.holder_name()
        self._connect = connect
        self._clock = clock
        self._rng = rng or random.Random()
        self._db: Connection | None = None
        self._accounts: list[str] = []
        self._enrolled = False
        self._failures: dict[str, int] = {}
        self._held: set[str] = set()
        self._lock = threading.Lock()  # `_held` is read by the heartbeat
        self._complaint = ""
        self.noticed: Callable[[str], None] | None = None  # told as it starts or stops failing
        self._heartbeat = _Heartbeat(self.holder, lease, connect, clock, self.held)

    def start(self, accounts: list[str], now: datetime) -> None:
        """Watch these accounts (the configured ones); starts the heartbeat the first time."""
        self._accounts = list(accounts)
        self._enrolled = False
        self._enrol(now)
        self._heartbeat.start()

    def take(self, now: datetime, most: int, *, due_or_not: bool = False) -> list[str]:
        """Claim up to `most` due accounts, earliest first; they are held until recorded.
        `due_or_not` claims every free account (`run --once`: one pass over all of them)."""
        if not self._enrol(now):
            return []
        due_by = datetime.max.replace(tzinfo=UTC) if due_or_not else now
        try:
            claimed = leases.claim(
                self._database(),
                self.holder,
                self._accounts,
                now,
                length=self.lease,
                most=most,
                due_by=due_by,
            )
        except DATABASE_ERRORS as exc:
            self._trouble("claim accounts", exc)
            return []
        self._fine()
        with self._lock:
            self._held.update(lease.account for lease in claimed)
        for lease in claimed:
            self._failures[lease.account] = lease.failures
        return [lease.account for lease in claimed]

    def record(self, account: str, ok: bool, now: datetime) -> datetime:
        """Release the account, due again after the interval or its back-off."""
        failures = 0 if ok else self._failures.get(account, 0) + 1
        next_due = now + wait_after(self.interval, failures, self._rng)
        self._release(account, next_due, failures)
        return next_due

    def again(self, account: str, now: datetime) -> None:
        """Release an account whose step never finished: due at once, for any worker."""
        self._release(account, now, self._failures.get(account, 0))

    def next_due(self) -> tuple[str, datetime]:
        """Roughly when the next account can be claimed: never later than one interval, in
        case another worker releases one sooner than this worker could know."""
        now = self._clock()
        at = now + self.interval
        try:
            free = leases.next_free(self._database(), self._accounts) if self._accounts else None
        except DATABASE_ERRORS as exc:
            self._trouble("read the schedule", exc)
            free = None
        if self._complaint:  # try a failing schedule again soon, not an interval later
            return "", now + min(self.interval, RETRY_TROUBLE)
        if free is not None:
            at = max(min(free, at), now + SHORTEST_WAIT)
        return "", at

    @property
    def problem(self) -> str:
        """What went wrong with the shared schedule at the last try ("" when it works)."""
        return self._complaint

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._held)

    def close(self) -> None:
        """Stop the heartbeat and free every account still held (a clean stop)."""
        self._heartbeat.stop()
        with self._lock:
            self._held.clear()
        if self._db is not None:
            with contextlib.suppress(*DATABASE_ERRORS):
                leases.release_all(self._db, self.holder)
            with contextlib.suppress(*DATABASE_ERRORS):
                self._db.close()
            self._db = None

    def _release(self, account: str, next_due: datetime, failures: int) -> None:
        with self._lock:
            self._held.discard(account)  # never renewed again, even if the release fails
        try:
            leases.release(
                self._database(), self.holder, account, next_due=next_due, failures=failures
            )
        except DATABASE_ERRORS as exc:
            self._trouble(f"release account {account} (its lease will run out)", exc)
            return
        self._fine()

    def _enrol(self, now: datetime) -> bool:
        if self._enrolled:
            return True
        try:
            leases.enrol(self._database(), self._accounts, now)
        except DATABASE_ERRORS as exc:
            self._trouble("enrol the configured accounts", exc)
            return False
        self._enrolled = True
        return True

    def _database(self) -> Connection:
        if self._db is None:
            self._db = self._connect()
        return self._db

    def _trouble(self, doing: str, exc: Exception) -> None:
        said = f"cannot {doing} in the shared schedule: {exc}".strip()
        changed, self._complaint = said != self._complaint, said
        if changed and self.noticed is not None:
            self.noticed(said)
        elif changed:
            log.error("%s", said)
        if self._db is not None:
            with contextlib.suppress(*DATABASE_ERRORS):
                self._db.close()
            self._db = None  # reconnected on next use

    def _fine(self) -> None:
        if self._complaint:
            log.info("the shared schedule works again")
            self._complaint = ""
            if self.noticed is not None:
                self.noticed("")


class _Heartbeat:
    """Renews the schedule's leases every third of a lease, on a connection of its own."""

    def __init__(
        self,
        holder: str,
        lease: timedelta,
        connect: Callable[[], Connection],
        clock: Callable[[], datetime],
        held: Callable[[], list[str]],
    ) -> None:
        self.holder = holder
        self.lease = lease
        self.connect = connect
        self.clock = clock
        self.held = held
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="lease heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _beat(self) -> None:
        db: Connection | None = None
        complaint = ""
        while not self._stopped.wait(self.lease.total_seconds() / 3):
            held = self.held()
            if not held:
                continue
            try:
                db = db or self.connect()
                leases.renew(db, self.holder, held, self.clock(), length=self.lease)
            except DATABASE_ERRORS as exc:
                said = f"cannot renew this worker's account leases: {exc}".strip()
                if said != complaint:
                    log.error("%s; other workers take its accounts once they run out", said)
                complaint = said
                if db is not None:
                    with contextlib.suppress(*DATABASE_ERRORS):
                        db.close()
                db = None
                continue
            complaint = ""
        if db is not None:
            with contextlib.suppress(*DATABASE_ERRORS):
                db.close()


def leased_schedule(config: Config, clock: Callable[[], datetime]) -> LeasedSchedule:
    """The shared schedule for a worker whose state is the PostgreSQL database `config` names."""
    url = config.state.database
    assert url is not None

    def connection() -> Connection:
        state = config.state
        return connect(url, password_file=state.password_file, practice=state.practice)

    return LeasedSchedule(
        interval=config.poll_interval,
        lease=config.workers.lease,
        connect=connection,
        clock=clock,
    )


def free_rooms(worker: Worker, shared: LeasedSchedule | None, now: datetime) -> list[Mailroom]:
    """For `run --once`: every account; on a shared database, those no other worker holds."""
    if shared is None:
        return worker.mailrooms
    names = [room.name for room in worker.mailrooms]
    shared.start(names, now)
    free = shared.take(now, len(names), due_or_not=True)
    if shared.problem:  # a cycle that polled nothing must not look like a quiet one
        raise StateError(shared.problem)
    worker.holder = shared.holder
    if len(free) < len(names):
        log.info("%d account(s) left to the workers polling them", len(names) - len(free))
    return [room for room in worker.mailrooms if room.name in free]


def noticing(
    worker: Callable[[], Worker], guard: Guard, clock: Callable[[], datetime]
) -> Callable[[str], None]:
    """What a shared schedule tells as it starts or stops failing. One that cannot be read
    polls nothing: say so where `status` and the practitioner's alerts look, as for any
    state database fault, and clear it once it works."""

    def noticed(problem: str) -> None:
        if problem:
            guard.failed(worker(), DatabaseFault(problem, kind=SHARED), clock())
        elif guard.fault is not None and guard.fault.kind == SHARED:
            guard.recovered()

    return noticed
