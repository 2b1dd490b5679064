"""Realistic variables for every alert template, for `fairwarning check` to render them with."""

from __future__ import annotations

from typing import Any

from worker.config import Config
from worker.pipeline.alerts import console_link


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
        "alert_rejected": {
            "ref": "FW-3F2A9C1B7D10",
            "case_id": 12,
            "client_email": "sam@example.org",
            "session_title": "Coaching session",
            "notice_kind": "reminder",
            "detail": "550 5.1.1 the email account that you tried to reach does not exist",
        },
        "alert_database": {
            "detail": "the state database /var/lib/fairwarning/fairwarning.sqlite3 is read-only "
            "for user fairwarning; fix: chown/chmod the database and its -wal and -shm files"
        },
        "alert_paused": {"until": "2026-11-24 09:00", "reason": "daily sending limit reached"},
        "alert_digest": {
            "cases": [
                {
                    "id": 7,
                    "client": "priya@example.org",
                    "session": "Coaching session",
                    "reasons": ["their note mentions 'hospital', which may be an emergency"],
                    "link": console_link(config, "/review/7"),
                }
            ],
            "suggestions": [
                {
                    "client": "sam@example.org",
                    "reasons": [
                        "consider ending the working relationship: 3 forfeits in the last 365 days",
                        "forfeit: 'Coaching session' on 2026-10-06 09:00 UTC, cancelled "
                        "2026-10-06 07:10 UTC (case 4)",
                    ],
                }
            ],
        },
    }
    return {**base, **samples[kind]}
