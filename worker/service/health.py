"""`fairwarning status`, and what a cycle left for the practitioner (`run --once`'s exit code).

Three answers, also the exit code: 0 healthy; 1 something needs the practitioner (a case in
review, an unknown or rejected send, a paused or stale account, a notice held by a broken
template); 2 broken (the worker has not run recently: its heartbeat is missing or old; or it
recorded a state database fault; or there is no state yet).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from worker.model import Verdict
from worker.pipeline.cycle import AccountReport
from worker.store import views
from worker.store.db import from_utc_text, utc_text

HEALTHY, NEEDS_YOU, BROKEN = 0, 1, 2
NO_STATE = "no state yet: run `fairwarning run --once` or start the service"


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
    db: sqlite3.Connection | None,
    configured: list[str],
    now: datetime,
    interval: timedelta,
    heartbeat: Path | None = None,
    fault: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Every configured account (one that never synced is stale), notices and the verdict.

    `db` is None when there is no state yet; `fault` is the state database fault the worker
    recorded (see `read_fault`), reported at once rather than when the accounts go stale.
    """
    known = {row["name"]: row for row in views.accounts(db)} if db else {}
    accounts = [_account(known.get(name) or {"name": name}, now, interval) for name in configured]
    for account in accounts:
        account["notices"] = views.notice_counts(db, account["name"]) if db else {}
    waiting = views.needing_practitioner(db) if db else []
    stuck = views.stuck_notices(db) if db else []
    unsent_alerts = views.undelivered_alerts(db) if db else []
    beat = _heartbeat(heartbeat)
    needs_you = bool(waiting or stuck or unsent_alerts) or any(
        a["stale"] or a["paused_until"] or a["sending_paused_until"] for a in accounts
    )
    not_running = heartbeat is not None and (
        beat is None or now - beat > max(5 * interval, timedelta(minutes=5))
    )
    broken = not_running or fault is not None or db is None
    return {
        "health": "broken" if broken else "needs_you" if needs_you else "ok",
        "heartbeat": utc_text(beat) if beat else None,
        "not_running": not_running,
        "state": "none" if db is None else "faulty" if fault else "ok",
        "fault": fault,
        "accounts": accounts,
        "notices": views.notice_counts(db, None) if db else {},
        "waiting_for_you": [c["id"] for c in waiting],
        "problems": [p["text"] for p in views.problems(db)] if db else [],
        "stuck": [f"{n['ref']} to {n['client_email']}: {n['detail']}" for n in stuck],
        "undelivered_alerts": [
            {"account": a["account"], "kind": a["kind"], "why": a["detail"]} for a in unsent_alerts
        ],
        "needs_you": needs_you,
    }


def exit_code(report: dict[str, Any]) -> int:
    return {"ok": HEALTHY, "needs_you": NEEDS_YOU, "broken": BROKEN}[str(report["health"])]


def _heartbeat(path: Path | None) -> datetime | None:
    try:
        return datetime.fromisoformat(path.read_text().strip()) if path else None
    except (OSError, ValueError):
        return None


def read_fault(path: Path) -> dict[str, str] | None:
    """The fault the worker recorded in `path` (`since` and `message`), if any."""
    try:
        since, message = path.read_text(encoding="utf-8").split("\n", 1)
    except (OSError, ValueError):
        return None
    return {"since": since.strip(), "message": message.strip()}


def describe(report: dict[str, Any]) -> str:
    """The report in sentences, one line each."""
    lines = []
    if report["fault"]:
        fault = report["fault"]
        lines.append(f"BROKEN since {fault['since']}: {fault['message']}")
    if report["not_running"]:
        since = report["heartbeat"] or "never"
        lines.append(f"BROKEN: the worker has not run recently (last heartbeat: {since})")
    if report["state"] == "none":
        lines.append(NO_STATE)
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
    return "\n".join(lines + _alert_lines(report))


def _alert_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        f"ALERT NOT DELIVERED ({a['kind'].removeprefix('alert_')}, account {a['account']}): "
        f"{a['why']}"
        for a in report["undelivered_alerts"]
    ]
    if "alerts" in report:
        lines.append(report["alerts"]["route"])
        if report["alerts"]["warning"]:
            lines.append(f"warning: {report['alerts']['warning']}")
    return lines


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


def cycle_attention(reports: Iterable[AccountReport], mode: str) -> list[str]:
    """What one cycle left for the practitioner, one line each: why `run --once` exits 1."""
    found = []
    for report in reports:
        name = report.account
        if report.error:
            found.append(f"account {name}: {report.error}")
        sync = report.sync
        for problem in sync.problems if sync else ():
            found.append(f"account {name}: calendar file skipped: {problem}")
        for decision in sync.decisions if sync else ():
            who = decision.client.email if decision.client else "a session with no client"
            if decision.verdict is Verdict.REVIEW:
                found.append(f"a case for {who} waits for your review (`fairwarning review`)")
            elif decision.verdict.sends_notice and mode == "review":
                found.append(f"the {decision.verdict} to {who} waits for your approval")
        for ref in report.interrupted:
            found.append(f"notice {ref} is unknown: the worker stopped while sending it")
        for sent in report.sent:
            if sent.outcome in ("unknown", "rejected"):
                why = f": {sent.detail}" if sent.detail else ""
                found.append(f"notice {sent.ref} to {sent.client_email} {sent.outcome}{why}")
    return found


def state_attention(db: sqlite3.Connection, configured: list[str], now: datetime) -> list[str]:
    """What waits in the state beyond one cycle: sending paused, notices held by a template."""
    found = []
    for row in views.accounts(db):
        sending = _time(row.get("sending_paused_until"))
        if row["name"] in configured and sending and sending > now:
            reason = row.get("sending_pause_reason") or ""
            found.append(
                f"account {row['name']}: sending paused until {utc_text(sending)}: {reason}"
            )
    for notice in views.stuck_notices(db):
        found.append(f"notice {notice['ref']} waits for a template fix: {notice['detail']}")
    return found
