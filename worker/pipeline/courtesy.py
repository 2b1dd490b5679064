"""Courtesy notices in the outbox: who they go to, queueing them, and the practitioner's say.

A welcome, a note before a session and a closure are not decisions about a cancellation, but
they travel the same way as a reminder: one outbox row (with a unique key), the mode (in
`review` a notice the worker queued on its own waits for `fairwarning approve FW-…`; one the
practitioner asked for with a command's `--send` is approved by that), the hold, quiet hours,
the account's sender, and the audit log. They are approved or waived by their reference.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from worker.config import Policy, Practitioner
from worker.errors import FairWarningError
from worker.model import CancelTime, CancelTimeSource, Client, Fact, FactKind, Response, Session
from worker.notices.courtesy import CourtesyFacts, courtesy_variables, notice_attachments
from worker.notices.message import build_message
from worker.notices.templates import TemplateLibrary
from worker.pipeline.rules import Practice, clients_of
from worker.store import clients_seen, courtesy
from worker.store.audit import audit
from worker.store.db import utc_text
from worker.store.outbox import NoticeRow, set_state

if TYPE_CHECKING:  # casework imports this module: the desk is only a type here
    from worker.pipeline.casework import Desk


def clients_in(session: Session, practice: Practice) -> list[Client]:
    """The clients a session is with, as the rules see them, less those who declined it.

    Sessions the policy leaves out by title (`title_include`, `title_exclude`) have none, and
    with `judge = "directory"` only clients in the directory count (a prospect is not yet one).
    """
    policy = practice.policy
    title = session.title.lower()
    if policy.title_include and not any(w.lower() in title for w in policy.title_include):
        return []
    if any(w.lower() in title for w in policy.title_exclude):
        return []
    kind = (
        FactKind.DELETED
        if session.organizer_is_practitioner
        else FactKind.CANCELLED_BY_CLIENT_ORGANIZER
    )
    seen = Fact(kind, session, CancelTime(session.start, CancelTimeSource.FIRST_SEEN))
    found = []
    listed_only = policy.judge == "directory"
    for client in clients_of(seen, practice):
        invited = session.attendee(client.email)
        if invited is not None and invited.response is Response.DECLINED:
            continue
        if not listed_only or practice.directory.by_email(client.email) is not None:
            found.append(client)
    return found


def once_ref(client: str, kind: str, *, simulated: bool) -> str:
    """The reference of a client's welcome or closure: one per client, whatever the account."""
    key = "\x1f".join(("client", client, kind, "dry-run" if simulated else ""))
    return "FW-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def session_ref(desk: Desk, session: Session, client: str) -> str:
    key = "\x1f".join((desk.account, session.key, utc_text(session.start), client, "note"))
    return "FW-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def facts_for(
    desk: Desk,
    client: Client,
    kind: str,
    session: Session | None = None,
    *,
    effective: date | None = None,
    reason: str = "",
    outstanding: str = "",
) -> CourtesyFacts:
    """What a courtesy notice to `client` is about, in their language and zone."""
    return CourtesyFacts(
        kind=kind,
        client_name=client.name,
        client_email=client.email,
        language=client.language or desk.practitioner_language,
        time_zone=client.time_zone or desk.practitioner_zone,
        written_at=desk.now,
        session_title=session.title if session else "",
        start=session.start if session else None,
        end=session.end if session else None,
        all_day=session.all_day if session else False,
        effective=effective,
        reason=reason,
        outstanding=outstanding,
    )


def state_for(desk: Desk, *, by_hand: bool) -> str:
    """`review` waits for the practitioner; a notice they asked for by hand is approved."""
    return "review" if desk.mode == "review" and not by_hand else "queued"


def queue(
    desk: Desk,
    facts: CourtesyFacts,
    *,
    ref: str,
    state: str,
    not_before: datetime,
    session: Session | None = None,
) -> bool:
    """Put a courtesy notice in the outbox; False when one for the same thing exists."""
    added = courtesy.enqueue(
        desk.db,
        account=desk.account,
        ref=ref,
        kind=facts.kind,
        client=facts.client_email,
        session_key=session.key if session else "",
        occurrence=session.start if session else desk.now,
        state=state,
        not_before=not_before,
        facts=facts.to_json(),
        simulated=desk.simulated,
        now=desk.now,
    )
    if added:
        what = f"{ref} to {facts.client_email}" + (f" · {session.title!r}" if session else "")
        audit(desk.db, desk.now, desk.account, f"queued {facts.kind}", what)
    return added


def render(
    templates: TemplateLibrary,
    practitioner: Practitioner,
    policy: Policy,
    facts: CourtesyFacts,
    *,
    ref: str,
    now: datetime,
) -> EmailMessage:
    """The message exactly as it would be sent (for previews); TemplateError names a problem."""
    language = templates.choose_language(facts.language, practitioner.language)
    variables = courtesy_variables(facts, practitioner, policy)
    rendered = templates.render(facts.kind, language, variables)
    attachments = notice_attachments(facts.kind, practitioner)
    try:
        return build_message(
            rendered,
            to_name=facts.client_name,
            to_email=facts.client_email,
            practitioner=practitioner,
            ref=ref,
            now=now,
            attachments=attachments,
        )
    except ValueError as exc:
        raise FairWarningError(
            f"the {facts.kind} to {facts.client_email} cannot be sent: {exc}"
        ) from None


_APPROVABLE = ("review", "unknown", "rejected")


def approve(desk: Desk, row: NoticeRow) -> str:
    """The practitioner says: send this courtesy notice (at its time, if that is later)."""
    if row.state not in _APPROVABLE:
        raise FairWarningError(
            f"notice {row.ref} is {row.state}, not waiting for you; "
            "`fairwarning review` lists what is"
        )
    not_before = max(desk.now, row.not_before)
    set_state(desk.db, row.id, "queued", desk.now, not_before=utc_text(not_before))
    audit(desk.db, desk.now, desk.account, "approved", f"{row.ref} was {row.state}")
    when = "on the next cycle" if not_before <= desk.now else f"at {utc_text(not_before)}"
    return f"the {_name(row.kind)} to {row.client_email} ({row.ref}) will be sent {when}"


def waive(desk: Desk, row: NoticeRow, reason: str) -> str:
    """The practitioner lets it go: nothing is sent; a waived closure reopens the client."""
    if row.state in ("sent", "sending"):
        raise FairWarningError(f"notice {row.ref} was already sent; it cannot be taken back")
    if row.state in ("waived", "dropped"):
        raise FairWarningError(f"notice {row.ref} is already {row.state}: nothing will be sent")
    set_state(desk.db, row.id, "waived", desk.now, detail=reason or "waived by you")
    audit(desk.db, desk.now, desk.account, "waived", f"{row.ref}: {reason or 'waived by you'}")
    said = f"the {_name(row.kind)} to {row.client_email} ({row.ref}) will not be sent"
    if row.kind == "closure":
        note = clients_seen.note(desk.db, row.client_email)
        if note is not None and note.closure_ref == row.ref:
            clients_seen.clear_closure(desk.db, row.client_email)
            said += "; the working relationship goes on and their cancellations are judged again"
    return said


def _name(kind: str) -> str:
    return {"session_reminder": "note before the session"}.get(kind, kind)


def as_case(row: dict[str, Any]) -> dict[str, Any]:
    """A waiting courtesy notice (`store.courtesy.waiting`) in the shape alerts give a case:
    its reference stands in for the case number (`approve` and `waive` take either)."""
    facts = row["facts"]
    title = facts.get("session_title") or _name(row["kind"])
    state = {"review": "waits for your approval"}.get(row["state"], row["state"])
    return {
        "id": row["ref"],
        "ref": row["ref"],
        "client": row["client_email"],
        "client_email": row["client_email"],
        "session": title,
        "title": title,
        "notice": row["kind"],
        "notice_detail": row["detail"],
        "reasons": [f"the {_name(row['kind'])} to {row['client_email']} {state}"],
    }
