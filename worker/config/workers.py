"""The `[workers]` table: how much one worker process does at once."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from worker.config.fields import Duration, Section

# Enough to poll about 1,000 calendars a minute at Google's usual answer times, on one vCPU.
DEFAULT_POLLERS = 8
# A dead worker's accounts wait at most this long for another; renewed every third of it, so
# two missed heartbeats in a row (a stalled database, a paused VM) still keep it.
DEFAULT_LEASE = timedelta(seconds=30)


class WorkerSettings(Section):
    """How one `fairwarning run` process spreads its work."""

    pollers: int = Field(
        DEFAULT_POLLERS,
        ge=1,
        le=64,
        description="Calendars fetched at once; judging, the database and sending stay on one "
        "thread whatever this is. 1 polls the accounts one after another.",
    )
    lease: Duration = Field(
        DEFAULT_LEASE,
        description="With several workers on one PostgreSQL database: how long an account "
        "stays with a worker that stopped renewing its claim (it died) before another takes it "
        "over. Renewed every third of this while a poll runs, however slow.",
    )

    @field_validator("lease")
    @classmethod
    def _long_enough_to_renew(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("a lease shorter than 1s cannot be renewed in time; use 30s")
        return value
