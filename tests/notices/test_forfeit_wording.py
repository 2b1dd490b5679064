"""A forfeit says "as I mentioned" only when an earlier notice really reached this client.

Whole cycles on a memory calendar and mailbox (tests/practice.py): the earlier notice is
known from the outbox at decision time, and its date is what the client reads.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from tests.practice import SAM, Practice

HOUR = timedelta(hours=1)


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_forfeit_after_a_reminder_that_went_out_says_when_it_was_sent(
    practice: Practice,
) -> None:
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 29 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()  # the undo window is over: the reminder goes out
    assert practice.outbox_states() == ["sent"]
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()

    reminder, forfeit = practice.notices()
    assert "As I mentioned" not in body(reminder)
    assert "As I mentioned when I wrote to you on 23 November, a session" in body(forfeit)
    assert "Next time" not in body(forfeit)


def test_a_strict_policys_forfeits_before_any_notice_went_out_do_not_pretend_one_did(
    tmp_path: Path,
) -> None:
    # Forfeit from the first late cancellation; both declines land in one cycle, inside the
    # undo window: no notice has reached Sam, and each forfeit stands on its own.
    practice = Practice(tmp_path, policy={"steps": ["forfeit"]})
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 20 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()

    forfeits = practice.notices()
    assert [str(m["Subject"]).split()[0] for m in forfeits] == ["Your", "Your"]
    for forfeit in forfeits:
        assert "mention" not in body(forfeit)
        assert "As the policy says, a session cancelled this late is forfeited" in body(forfeit)


def test_a_reminder_that_was_only_queued_is_not_an_earlier_warning(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 29 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()

    # The second decline joins the reminder still waiting for review: one notice, no forfeit.
    [row] = practice.query("SELECT kind, facts FROM outbox")
    assert row["kind"] == "reminder"
    assert '"warned_at": null' in row["facts"]
    assert '"other_sessions": [{' in row["facts"]
