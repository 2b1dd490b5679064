"""A client's case file, gathered from the state: sessions, cases, notices and ledger entries.

The outbox keeps the facts each notice was written from (and its reference and outcome), not
the sent message. Each notice's words are therefore rendered again from those stored facts with
the current templates, exactly as delivery renders them, and the file says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from worker.config import Config
from worker.errors import FairWarningError, TemplateError
from worker.notices.casefile import AS_RENDERED, CaseFile, NoticeCopy
from worker.notices.courtesy import courtesy_variables
from worker.notices.templates import TemplateLibrary
from worker.notices.wording import NoticeFacts, notice_variables
from worker.pipeline.compose import stored_facts
from worker.store import casefile, outbox, views
from worker.store.connection import Connection


class UnknownClient(FairWarningError):
    """No session, case or notice of this client is recorded."""


def gather_casefile(
    db: Connection, config: Config, templates: TemplateLibrary, email: str, now: datetime
) -> CaseFile:
    """Everything recorded about the client with this address (any case)."""
    email = email.strip().lower()
    if not casefile.client_known(db, email):
        raise UnknownClient(
            f"no client {email} in the records: no session, case or notice of theirs "
            "(check the address; `fairwarning history` lists every case)",
            client=email,
        )
    cases = list(reversed(views.cases(db, client=email)))  # oldest first, like the rest
    name = next((c["client_name"] for c in cases if c["client_name"]), "")
    notices = [_notice_copy(db, config, templates, row) for row in casefile.notices_of(db, email)]
    return CaseFile(
        client_email=email,
        client_name=name or _directory_name(config, email),
        generated_at=now,
        zone=config.practitioner.time_zone,
        sessions=casefile.sessions_of(db, email),
        cases=cases,
        notices=notices,
        ledger=casefile.ledger_of(db, email),
        packages=casefile.package_entries_of(db, email),
    )


def _directory_name(config: Config, email: str) -> str:
    return next((c.name for c in config.clients if c.email.lower() == email), "")


def _notice_copy(
    db: Connection, config: Config, templates: TemplateLibrary, row: dict[str, object]
) -> NoticeCopy:
    notice = outbox.by_ref(db, str(row["ref"]))
    assert notice is not None
    waiting = notice.state in ("review", "queued")
    base = NoticeCopy(
        ref=notice.ref,
        kind=notice.kind,
        state=notice.state,
        at=str(row["not_before"] if waiting else row["updated_at"]),
        subject="",
        text="",
        provenance=AS_RENDERED,
        simulated=notice.simulated,
        case=notice.decision_id,
    )
    # Rendered as delivery renders it (delivery.py, _deliver): language first, then variables.
    try:
        facts = stored_facts(notice)
        language = templates.choose_language(facts.language, config.practitioner.language)
        facts = replace(facts, language=language)
        variables = (
            notice_variables(facts, config.practitioner, config.policy)
            if isinstance(facts, NoticeFacts)
            else courtesy_variables(facts, config.practitioner, config.policy)
        )
        rendered = templates.render(notice.kind, language, variables)
    except (TemplateError, KeyError, ValueError) as exc:
        return replace(base, provenance=f"could not be rendered again from its facts: {exc}")
    return replace(base, subject=rendered.subject, text=rendered.text)
