"""The ladder: which step a counted late cancellation earns, and the words that say why.

Pure, like the rest of the rules. A step above the first rests on a warning that reached the
client before this cancellation happened: the n-th step needs n − 1 earlier late
cancellations in the lookback whose notice was sent before it. Late cancellations whose
notice never went out (dropped, waived, rejected, or still waiting) do not raise the step,
and one that joined another's notice (made before that notice went out) is part of the same
offence: it counts as a late cancellation, never as a second warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from worker.config import Policy
from worker.model import Client, Decision, Fact, Verdict


@dataclass(frozen=True, slots=True)
class Offence:
    """An earlier counted late cancellation by one client, and the warning it earned.

    `warned_at` is when its notice was sent to the client (None when it was not, or not
    yet); `notice` names it for the practitioner ("the reminder FW-…"). `joined` is set for
    a late cancellation named in another case's notice: the same offence as that case.
    """

    cancelled_at: datetime
    warned_at: datetime | None = None
    notice: str = ""
    joined: bool = False


def climb_ladder(
    fact: Fact,
    client: Client,
    policy: Policy,
    earlier: Sequence[Offence],
    notice: timedelta,
    *why: str,
) -> Decision:
    """The notice for this late cancellation: step n needs n − 1 warnings sent before it.

    The last step repeats. The decision's `offence` is the step number; its reasons count
    the late cancellations in the lookback and name the warning the step rests on (or say
    that none had reached the client yet). `details` carries `warned_at`, the time the
    warning it rests on was sent, for the notice's "as I mentioned".
    """
    cancelled = fact.cancelled_at.latest
    since = cancelled - policy.lookback
    recent = [o for o in earlier if since <= o.cancelled_at <= cancelled]
    offences = [o for o in recent if not o.joined]
    warnings = sorted(
        (o for o in offences if o.warned_at is not None and o.warned_at < cancelled),
        key=lambda o: o.warned_at or cancelled,
    )
    step_number = len(warnings) + 1
    step = policy.steps[min(step_number, len(policy.steps)) - 1]
    late = (
        f"cancelled {describe_notice(notice)}, inside the {describe_span(policy.late_window)} "
        "late window"
    )
    count = (
        f"{ordinal(len(recent) + 1)} late cancellation in the last {describe_span(policy.lookback)}"
    )
    basis = _basis(warnings, unwarned=len(offences) - len(warnings), cancelled=cancelled)
    details = {}
    if warnings:
        details["warned_at"] = (warnings[-1].warned_at or cancelled).isoformat()
    return Decision(
        verdict=Verdict(step),
        fact=fact,
        client=client,
        reasons=(late, *why, count, *basis),
        notice=notice,
        offence=step_number,
        counts=True,
        details=details,
    )


def _basis(warnings: Sequence[Offence], *, unwarned: int, cancelled: datetime) -> tuple[str, ...]:
    """Which warning the step rests on, or why the ladder did not climb."""
    if not warnings:
        if unwarned:
            return ("no warning had reached the client yet, so the ladder does not climb",)
        return ()
    latest = warnings[-1]
    sent = latest.warned_at or cancelled
    on = f"{sent.day} {sent:%b}" + (f" {sent.year}" if sent.year != cancelled.year else "")
    words = f"rests on {latest.notice or 'a warning'} sent on {on}"
    if len(warnings) > 1:
        words += f" and {_count(len(warnings) - 1, 'earlier warning')}"
    if unwarned:
        theirs = "its notice" if unwarned == 1 else "their notices"
        words += (
            f"; {_count(unwarned, 'other late cancellation')} in the lookback did not raise "
            f"the step: {theirs} had not reached the client before this one"
        )
    return (words,)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def describe_span(span: timedelta) -> str:
    """'24 h', '3 h 10 min', '365 days' — short and exact."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    if days >= 2 and not rest:
        return f"{days} days"
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    return f"{hours} h" if hours else f"{mins} min"


def describe_notice(notice: timedelta) -> str:
    """How much warning the client gave, e.g. '3 h 10 min before the session'."""
    if notice < timedelta(0):
        return f"{describe_span(-notice)} after the session started"
    return f"{describe_span(notice)} before the session"


def ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"
