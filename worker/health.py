"""`fairwarning status`: what a practitioner or a monitor needs to know at a glance."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from worker.store import outbox, views
from worker.store.db import from_utc_text


def health(
    db: sqlite3.Connection, configured: list[str], now: datetime, interval: timedelta
) -> dict[str, Any]:
    """Accounts' last sync, notices by state, and whether anything needs the practitioner.

    Every configured account is listed: one that never synced is stale, not absent.
    """
    accounts = []
    known = {row["name"]: row for row in views.accounts(db)}
    for name in configured:
        row = known.get(name) or {
            "name": name,
            "last_success_at": None,
            "paused_until": None,
            "pause_reason": None,
        }
        last = row["last_success_at"]
        stale = last is None or now - from_utc_text(last) > 3 * interval + timedelta(minutes=1)
        accounts.append(
            {
                "name": row["name"],
                "last_sync": last,
                "stale": stale,
                "paused_until": row["paused_until"],
                "pause_reason": row["pause_reason"],
            }
        )
    waiting = views.needing_practitioner(db)
    notices = outbox.counts_by_state(db)
    stuck = views.stuck_notices(db)
    return {
        "accounts": accounts,
        "notices": notices,
        "waiting_for_you": [c["id"] for c in waiting],
        "problems": [p["text"] for p in views.problems(db)],
        "stuck": [f"{n['ref']} to {n['client_email']}: {n['detail']}" for n in stuck],
        "needs_you": bool(waiting or stuck) or any(a["stale"] for a in accounts),
    }


def describe(report: dict[str, Any]) -> str:
    lines = []
    for account in report["accounts"]:
        state = "STALE: not synced recently" if account["stale"] else "ok"
        if account["last_sync"] is None:
            state = "never synced: is `fairwarning run` running?"
        lines.append(f"account {account['name']}: last sync {account['last_sync']} ({state})")
    counts = ", ".join(f"{n} {state}" for state, n in sorted(report["notices"].items()))
    lines.append(f"notices: {counts or 'none yet'}")
    if report["waiting_for_you"]:
        ids = ", ".join(str(i) for i in report["waiting_for_you"])
        lines.append(f"waiting for you: cases {ids} (see `fairwarning review`)")
    for notice in report["stuck"]:
        lines.append(f"waiting for a template fix: {notice}")
    for problem in report["problems"]:
        lines.append(f"problem: {problem}")
    return "\n".join(lines)
