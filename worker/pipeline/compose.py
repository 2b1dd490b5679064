"""A queued notice made into the exact email it will be: the one step delivery and the
console's preview share, so what the practitioner approves is what the client receives."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage

from worker.config import Policy, Practitioner
from worker.model import Money
from worker.notices.courtesy import (
    COURTESY_KINDS,
    CourtesyFacts,
    courtesy_variables,
    notice_attachments,
)
from worker.notices.message import build_message
from worker.notices.templates import TemplateLibrary
from worker.notices.wording import NoticeFacts, OtherSession, notice_variables
from worker.pipeline.free_times import with_free_times
from worker.store.connection import Connection
from worker.store.outbox import NoticeRow


def compose(
    db: Connection,
    row: NoticeRow,
    templates: TemplateLibrary,
    practitioner: Practitioner,
    policy: Policy,
    now: datetime,
) -> EmailMessage:
    """The message for `row` as it would leave at `now`.

    Raises TemplateError when a template does not render, ValueError when the client's
    address cannot be mailed.
    """
    facts = stored_facts(row)
    language = templates.choose_language(facts.language, practitioner.language)
    # Dates follow the template's language: French dates in an English text read oddly.
    facts = replace(facts, language=language)
    if isinstance(facts, NoticeFacts):  # free times are found now, so they are fresh
        facts = with_free_times(db, facts, practitioner, policy, now)
    variables = (
        notice_variables(facts, practitioner, policy)
        if isinstance(facts, NoticeFacts)
        else courtesy_variables(facts, practitioner, policy)
    )
    rendered = templates.render(row.kind, language, variables)
    return build_message(
        rendered,
        to_name=facts.client_name,
        to_email=row.client_email,
        practitioner=practitioner,
        ref=row.ref,
        now=now,
        attachments=notice_attachments(row.kind, practitioner),
    )


def stored_facts(row: NoticeRow) -> NoticeFacts | CourtesyFacts:
    """The notice facts frozen in the outbox row when the decision (or courtesy notice) was
    made."""
    if row.kind in COURTESY_KINDS:
        return CourtesyFacts.from_json(row.facts)
    body = row.facts
    return NoticeFacts(
        kind=body["kind"],
        client_name=body["client_name"],
        client_email=body["client_email"],
        language=body["language"],
        time_zone=body["time_zone"],
        session_title=body["session_title"],
        start=datetime.fromisoformat(body["start"]),
        end=datetime.fromisoformat(body["end"]),
        all_day=body["all_day"],
        cancelled_at=datetime.fromisoformat(body["cancelled_at"]),
        notice=timedelta(seconds=body["notice_seconds"]),
        offence=body["offence"],
        next_step=body["next_step"],
        prepaid_balance=body["prepaid_balance"],
        warned_at=datetime.fromisoformat(body["warned_at"]) if body.get("warned_at") else None,
        policy_sent_at=datetime.fromisoformat(body["policy_sent_at"])
        if body.get("policy_sent_at")
        else None,
        fee=Money(Decimal(body["fee"]["amount"]), body["fee"]["currency"])
        if body.get("fee")
        else None,
        other_sessions=tuple(
            OtherSession(
                datetime.fromisoformat(o["start"]), datetime.fromisoformat(o["end"]), o["all_day"]
            )
            for o in body.get("other_sessions", ())
        ),
    )
