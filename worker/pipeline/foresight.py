"""What approving a case would send, found by approving it and taking every write back.

Approval climbs the ladder, joins a waiting reminder, states a fee or spends a prepaid
session; `foresee` runs that very `approve` and the very `compose` delivery uses, inside a
savepoint it rolls back, so what the practitioner sees is what the client would receive and
nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from worker.config import Policy, Practitioner
from worker.errors import FairWarningError, TemplateError
from worker.notices.templates import TemplateLibrary
from worker.pipeline import casework, courtesy
from worker.pipeline.casework import Desk
from worker.pipeline.compose import compose
from worker.store import outbox
from worker.store.db import undone
from worker.store.outbox import NoticeRow


@dataclass(frozen=True, slots=True)
class Foreseen:
    """The notice approval would send: its reference, kind and recipient, and the message.

    `message` is None when the notice cannot be made: `problem` then says why (a template
    error names its file and line, and `line` holds that line). `said` is what approval
    answers, in words.
    """

    ref: str
    kind: str
    client_email: str
    message: EmailMessage | None
    problem: str
    said: str
    line: int | None = None


def foresee(
    desk: Desk,
    decision_id: int,
    templates: TemplateLibrary,
    practitioner: Practitioner,
    policy: Policy,
) -> Foreseen:
    """What approving case `decision_id` would send; nothing is written.

    A notice whose send ended `unknown` or `rejected` is shown as it would be sent again.
    A case that cannot be approved (waived, already decided) raises FairWarningError.
    """
    with undone(desk.db):
        said = casework.approve(desk, decision_id)
        row = _notice_of(desk, decision_id)
        return _compose(desk, row, said, templates, practitioner, policy)


def foresee_notice(
    desk: Desk,
    ref: str,
    templates: TemplateLibrary,
    practitioner: Practitioner,
    policy: Policy,
) -> Foreseen:
    """What approving notice `ref` (FW-…) would send: a case's notice, or a courtesy one."""
    found = outbox.by_ref(desk.db, ref)
    if found is None:
        raise FairWarningError(
            f"there is no notice {ref}; `fairwarning review` lists the ones waiting for you"
        )
    if found.decision_id is not None:
        return foresee(desk, found.decision_id, templates, practitioner, policy)
    with undone(desk.db):
        said = courtesy.approve(desk, found)
        row = outbox.by_ref(desk.db, ref)
        assert row is not None
        return _compose(desk, row, said, templates, practitioner, policy)


def _notice_of(desk: Desk, decision_id: int) -> NoticeRow:
    """The case's notice after approval: its own, or the waiting one it joined."""
    row = outbox.by_decision(desk.db, decision_id)
    if row is not None:
        return row
    host = desk.db.execute(
        "SELECT joined_to FROM decisions WHERE id = ?", (decision_id,)
    ).fetchone()
    joined = outbox.by_decision(desk.db, host["joined_to"]) if host["joined_to"] else None
    if joined is None:  # approval always queues or joins a notice
        raise FairWarningError(f"case {decision_id} would send no notice")
    return joined


def _compose(
    desk: Desk,
    row: NoticeRow,
    said: str,
    templates: TemplateLibrary,
    practitioner: Practitioner,
    policy: Policy,
) -> Foreseen:
    try:
        message: EmailMessage | None = compose(
            desk.db, row, templates, practitioner, policy, desk.now
        )
        problem, line = "", None
    except TemplateError as exc:
        message, problem, line = None, _with_line(exc), exc.fields.get("line")
    except ValueError as exc:
        message, problem, line = None, f"not sendable: {exc}", None
    return Foreseen(row.ref, row.kind, row.client_email, message, problem, said, line)


def _with_line(exc: TemplateError) -> str:
    """The error's words, with its line when the message does not already give it."""
    line = exc.fields.get("line")
    if line is None or f"line {line}" in exc.message:
        return exc.message
    return f"{exc.message} (line {line})"
