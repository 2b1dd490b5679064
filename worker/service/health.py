"""`fairwarning status`, and what a cycle left for the practitioner (`run --once`'s exit code).

Three answers, also the exit code: 0 healthy; 1 something needs the practitioner (a case in
review, an unknown or rejected send, a paused or stale account, a notice held by a broken
template); 2 broken (the last cycle is older than a few poll intervals, or there was none; or
the worker recorded a state database fault; or there is no state yet). A recent `run --once`
with no service running is not broken: status says so, and when the last cycle ran.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from worker.model import Verdict
from worker.pipeline.cycle import AccountReport
from worker.store import courtesy, views
from worker.store.connection import Connection
from worker.store.db import from_utc_text, utc_text

HEALTHY, NEEDS_YOU, BROKEN = 0, 1, 2
NO_STATE = "no state yet: run `fairwarning run --once` or start the service"
START_SERVICE = (
    "`systemctl --user start fairwarning` (a system unit: `sudo systemctl start fairwarning`)"
)
LOCK = "worker.lock"  # held by `store.lock.only_worker` for as long as a worker runs


def _time(text: str | None) -> datetime | None:
    return None if text is None else from_utc_text(text)


def _account(
    row: dict[str, Any], now: datetime, interval: timedelta, seen: datetime
) -> dict[str, Any]:
    """One account's sync; stale means not synced within a few intervals before `seen`."""
    last = _time(row.get("last_success_at"))
    stale = last is None or seen - last > 3 * interval + timedelta(minutes=1)
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
    db: Connection | None,
    configured: list[str],
    now: datetime,
    interval: timedelta,
    heartbeat: Path | None = None,
    fault: dict[str, str] | None = None,
    *,
    running: bool | None = None,
) -> dict[str, Any]:
    """Every configured account (one that never synced is stale), notices and the verdict.

    `db` is None when there is no state yet; `fault` is the state database fault the worker
    recorded (see `read_fault`), reported at once rather than when the accounts go stale.
    `running` says whether a worker holds the state (see `worker_running`; None: unknown).
    With none running, accounts are judged at the last cycle: after a `run --once` only the
    cycle's own age says whether the worker is stale.
    """
    beat = _heartbeat(heartbeat)
    seen = beat if running is False and beat is not None and beat < now else now
    known = {row["name"]: row for row in views.accounts(db)} if db else {}
    accounts = [
        _account(known.get(name) or {"name": name}, now, interval, seen) for name in configured
    ]
    for account in accounts:
        account["notices"] = views.notice_counts(db, account["name"]) if db else {}
    waiting = views.needing_practitioner(db) if db else []
    stuck = views.stuck_notices(db) if db else []
    notes = courtesy.waiting(db) if db else []  # welcomes, session notes, closures
    unsent_alerts = views.undelivered_alerts(db) if db else []
    needs_you = bool(waiting or notes or stuck or unsent_alerts) or any(
        a["stale"] or a["paused_until"] or a["sending_paused_until"] for a in accounts
    )
    not_running = heartbeat is not None and (beat is None or now - beat > stale_after(interval))
    broken = not_running or fault is not None or db is None
    return {
        "health": "broken" if broken else "needs_you" if needs_you else "ok",
        "heartbeat": utc_text(beat) if beat else None,
        "not_running": not_running,
        "service_running": running,
        "state": "none" if db is None else "faulty" if fault else "ok",
        "fault": fault,
        "accounts": accounts,
        "notices": views.notice_counts(db, None) if db else {},
        "waiting_for_you": [c["id"] for c in waiting],
        "notices_waiting_for_you": [f"{n['kind']} {n['ref']} ({n['state']})" for n in notes],
        "problems": [p["text"] for p in views.problems(db)] if db else [],
        "stuck": [f"{n['ref']} to {n['client_email']}: {n['detail']}" for n in stuck],
        "warnings": [
            f"notice {n['ref']} to {n['client_email']}: {n['warning']}"
            for n in (views.notice_warnings(db) if db else [])
        ],
        "undelivered_alerts": [
            {"account": a["account"], "kind": a["kind"], "why": a["detail"]} for a in unsent_alerts
        ],
        "needs_you": needs_you,
    }


def stale_after(interval: timedelta) -> timedelta:
    """How old the last cycle may be before the worker counts as not running (exit 2)."""
    return max(5 * interval, timedelta(minutes=5))


def worker_running(state_dir: Path) -> bool | None:
    """Whether a worker (the service, or a `run --once` under way) holds the state's lock.

    The lock is tried exclusively (workers sharing a PostgreSQL database hold it shared) and
    let go at once (a worker starting in that very instant tries again a moment later); a
    missing lock file means no worker ever ran.
    None when the lock cannot be looked at (another user's state).
    """
    try:
        handle = os.open(state_dir / LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(handle)  # closing lets go of the lock too
    return False


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


Words = Callable[[datetime], str]


def describe(
    report: dict[str, Any],
    *,
    when: Words = utc_text,
    now: datetime | None = None,
    to_files: Collection[str] = (),
) -> str:
    """The report in sentences, one line each.

    `when` writes a moment for the reader (the CLI: in the practitioner's zone); with `now`
    the last cycle also says how long ago it was. The `sent` notices of the accounts named in
    `to_files` (a file sender, or dry-run) are counted as written to files: none was mailed.
    """
    lines = []
    if report["fault"]:
        fault = report["fault"]
        lines.append(f"BROKEN since {_at(fault['since'], when)}: {fault['message']}")
    worker = _worker_line(report, when, now)
    if worker:
        lines.append(worker)
    if report["state"] == "none":
        lines.append(NO_STATE)
    polls = report.get("service_running") is not False  # no service, no next poll
    for account in report["accounts"]:
        lines.append(_account_line(account, when, show_next=polls))
    lines.append(f"notices: {_counts(report, to_files) or 'none yet'}")
    drafts = report["notices"].get("drafted", 0)
    if drafts:
        many = "draft" if drafts == 1 else "drafts"
        lines.append(f"{drafts} {many} waiting in your mailbox: send them from your Drafts folder")
    if report["waiting_for_you"]:
        ids = ", ".join(str(i) for i in report["waiting_for_you"])
        lines.append(f"waiting for you: cases {ids} (see `fairwarning review`)")
    if report.get("notices_waiting_for_you"):
        notes = ", ".join(report["notices_waiting_for_you"])
        lines.append(f"waiting for you: notices {notes} (see `fairwarning review`)")
    for notice in report["stuck"]:
        lines.append(f"waiting for a template fix: {notice}")
    for problem in report["problems"]:
        lines.append(f"problem: {problem}")
    lines += [f"warning: {w}" for w in report.get("warnings", ())]
    return "\n".join(lines + _alert_lines(report))


def _counts(report: dict[str, Any], to_files: Collection[str]) -> str:
    counts = dict(report["notices"])
    written = sum(a["notices"].get("sent", 0) for a in report["accounts"] if a["name"] in to_files)
    if written:
        counts["sent"] -= written
        counts["written to files"] = written
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()) if n)


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


def _worker_line(report: dict[str, Any], when: Words, now: datetime | None) -> str:
    """When the last cycle ran, and whether a service keeps running them."""
    running, stale = report.get("service_running"), report["not_running"]
    if report["heartbeat"] is None:
        return "BROKEN: the worker has not run recently (last heartbeat: never)" if stale else ""
    last = f"last cycle {_at(report['heartbeat'], when, now)}"
    if running is None:
        return f"BROKEN: the worker has not run recently: {last}" if stale else last
    if running and stale:
        return f"BROKEN: a worker is running but its {last}: it may be stuck; restart it"
    if running:
        return f"service running: {last}"
    if stale:
        return (
            f"NOT RUNNING: {last}, and no service is running: start it with {START_SERVICE}, "
            "or run `fairwarning run --once`"
        )
    return (
        f"{last}; no service is running: start it with {START_SERVICE} "
        "or keep using `fairwarning run --once`"
    )


def _at(text: str, when: Words, now: datetime | None = None) -> str:
    """A stored moment for the reader, with how long ago it was when `now` is given."""
    moment = from_utc_text(text)
    if now is None:
        return when(moment)
    return f"{_ago(now - moment)} ({when(moment)})"


def _ago(elapsed: timedelta) -> str:
    seconds = max(0, int(elapsed.total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def _account_line(account: dict[str, Any], when: Words, *, show_next: bool) -> str:
    if account["last_sync"] is None:
        return f"account {account['name']}: never synced"
    state = "STALE: not synced recently" if account["stale"] else "ok"
    line = f"account {account['name']}: {state}, last sync {_at(account['last_sync'], when)}"
    if account["next_poll"] and show_next:
        line += f", next poll {_at(account['next_poll'], when)}"
    if account["paused_until"]:
        line += f"\n  PAUSED until {_at(account['paused_until'], when)}: {account['pause_reason']}"
    if account["sending_paused_until"]:
        line += (
            f"\n  SENDING PAUSED until {_at(account['sending_paused_until'], when)}: "
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
            doing = "putting it in your Drafts folder" if mode == "drafts" else "sending it"
            found.append(f"notice {ref} is unknown: the worker stopped while {doing}")
        found += _delivery_attention(report)
    return found


def _delivery_attention(report: AccountReport) -> list[str]:
    """Notices of one cycle the practitioner must look at: unknown, rejected, or a warning."""
    found = []
    for sent in report.sent:
        if sent.warning:
            found.append(f"notice {sent.ref} to {sent.client_email}: {sent.warning}")
        if sent.outcome in ("unknown", "rejected"):
            why = f": {sent.detail}" if sent.detail else ""
            found.append(f"notice {sent.ref} to {sent.client_email} {sent.outcome}{why}")
    return found


def state_attention(db: Connection, configured: list[str], now: datetime) -> list[str]:
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
    for note in courtesy.waiting(db):
        found.append(
            f"the {note['kind']} {note['ref']} to {note['client_email']} is {note['state']}: "
            f"`fairwarning approve {note['ref']}` or `fairwarning waive {note['ref']}`"
        )
    return found
