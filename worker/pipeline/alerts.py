"""Alerts to the practitioner, by email through their own sender, once per condition.

Conditions: an account needs re-authorising; a notice's send ended `unknown`; the provider
paused sending (said once sending works again: an alert could not get through before);
cases wait for review (a daily digest at `alerts.digest_at`). Each condition
has a key; an alert row is written (`sending`) before the send, so a condition is alerted
once, not once per cycle. A re-authorisation key is forgotten when the account works again,
so a later revocation alerts again.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from worker.config import Config
from worker.errors import FairWarningError
from worker.notices.message import build_message
from worker.notices.templates import TemplateLibrary
from worker.pipeline.sender import Outcome, Sender
from worker.store import sync_state, views
from worker.store.audit import audit
from worker.store.db import transaction, utc_text

ALERT_KINDS = ("alert_reauth", "alert_unknown", "alert_paused", "alert_digest")


@dataclass(frozen=True, slots=True)
class Alert:
    """One condition worth an email to the practitioner."""

    key: str
    kind: str
    variables: dict[str, Any]


def conditions(db: sqlite3.Connection, config: Config, account: str, now: datetime) -> list[Alert]:
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
    db: sqlite3.Connection, config: Config, account: str, now: datetime, base: dict[str, Any]
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
        }
        for c in views.cases(db, account=account, status="open")
    ]
    if not waiting:
        return []
    return [Alert(key, "alert_digest", {**base, "cases": waiting})]


def _local(moment: datetime, config: Config) -> str:
    return f"{moment.astimezone(ZoneInfo(config.practitioner.time_zone)):%Y-%m-%d %H:%M}"


def raise_alerts(
    db: sqlite3.Connection,
    config: Config,
    account: str,
    sender: Sender,
    templates: TemplateLibrary,
    now: datetime,
) -> list[str]:
    """Send the alerts not sent before; returns the keys sent. Never raises for one alert."""
    if not config.alerts.enabled:
        return []
    with transaction(db):
        if sync_state.account_state(db, account).sending_paused(now):
            return []  # it would fail too; `status` shows everything meanwhile
        current = conditions(db, config, account, now)
        _forget_cleared(db, account, current)
    sent = []
    for alert in current:
        if _send_once(db, config, account, sender, templates, alert, now):
            sent.append(alert.key)
    return sent


def _forget_cleared(db: sqlite3.Connection, account: str, current: list[Alert]) -> None:
    keys = {a.key for a in current}
    if f"reauth:{account}" not in keys:
        db.execute("DELETE FROM alerts WHERE key = ?", (f"reauth:{account}",))


def _send_once(
    db: sqlite3.Connection,
    config: Config,
    account: str,
    sender: Sender,
    templates: TemplateLibrary,
    alert: Alert,
    now: datetime,
) -> bool:
    with transaction(db):
        claimed = db.execute(
            "INSERT OR IGNORE INTO alerts (key, account, kind, state, at) VALUES (?, ?, ?, ?, ?)",
            (alert.key, account, alert.kind, "sending", utc_text(now)),
        ).rowcount
    if not claimed:
        return False
    practitioner = config.practitioner
    try:
        language = templates.choose_language(practitioner.language, "en")
        rendered = templates.render(alert.kind, language, alert.variables)
        message = build_message(
            rendered,
            to_name=practitioner.name,
            to_email=config.alerts.to or practitioner.email,
            practitioner=practitioner,
            ref="ALERT-" + hashlib.sha256(alert.key.encode()).hexdigest()[:12].upper(),
            now=now,
        )
        outcome = sender.send(message).outcome
    except (FairWarningError, ValueError) as exc:
        outcome, detail = Outcome.REJECTED, str(exc)
    except Exception as exc:  # the request may have gone out: never resend blindly
        outcome, detail = Outcome.UNKNOWN, f"{type(exc).__name__}: {exc}"
    else:
        detail = ""
    with transaction(db):
        if outcome in (Outcome.SENT, Outcome.UNKNOWN):
            db.execute("UPDATE alerts SET state = ? WHERE key = ?", (str(outcome), alert.key))
        else:
            # Not delivered: forget the claim so the alert is tried again next cycle.
            db.execute("DELETE FROM alerts WHERE key = ?", (alert.key,))
            audit(db, now, account, "alert not sent", f"{alert.key}: {detail or outcome}")
    return outcome is Outcome.SENT


def sample_alert(kind: str, config: Config) -> dict[str, Any]:
    """Realistic variables for `fairwarning check` to render every alert template with."""
    base = {"account": "main", "practitioner_name": config.practitioner.name}
    samples: dict[str, dict[str, Any]] = {
        "alert_reauth": {
            "reason": "Google refused the stored token (invalid_grant)",
            "command": "fairwarning auth google --account main --client-secrets secret.json",
        },
        "alert_unknown": {
            "ref": "FW-3F2A9C1B7D10",
            "case_id": 12,
            "client_email": "sam@example.org",
            "session_title": "Coaching session",
            "notice_kind": "reminder",
            "detail": "the connection dropped after the message was handed over",
        },
        "alert_paused": {"until": "2026-11-24 09:00", "reason": "daily sending limit reached"},
        "alert_digest": {
            "cases": [
                {
                    "id": 7,
                    "client": "priya@example.org",
                    "session": "Coaching session",
                    "reasons": ["their note mentions 'hospital', which may be an emergency"],
                }
            ]
        },
    }
    return {**base, **samples[kind]}
