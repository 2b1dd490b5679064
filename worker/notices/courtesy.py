"""Courtesy notices: the ones that are not about a cancellation.

- `welcome`: the rules up front, once per client: the policy in full (`policy.full_text`),
  with the practitioner's policy document attached when one is configured.
- `session_reminder`: a short note before a session: when it is, in the client's zone, and
  until when it can be moved or cancelled free of charge (its start less the late window).
- `closure`: the formal end of the working relationship: the reason, the effective date,
  what is still outstanding, and how to reach the practitioner.

Their facts are frozen in the outbox row when the notice is queued, like a decision's, and
become template variables here when it is sent. Every kind gets every variable (empty when it
does not apply), so any template may use any of them; docs/template-variables.md lists them.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from worker.config import Policy, Practitioner
from worker.config.practice import base_language
from worker.errors import TemplateError
from worker.notices.dates import (
    at_time,
    clock,
    day_text,
    duration_text,
    full_date,
    notice_locale,
    shows_year,
    with_zone,
)
from worker.notices.message import Attachment
from worker.notices.wording import NoticeFacts, person_name, session_times

COURTESY_KINDS = ("welcome", "session_reminder", "closure")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_KEY = "practitioner.policy_document"


@dataclass(frozen=True)
class CourtesyFacts:
    """What one courtesy notice is about, as plain values; datetimes aware, in UTC.

    `start`, `end`, `all_day` and `session_title` describe a session: the one a note is about,
    or the first session a welcome was prompted by (None when there is none). `effective`,
    `reason` and `outstanding` are a closure's. `written_at` is when the notice was queued:
    dates close to it leave out the year.
    """

    kind: str
    client_name: str
    client_email: str
    language: str
    time_zone: str
    written_at: datetime
    session_title: str = ""
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    effective: date | None = None
    reason: str = ""
    outstanding: str = ""

    def to_json(self) -> dict[str, Any]:
        """The form kept in the outbox row."""
        return {
            "kind": self.kind,
            "client_name": self.client_name,
            "client_email": self.client_email,
            "language": self.language,
            "time_zone": self.time_zone,
            "written_at": self.written_at.isoformat(),
            "session_title": self.session_title,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "all_day": self.all_day,
            "effective": self.effective.isoformat() if self.effective else None,
            "reason": self.reason,
            "outstanding": self.outstanding,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> CourtesyFacts:
        def moment(name: str) -> datetime | None:
            return datetime.fromisoformat(body[name]) if body.get(name) else None

        return cls(
            kind=body["kind"],
            client_name=body["client_name"],
            client_email=body["client_email"],
            language=body["language"],
            time_zone=body["time_zone"],
            written_at=datetime.fromisoformat(body["written_at"]),
            session_title=body.get("session_title", ""),
            start=moment("start"),
            end=moment("end"),
            all_day=bool(body.get("all_day")),
            effective=date.fromisoformat(body["effective"]) if body.get("effective") else None,
            reason=body.get("reason", ""),
            outstanding=body.get("outstanding", ""),
        )


def courtesy_variables(
    facts: CourtesyFacts, practitioner: Practitioner, policy: Policy
) -> dict[str, object]:
    """Every variable a courtesy template may use (see the module docstring)."""
    locale = notice_locale(facts.language, practitioner, facts.time_zone)
    name = person_name(facts.client_name)
    document = practitioner.policy_document
    return {
        "kind": facts.kind,
        "client_name": name,
        "client_first_name": name.split()[0] if name else "",
        "client_email": facts.client_email,
        "time_zone": facts.time_zone,
        **_session(facts, practitioner, policy),
        "late_window": duration_text(policy.late_window, locale),
        "policy_excerpt": policy.excerpt_for(facts.language).strip(),
        "policy_full_text": policy.full_text_for(facts.language).strip(),
        "policy_document": document.name if document is not None else "",
        "effective_date": full_date(facts.effective, locale) if facts.effective else "",
        "reason": facts.reason.strip(),
        "outstanding": facts.outstanding.strip(),
        "booking_link": practitioner.booking_link.strip(),
        "practitioner_name": practitioner.name,
        "practitioner_email": practitioner.email,
        "contact_email": practitioner.reply_to.strip() or practitioner.email,
        "signature": practitioner.signature_for(facts.language).strip(),
    }


_NO_SESSION = dict.fromkeys(
    (
        "session_title",
        "session_when",
        "session_day",
        "session_date",
        "session_time",
        "session_start",
        "session_end",
        "free_until",
    ),
    "",
)


def _session(facts: CourtesyFacts, practitioner: Practitioner, policy: Policy) -> dict[str, object]:
    if facts.start is None:
        return {**_NO_SESSION, "has_session": False}
    as_notice = NoticeFacts(
        kind=facts.kind,
        client_name=facts.client_name,
        client_email=facts.client_email,
        language=facts.language,
        time_zone=facts.time_zone,
        session_title=facts.session_title,
        start=facts.start,
        end=facts.end or facts.start,
        all_day=facts.all_day,
        cancelled_at=facts.written_at,
        notice=timedelta(0),
        offence=0,
        next_step="",
        prepaid_balance=None,
    )
    return {
        **session_times(as_notice, practitioner),
        "session_title": facts.session_title,
        "free_until": _free_until(facts, facts.start, practitioner, policy),
        "has_session": True,
    }


def _free_until(
    facts: CourtesyFacts, start: datetime, practitioner: Practitioner, policy: Policy
) -> str:
    """Until when the session can be moved or cancelled free of charge, as in a sentence."""
    locale = notice_locale(facts.language, practitioner, facts.time_zone)
    zone = ZoneInfo(practitioner.time_zone if facts.all_day else facts.time_zone)
    moment = (start - policy.late_window).astimezone(zone)
    day = day_text(moment.date(), locale, year=shows_year(moment, facts.written_at))
    at = clock(moment, locale)
    if moment.utcoffset() != moment.astimezone(ZoneInfo(practitioner.time_zone)).utcoffset():
        at = with_zone(at, zone, facts.language, locale)
    return at_time(day, at, facts.language, locale)


def policy_document(practitioner: Practitioner) -> Attachment | None:
    """The practitioner's policy document, ready to attach; None when none is configured.

    Raises TemplateError naming the key, the file and the fix when it is missing, unreadable,
    empty or over 10 MB: a welcome then waits (and `status` says why) rather than going
    without it.
    """
    path = practitioner.policy_document
    if path is None:
        return None
    problem = document_problem(path)
    if problem:
        raise TemplateError(problem, source=str(path))
    return Attachment(path.name, path.read_bytes(), _mime_type(path))


def document_problem(path: Path) -> str:
    """What is wrong with the policy document at `path`, or "" when it can be attached."""
    fix = "correct the path (a relative one is relative to the config file) or remove the key"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"{DOCUMENT_KEY}: {path} does not exist; {fix}"
    except OSError as exc:
        return f"{DOCUMENT_KEY}: {path} cannot be read ({exc.strerror or exc}); {fix}"
    if not path.is_file():
        return f"{DOCUMENT_KEY}: {path} is not a file; name the document itself, e.g. policy.pdf"
    if size > MAX_DOCUMENT_BYTES:
        return (
            f"{DOCUMENT_KEY}: {path} is {size / 1024 / 1024:.1f} MB, more than the 10 MB a "
            "notice may carry; save a smaller version (a PDF with compressed images)"
        )
    if size == 0:
        return f"{DOCUMENT_KEY}: {path} is empty; point it at your policy document"
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        return (
            f"{DOCUMENT_KEY}: {path} cannot be read ({exc.strerror or exc}); let the user the "
            f"worker runs as read it (chmod 644 {path})"
        )
    return ""


def _mime_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None or guessed.split("/")[0] in ("multipart", "message"):
        return "application/octet-stream"
    return guessed


def sample_courtesy(kind: str, language: str, now: datetime) -> CourtesyFacts:
    """Realistic facts for previews and `fairwarning check`: a session in three days at 15:00;
    a closure effective a fortnight from now, with a reason and a balance outstanding."""
    spanish = base_language(language) == "es"
    zone_name = "Europe/Madrid" if spanish else "Europe/London"
    zone = ZoneInfo(zone_name)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    today = now.astimezone(zone).date()
    start = datetime.combine(today + timedelta(days=3), time(15, 0), zone).astimezone(UTC)
    closure = kind == "closure"
    return CourtesyFacts(
        kind=kind,
        client_name="Lucía Fernández" if spanish else "Sam Taylor",
        client_email="lucia@example.org" if spanish else "sam@example.org",
        language=language,
        time_zone=zone_name,
        written_at=now,
        session_title="" if closure else "Sesión de coaching" if spanish else "Coaching session",
        start=None if closure else start,
        end=None if closure else start + timedelta(minutes=50),
        effective=today + timedelta(days=14) if closure else None,
        reason=(
            "varias sesiones canceladas con poca antelación"
            if spanish
            else "several sessions cancelled at short notice"
        )
        if closure
        else "",
        outstanding=(
            "la factura de noviembre (120 €)" if spanish else "the November invoice (£120)"
        )
        if closure
        else "",
    )


def notice_attachments(kind: str, practitioner: Practitioner) -> list[Attachment]:
    """What goes with a notice of this kind: the policy document with a welcome, if set."""
    document = policy_document(practitioner) if kind == "welcome" else None
    return [document] if document is not None else []
