"""The `[workers]` table: how much one worker process does at once."""

from __future__ import annotations

from pydantic import Field

from worker.config.fields import Section

# Enough to poll about 1,000 calendars a minute at Google's usual answer times, on one vCPU.
DEFAULT_POLLERS = 8


class WorkerSettings(Section):
    """How one `fairwarning run` process spreads its work."""

    pollers: int = Field(
        DEFAULT_POLLERS,
        ge=1,
        le=64,
        description="Calendars fetched at once; judging, the database and sending stay on one "
        "thread whatever this is. 1 polls the accounts one after another.",
    )
