"""What the records say over a period: cancellations, warnings, forfeits, fees, packages.

`cancellations` and `package_changes` read the state; `count` is pure arithmetic over what
they return, so a test can hand-count it. Definitions (README, "Reports"):

- a *cancellation* is a client's cancellation the worker judged: a case with a client, not a
  reschedule (`moved`), not dropped because the session was restored, cancelled before the
  session ended, and not a dry-run case;
- it is *late* when its start minus its cancel time is under `late_window`, else *on time*;
- *warnings* and *forfeits* are counted (unwaived) ledger entries; *waived* the waived ones;
- *fees due*: forfeits of clients without a prepaid package, at their fee (or the policy's),
  summed per currency; a forfeit with no fee configured is counted under `forfeits_without_fee`;
- a client's late cancellations are *rising* when the second half of the period holds more of
  them than the first half.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from worker.model import Money
from worker.store.connection import Connection, json_field, table_exists
from worker.store.db import from_utc_text, utc_text


@dataclass(frozen=True, slots=True)
class Cancellation:
    """One judged cancellation and what the ledger made of it."""

    client: str
    start: datetime
    cancelled_at: datetime
    ledger_kind: str | None  # "warning", "forfeit" or None (not counted)
    waived: bool
    prepaid: bool  # the client had a package when it was decided

    def is_late(self, late_window: timedelta) -> bool:
        return self.start - self.cancelled_at < late_window


@dataclass(frozen=True, slots=True)
class PackageChange:
    client: str
    change: int
    reason: str
    at: datetime


def cancellations(db: Connection, since: datetime) -> list[Cancellation]:
    """The judged cancellations made since `since` (see the module docstring)."""
    rows = db.execute(
        f"SELECT d.client_email, {json_field(db, 'f.session', 'start')} AS start,"  # noqa: S608
        f" {json_field(db, 'f.session', 'end')} AS end_at, f.cancelled_at,"
        " l.kind AS ledger_kind, l.waived_at,"
        f" {json_field(db, 'o.facts', 'prepaid_balance')} AS prepaid"
        " FROM decisions d JOIN facts f ON f.id = d.fact_id"
        " LEFT JOIN ledger l ON l.decision_id = d.id"
        " LEFT JOIN outbox o ON o.decision_id = d.id"
        " WHERE d.client_email IS NOT NULL AND f.kind != 'moved' AND d.status != 'dropped'"
        " AND coalesce(l.simulated, 0) = 0 AND coalesce(o.simulated, 0) = 0"
        " AND f.cancelled_at >= ? ORDER BY f.cancelled_at, d.id",
        (utc_text(since),),
    )
    found = []
    for row in rows:
        cancelled_at = datetime.fromisoformat(row["cancelled_at"])
        if cancelled_at > datetime.fromisoformat(row["end_at"]):
            continue  # clean-up of a past session, not a cancellation
        found.append(
            Cancellation(
                client=row["client_email"],
                start=datetime.fromisoformat(row["start"]),
                cancelled_at=cancelled_at,
                ledger_kind=row["ledger_kind"],
                waived=row["waived_at"] is not None,
                prepaid=row["prepaid"] is not None,
            )
        )
    return found


def package_changes(db: Connection, since: datetime) -> list[PackageChange] | None:
    """Entries of the prepaid package ledger since `since`; None when this state has none."""
    if not table_exists(db, "package_entries"):
        return None
    rows = db.execute(
        "SELECT client_email, change, reason, at FROM package_entries WHERE at >= ? ORDER BY id",
        (utc_text(since),),
    )
    return [
        PackageChange(r["client_email"], int(r["change"]), r["reason"], from_utc_text(r["at"]))
        for r in rows
    ]


FeeOf = Callable[[str], Money | None]
SPENT = ("session", "forfeit")  # entries that use a prepaid session
UNSPENT = ("forfeit_undone",)  # a waived forfeit gives its session back
BOUGHT = ("topup",)


def count(
    found: list[Cancellation],
    packages: list[PackageChange] | None,
    *,
    since: datetime,
    until: datetime,
    late_window: timedelta,
    zone: str,
    fee_of: FeeOf | None,
) -> dict[str, Any]:
    """The report as plain data (the `--json` shape, README "Reports")."""
    middle = since + (until - since) / 2
    tz = ZoneInfo(zone)
    months: dict[str, Counter[str]] = {}
    clients: dict[str, Counter[str]] = {}
    fees: dict[str, Decimal] = {}
    for item in found:
        late = item.is_late(late_window)
        word = "late" if late else "on_time"
        month = item.cancelled_at.astimezone(tz).strftime("%Y-%m")
        months.setdefault(month, Counter())[word] += 1
        tally = clients.setdefault(item.client, Counter())
        tally[word] += 1
        if late:
            tally["first_half_late" if item.cancelled_at < middle else "second_half_late"] += 1
        fee = _tally_ledger(item, tally, fee_of)
        if fee is not None:
            fees[fee.currency] = fees.get(fee.currency, Decimal(0)) + fee.amount
    for change in packages or ():
        tally = clients.setdefault(change.client, Counter())
        if change.reason in SPENT + UNSPENT:  # spending is negative, an undo positive
            tally["package_sessions_spent"] -= change.change
        elif change.reason in BOUGHT:
            tally["package_sessions_bought"] += change.change
    per_client = [
        _client_row(email, tally, packages is not None) for email, tally in clients.items()
    ]
    per_client.sort(key=lambda c: (-c["late"], c["client"]))
    totals = {
        name: sum(c[name] for c in per_client)
        for name in ("late", "on_time", "warnings", "forfeits", "waived", "forfeits_without_fee")
    }
    for name in ("package_sessions_spent", "package_sessions_bought"):
        totals[name] = None if packages is None else sum(c[name] for c in per_client)
    return {
        "since": utc_text(since),
        "until": utc_text(until),
        "time_zone": zone,
        "late_window_seconds": int(late_window.total_seconds()),
        "totals": {
            **totals,
            "fees_due": None if fee_of is None else {k: str(v) for k, v in sorted(fees.items())},
        },
        "months": [
            {"month": m, "late": months[m]["late"], "on_time": months[m]["on_time"]}
            for m in sorted(months)
        ],
        "clients": per_client,
        "rising": sorted(c["client"] for c in per_client if c["rising"]),
    }


def tally_clients(found: list[Cancellation], late_window: timedelta) -> dict[str, Counter[str]]:
    """Per client, over `found`: late, on_time, warnings, forfeits, waived, as `count` counts
    them, without the months and halves a report needs (the console's client list)."""
    clients: dict[str, Counter[str]] = {}
    for item in found:
        tally = clients.setdefault(item.client, Counter())
        tally["late" if item.is_late(late_window) else "on_time"] += 1
        _tally_ledger(item, tally, None)
    return clients


def _tally_ledger(item: Cancellation, tally: Counter[str], fee_of: FeeOf | None) -> Money | None:
    """Count what the ledger made of the cancellation; the fee it makes due, if any."""
    if item.ledger_kind is None:
        return None
    if item.waived:
        tally["waived"] += 1
        return None
    tally["warnings" if item.ledger_kind == "warning" else "forfeits"] += 1
    if item.ledger_kind != "forfeit" or item.prepaid:
        return None
    fee = fee_of(item.client) if fee_of else None
    if fee is None:
        tally["forfeits_without_fee"] += 1
    return fee


def _client_row(email: str, tally: Counter[str], has_packages: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"client": email}
    for name in (
        "late",
        "on_time",
        "warnings",
        "forfeits",
        "waived",
        "forfeits_without_fee",
        "first_half_late",
        "second_half_late",
    ):
        row[name] = tally[name]
    for name in ("package_sessions_spent", "package_sessions_bought"):
        row[name] = tally[name] if has_packages else None
    row["rising"] = tally["second_half_late"] > tally["first_half_late"]
    return row
