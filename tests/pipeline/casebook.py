"""A month of Dana's practice, shared by the case-file and report tests, with what it holds.

Sam (5 prepaid sessions) cancels late three times: a reminder that goes out, a forfeit that
goes out, and a forfeit Dana waives inside the undo window; he also cancels one session days
ahead (on time). One of his sessions carries a hostile title. Lucía (no package, Spanish)
cancels late twice: a reminder, then a forfeit at the policy's fee of 60.00 GBP.
"""

from __future__ import annotations

from datetime import timedelta

from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.pipeline.casework import open_desk, waive
from worker.store.db import transaction

LUCIA = "lucia@example.org"
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
HOUR = timedelta(hours=1)
HOLD = timedelta(minutes=11)
FEE = {"amount": "60.00", "currency": "GBP"}


def _decline_and_deliver(practice: Practice, key: str, client: str) -> None:
    practice.calendar.decline(key, client)
    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()


def run_month(practice: Practice) -> None:
    """Play the scenario above through the real pipeline (memory calendar and mailbox)."""
    practice.book("sam-1", SAM, 5 * HOUR)
    practice.book("sam-2", SAM, 30 * HOUR, title=HOSTILE)
    practice.book("sam-3", SAM, 54 * HOUR)
    practice.book("sam-4", SAM, 200 * HOUR)
    practice.book("lucia-1", LUCIA, 6 * HOUR)
    practice.book("lucia-2", LUCIA, 31 * HOUR)
    practice.baseline()

    practice.clock.advance(HOUR)
    _decline_and_deliver(practice, "sam-1", SAM)  # reminder
    _decline_and_deliver(practice, "lucia-1", LUCIA)  # reminder
    practice.calendar.decline("sam-4", SAM)  # a week ahead: on time
    practice.cycle()

    practice.clock.advance(12 * HOUR)
    _decline_and_deliver(practice, "sam-2", SAM)  # forfeit
    _decline_and_deliver(practice, "lucia-2", LUCIA)  # forfeit, a fee

    practice.clock.advance(30 * HOUR)
    practice.calendar.decline("sam-3", SAM)  # forfeit, waived before it leaves
    practice.cycle()
    [row] = practice.query(
        "SELECT d.id FROM decisions d JOIN facts f ON f.id = d.fact_id WHERE f.session_key = ?",
        "sam-3",
    )
    config = practice.config
    desk = open_desk(config, practice.db, "main", load_directory(config), practice.clock())
    with transaction(practice.db):
        waive(desk, row["id"], "his car broke down on the motorway")
    practice.clock.advance(HOLD)
    practice.cycle()
