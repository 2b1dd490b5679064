"""When each account is next polled: the interval, or a back-off after failures.

`Schedule` is one worker's own schedule (SQLite, one worker per state directory); several
workers on PostgreSQL share theirs through leases (worker/service/leased.py), paced alike.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Many accounts polled at one moment spread apart instead of stampeding. Only ever earlier:
# a calendar is looked at within `poll_interval` of its last look, which is what detection
# time is promised against (jitter both ways let one in ten polls come up to 10 % late).
JITTER = 0.1
LONGEST_BACKOFF = timedelta(hours=1)
IN_FLIGHT = datetime.max.replace(tzinfo=UTC)  # "due" of an account whose poll is running


def wait_after(interval: timedelta, failures: int, rng: random.Random) -> timedelta:
    """The interval after a success; after `failures` in a row, doubling up to an hour."""
    wait = interval if not failures else min(interval * 2**failures, LONGEST_BACKOFF)
    return wait * (1 - rng.uniform(0, JITTER))


@dataclass
class Schedule:
    """When each account is next due, and how often in a row it has failed."""

    interval: timedelta
    rng: random.Random = field(default_factory=random.Random)
    due: dict[str, datetime] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    holder: str | None = None  # no leases: this worker alone polls these accounts
    noticed: Callable[[str], None] | None = None  # never called: nothing shared can fail

    def start(self, accounts: list[str], now: datetime) -> None:
        self.due = {name: self.due.get(name, now) for name in accounts}

    def next_due(self) -> tuple[str, datetime]:
        return min(self.due.items(), key=lambda item: item[1])

    def take(self, now: datetime, most: int) -> list[str]:
        """Up to `most` accounts due by `now`, earliest first, marked as being polled."""
        due = sorted((at, name) for name, at in self.due.items() if at <= now)[:most]
        for _, name in due:
            self.due[name] = IN_FLIGHT
        return [name for _, name in due]

    def record(self, account: str, ok: bool, now: datetime) -> datetime:
        """Schedule the account's next poll after a success or a failure."""
        failures = 0 if ok else self.failures.get(account, 0) + 1
        self.failures[account] = failures
        self.due[account] = now + wait_after(self.interval, failures, self.rng)
        return self.due[account]

    def again(self, account: str, now: datetime) -> None:
        """An account whose step never finished is simply due."""
        self.due[account] = now

    def close(self) -> None:
        """Nothing to hand back: no other worker shares these accounts."""
