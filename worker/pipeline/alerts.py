"""Alerts to the practitioner, once per condition, through a route that does not depend on
the account that failed.

Conditions: an account needs re-authorising; a notice's send ended `unknown` or `rejected`;
the provider paused sending; cases wait for review (a daily digest at `alerts.digest_at`).
Each condition has a key, and an alert row is claimed (`sending`) before the send, so a
condition is alerted once, not once per cycle. The routes are tried in order (the cycle
chooses them: `alerts.via`, then other working accounts, then the account's own mailbox
unless it is paused); the first that takes the alert ends it. When none does, the row is
kept `undelivered` with every route's reason (shown by `status`) and tried again later.
A re-authorisation key is forgotten when the account works again, so a later revocation
alerts again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from worker.config import Config
from worker.errors import FairWarningError
from worker.notices.message import build_message
from worker.notices.templates import TemplateLibrary
from worker.pipeline.closure import closure_suggestions
from worker.pipeline.courtesy import as_case as courtesy_case
from worker.pipeline.sender import Delivery, Outcome, Sender
from worker.store import courtesy, sync_state, views
from worker.store.audit import audit
from worker.store.connection import Connection
from worker.store.db import transaction, utc_text

ALERT_KINDS = (
    "alert_reauth",
    "alert_unknown",
    "alert_rejected",
    "alert_paused",
    "alert_digest",
    "alert_database",
)

# An alert no route took is tried again this often, not on every cycle.
RETRY_UNDELIVERED = timedelta(minutes=10)
NO_ROUTE = "no route can carry it: every mailbox is paused and no [alerts.via] is set"


@dataclass(frozen=True, slots=True)
class AlertRoute:
    """One way an alert can reach the practitioner, named as `status` shows it."""

    name: str
    sender: Sender


@dataclass(frozen=True, slots=True)
class Alert:
    """One condition worth an email to the practitioner."""

    key: str
    kind: str
    variables: dict[str, Any]


def conditions(db: Connection, config: Config, account: str, now: datetime) -> list[Alert]:
    """Every alert-worthy condition of this account right now."""
    found = []
    state = sync_state.account_state(db, account)
    base = {"account": account, "practitioner_name": config.practitioner.name}
    if state.pause_reason:
        command = re.search(r"fairwarning auth \S+.*", state.pause_reason)
        found.append(
            Alert(
                f"reauth:{account}",
                "alert_reauth",
                {
                    **base,
                    "reason": state.pause_reason,
                    "command": command.group(0) if command else "fairwarning auth status",
                },
            )
        )
    if state.sending_paused_until is not None:
        until = _local(state.sending_paused_until, config)
        found.append(
            Alert(
                f"paused:{account}:{utc_text(state.sending_paused_until)}",
                "alert_paused",
                {**base, "until": until, "reason": state.sending_pause_reason},
            )
        )
    for case in views.cases(db, account=account, notice_state="unknown"):
        found.append(Alert(f"unknown:{case['ref']}", "alert_unknown", _unknown(base, case)))
    for case in views.cases(db, account=account, notice_state="rejected"):
        if case["status"] != "waived":
            found.append(Alert(f"rejected:{case['ref']}", "alert_rejected", _unknown(base, case)))
    for note in courtesy.waiting(db, account):  # a welcome, session note or closure
        state = note["state"]
        if state in ("unknown", "rejected"):
            variables = _unknown(base, courtesy_case(note))
            found.append(Alert(f"{state}:{note['ref']}", f"alert_{state}", variables))
    found += _digest(db, config, account, now, base)
    return found


def _unknown(base: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    return {
        **base,
        "ref": case["ref"],
        "case_id": case["id"],
        "client_email": case["client_email"],
        "session_title": case["title"],
        "notice_kind": case["notice"],
        "detail": case["notice_detail"] or "no answer from the provider",
    }


def _digest(
    db: Connection, config: Config, account: str, now: datetime, base: dict[str, Any]
) -> list[Alert]:
    local = now.astimezone(ZoneInfo(config.practitioner.time_zone))
    key = f"digest:{account}:{local.date().isoformat()}"
    sent_today = db.execute("SELECT 1 FROM alerts WHERE key = ?", (key,)).fetchone()
    if local.time() < config.alerts.digest_at or sent_today:
        return []  # checked first: this runs every cycle, the case query once a day
    waiting = [
        {
            "id": c["id"],
            "client": c["client_email"] or "-",
            "session": c["title"],
            "reasons": c["reasons"],
            "link": console_link(config, f"/review/{c['id']}"),
        }
        for c in views.cases(db, account=account, status="open")
    ]
    waiting += [
        {**courtesy_case(n), "link": console_link(config, f"/review/notice/{n['ref']}")}
        for n in courtesy.waiting(db, account)
        if n["state"] == "review"
    ]
    suggestions = [
        {"client": s.client_email, "reasons": s.reasons(config.policy)}
        for s in closure_suggestions(db, config.policy, now)
        if s.account == account and now - s.latest_decided < timedelta(days=1)
    ]
    if not waiting and not suggestions:
        return []
    return [Alert(key, "alert_digest", {**base, "cases": waiting, "suggestions": suggestions})]


def console_link(config: Config, path: str) -> str:
    """The page in the practitioner's console, when they said where it is (`web.public_url`).

    The link carries no power of its own: opening it still asks for the console's password.
    """
    return f"{config.web.public_url}{path}" if config.web.public_url else ""


def _local(moment: datetime, config: Config) -> str:
    return f"{moment.astimezone(ZoneInfo(config.practitioner.time_zone)):%Y-%m-%d %H:%M}"


def raise_alerts(
    db: Connection,
    config: Config,
    account: str,
    routes: Callable[[], list[AlertRoute]],
    templates: TemplateLibrary,
    now: datetime,
) -> list[str]:
    """Send the alerts not sent before; returns the keys sent. Never raises for one alert.

    `routes` is asked only when an alert is due: choosing them reads every account's state,
    which on every account's every cycle would grow with the square of the accounts.
    """
    if not config.alerts.enabled:
        return []
    with transaction(db):
        current = conditions(db, config, account, now)
        _forget_cleared(db, account, current)
        due = [alert for alert in current if _due(db, alert, now)]
    if not due:
        return []
    chosen = routes()
    return [
        alert.key
        for alert in due
        if _deliver_once(db, config, account, chosen, templates, alert, now)
    ]


def _forget_cleared(db: Connection, account: str, current: list[Alert]) -> None:
    keys = {a.key for a in current}
    if f"reauth:{account}" not in keys:
        db.execute("DELETE FROM alerts WHERE key = ?", (f"reauth:{account}",))
    for row in db.execute(
        "SELECT key FROM alerts WHERE account = ? AND state = 'undelivered'", (account,)
    ).fetchall():
        if row["key"] not in keys:
            db.execute("DELETE FROM alerts WHERE key = ?", (row["key"],))


def _due(db: Connection, alert: Alert, now: datetime) -> bool:
    """Whether the alert was never tried, or is undelivered and due a retry (as `_claim`)."""
    row = db.execute("SELECT state, at FROM alerts WHERE key = ?", (alert.key,)).fetchone()
    return row is None or (
        row["state"] == "undelivered"
        and datetime.fromisoformat(row["at"]) + RETRY_UNDELIVERED <= now
    )


def _claim(db: Connection, account: str, alert: Alert, now: datetime) -> str | None:
    """Claim the alert for sending; None when it was sent before or is not due a retry.

    Returns what an earlier undelivered attempt said ("" for a new alert).
    """
    with transaction(db):
        before = db.execute("SELECT state, at, detail FROM alerts WHERE key = ?", (alert.key,))
        row = before.fetchone()
        if row is None:
            db.execute(
                "INSERT INTO alerts (key, account, kind, state, at) VALUES (?, ?, ?, ?, ?)",
                (alert.key, account, alert.kind, "sending", utc_text(now)),
            )
            return ""
        retry_at = datetime.fromisoformat(row["at"]) + RETRY_UNDELIVERED
        if row["state"] != "undelivered" or retry_at > now:
            return None
        db.execute(
            "UPDATE alerts SET state = 'sending', at = ? WHERE key = ?", (utc_text(now), alert.key)
        )
        return str(row["detail"])


def _deliver_once(
    db: Connection,
    config: Config,
    account: str,
    routes: list[AlertRoute],
    templates: TemplateLibrary,
    alert: Alert,
    now: datetime,
) -> bool:
    if not routes:
        # Nothing to try (every mailbox paused): keep what the last attempt said.
        with transaction(db):
            db.execute(
                "INSERT INTO alerts (key, account, kind, state, at, detail)"
                " VALUES (?, ?, ?, 'undelivered', ?, ?) ON CONFLICT DO NOTHING",
                (alert.key, account, alert.kind, utc_text(now), NO_ROUTE),
            )
        return False
    said_before = _claim(db, account, alert, now)
    if said_before is None:
        return False
    failures = []
    try:
        message = _message(config, templates, alert, now)
    except (FairWarningError, ValueError) as exc:
        routes, failures = [], [f"the alert could not be written: {exc}"]
    for route in routes:
        try:
            delivery = route.sender.send(message)
        except FairWarningError as exc:
            failures.append(f"{route.name}: {exc.message}")
            continue
        except Exception as exc:  # the request may have gone out: never resend blindly
            delivery = Delivery(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}")
        if delivery.outcome in (Outcome.SENT, Outcome.UNKNOWN):
            with transaction(db):
                db.execute(
                    "UPDATE alerts SET state = ?, detail = ? WHERE key = ?",
                    (str(delivery.outcome), f"via {route.name}", alert.key),
                )
            return delivery.outcome is Outcome.SENT
        failures.append(f"{route.name}: {delivery.detail or delivery.outcome}")
    detail = "; ".join(failures)
    with transaction(db):
        db.execute(
            "UPDATE alerts SET state = 'undelivered', at = ?, detail = ? WHERE key = ?",
            (utc_text(now), detail, alert.key),
        )
        if detail != said_before:  # the audit log says it once, not once per retry
            audit(db, now, account, "alert not sent", f"{alert.key}: {detail}")
    return False


def _message(
    config: Config, templates: TemplateLibrary, alert: Alert, now: datetime
) -> EmailMessage:
    practitioner = config.practitioner
    language = templates.choose_language(practitioner.language, "en")
    rendered = templates.render(alert.kind, language, alert.variables)
    return build_message(
        rendered,
        to_name=practitioner.name,
        to_email=config.alerts.to or practitioner.email,
        practitioner=practitioner,
        ref="ALERT-" + hashlib.sha256(alert.key.encode()).hexdigest()[:12].upper(),
        now=now,
    )


def alert_without_state(
    config: Config,
    routes: list[AlertRoute],
    templates: TemplateLibrary,
    detail: str,
    now: datetime,
) -> str:
    """Tell the practitioner their state database is unusable; returns the route that took it.

    Nothing can be recorded (the database is what failed), so the caller says it once per
    fault condition; each route is tried once, and "" means none took it.
    """
    if not config.alerts.enabled:
        return ""
    variables = {"account": "", "practitioner_name": config.practitioner.name, "detail": detail}
    alert = Alert("database", "alert_database", variables)
    try:
        message = _message(config, templates, alert, now)
    except (FairWarningError, ValueError):
        return ""
    for route in routes:
        try:
            if route.sender.send(message).outcome in (Outcome.SENT, Outcome.UNKNOWN):
                return route.name
        except Exception:  # noqa: S112 - any route that fails leaves the next one to try
            continue
    return ""


def describe_routes(config: Config) -> tuple[str, str]:
    """How alerts will travel, and a warning when the only way is the account that may fail."""
    if not config.alerts.enabled:
        return "alerts are off", "alerts are off: nothing tells you when an account needs you"
    to = config.alerts.to or config.practitioner.email
    steps = []
    via = config.alerts.via
    if via is not None:
        where = getattr(via, "host", "") or getattr(via, "url", "") or getattr(via, "path", "")
        steps.append(f"{via.provider} ({where})")
    if len(config.accounts) > 1:
        steps.append("another account's mailbox")
    steps.append("the account's own mailbox")
    route = f"alerts go to {to} through " + ", else ".join(steps)
    if via is None and len(config.accounts) == 1:
        name = config.accounts[0].name
        return route, (
            f"alerts can only travel through account {name}'s own mailbox: if its "
            "authorisation is revoked, the alert saying so cannot be sent; add an "
            "[alerts.via] route (an SMTP relay, a webhook or sendmail; see the README)"
        )
    return route, ""
