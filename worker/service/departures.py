"""When an approved notice will really leave, in the practitioner's words and time."""

from __future__ import annotations

from datetime import datetime

from worker.config import Config
from worker.durations import format_duration
from worker.pipeline.delivery import Departure
from worker.service.folders import notices_folder
from worker.service.health import worker_running
from worker.service.times import local_clock


def departure_words(config: Config, leaves: Departure, now: datetime) -> str:
    """When the approved notice leaves, in the practitioner's time, and what sends it then:
    "the reminder FW-… to sam@example.org will go out at 08:00 GMT tomorrow (quiet hours in
    Europe/London until then)"."""
    what = f"the {leaves.kind} {leaves.ref} to {leaves.client_email}"
    folder = notices_folder(config, leaves.account)
    verb = f"will be written to {folder}" if folder else "will go out"
    if config.policy.mode == "drafts" and not folder:
        verb = "will be put in your Drafts folder, for you to send,"
    if leaves.simulated:
        verb += " (dry-run mode: nothing is mailed)"
    running = worker_running(config.state_dir)
    if leaves.waits_for:
        when = local_clock(leaves.at, config.practitioner.time_zone, now)
        said = f"{what} {verb} at {when} ({leaves.waits_for} until then)"
        if running is False:
            said += "; no service is running, so it goes with your first `fairwarning run --once`"
            said += " after that"
        return said
    if running is False:
        return f"{what} {verb} when you next run `fairwarning run --once` (no service is running)"
    return f"{what} {verb} on the next cycle (within {format_duration(config.poll_interval)})"
