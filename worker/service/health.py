"""`fairwarning status`: what a practitioner or a monitor needs to know at a glance.

Three answers, also the exit code: 0 healthy; 1 something needs the practitioner (a case in
review, an unknown or rejected send, a paused or stale account, a notice held by a broken
template); 2 broken (the worker has not run recently: its heartbeat is missing or old).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from worker.store import views
from worker.store.db import from_utc_text, utc_text

HEALTHY, NEEDS_YOU, BROKEN = 0, 1, 2


def _time(text: str | None) -> datetime | None:
    return None if text is None else from_utc_text(text)


def _account(row: dict[str, Any], now: datetime, interval: timedelta) -> dict[str, Any]:
    last = _time(row.get("last_success_at"))
    stale = last is None or now - last > 3 * interval + timedelta(minutes=1)
    paused = _time(row.get("paused_until"))
    sending = _time(row.get("sending_paused_until"))
    return {
        "name": row["name"],
        "last_sync": utc_text(last) if last else None,
        "next_poll": utc_text(max(last + interval, now)) if last else None,
        "stale": stale,
        "paused_until": utc_text(paused) if paused and paused > now else None,
        "pause_reason": (row.get("pause_reason") or "") if paused and paused > now else "",
        "sending_paused_until": utc_text(sending) if sending and sending > now else None,
        "sending_pause_reason": (row.get("sending_pause_reason") or "")
        if sending and sending > now
        else "",
    }


def health(
    db: sqlite3.Connection,
    configured: list[str],
    now: datetime,
    interval: timedelta,
    heartbeat: Path | None = None,
) -> dict[str, Any]:
    """Every configured account (one that never synced is stale), notices and the verdict."""
    known = {row["name"]: row for row in views.accounts(db)}
    accounts = [_account(known.get(name) or {"name": name}, now, interval) for name in configured]
    for account in accounts:
        account["notices"] = views.notice_counts(db, account["name"])
    waiting = views.needing_practitioner(db)
    stuck = views.stuck_notices(db)
    beat = _heartbeat(heartbeat)
    needs_you = bool(waiting or stuck) or any(
        a["stale"] or a["paused_until"] or a["sending_paused_until"] for a in accounts
    )
    broken = heartbeat is not None and (
        beat is None or now - beat > max(5 * interval, timedelta(minutes=5))
    )
    return {
        "health": "broken" if broken else "needs_you" if needs_you else "ok",
        "heartbeat": utc_text(beat) if beat else None,
        "accounts": accounts,
        "notices": views.notice_counts(db, None),
        "waiting_for_you": [c["id"] for c in waiting],
        "problems": [p["text"] for p in views.problems(db)],
        "stuck": [f"{n['ref']} to {n['client_email']}: {n['detail']}" for n in stuck],
        "needs_you": needs_you,
    }


def exit_code(report: dict[str, Any]) -> int:
    return {"ok": HEALTHY, "needs_you": NEEDS_YOU, "broken": BROKEN}[str(report["health"])]


def _heartbeat(path: Path | None) -> datetime | None:
    try:
        return datetime.fromisoformat(path.read_text().strip()) if path else None
    except (OSError, ValueError):
        return None


def describe(report: dict[str, Any]) -> str:
    """The report in sentences, one line each."""
    lines = []
    if report["health"] == "broken":
        since = report["heartbeat"] or "never"
        lines.append(f"BROKEN: the worker has not run recently (last heartbeat: {since})")
    for account in report["accounts"]:
        lines.append(_account_line(account))
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


def _account_line(account: dict[str, Any]) -> str:
    state = "STALE: not synced recently" if account["stale"] else "ok"
    if account["last_sync"] is None:
        state = "never synced: is `fairwarning run` running?"
    line = f"account {account['name']}: last sync {account['last_sync']} ({state})"
    if account["next_poll"]:
        line += f", next poll {account['next_poll']}"
    if account["paused_until"]:
        line += f"\n  PAUSED until {account['paused_until']}: {account['pause_reason']}"
    if account["sending_paused_until"]:
        line += (
            f"\n  SENDING PAUSED until {account['sending_paused_until']}: "
            f"{account['sending_pause_reason']}"
        )
    return line
