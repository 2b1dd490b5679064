"""`fairwarning preview`: a notice as the client would receive it, from sample session details."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage

from worker.clients import load_directory
from worker.config import Config
from worker.errors import FairWarningError
from worker.model import Client
from worker.notices.courtesy import (
    COURTESY_KINDS,
    courtesy_variables,
    notice_attachments,
    sample_courtesy,
)
from worker.notices.message import build_message
from worker.notices.templates import RenderedNotice, TemplateLibrary
from worker.notices.wording import notice_variables, sample_facts


def render_preview(
    config: Config, kind: str, language: str | None, client_email: str | None, now: datetime
) -> tuple[str, str | None]:
    """The message as text (headers and plain body), and its HTML part if any."""
    library = TemplateLibrary(user_dir=config.templates_dir)
    client = None
    if client_email:
        client = load_directory(config).by_email(client_email)
        if client is None:
            raise FairWarningError(
                f"{client_email} is not in the client directory; add it under [[clients]] "
                "or leave out --client"
            )
    if language and library.template_language(language) is None:
        raise FairWarningError(
            f"there are no templates for language {language!r}; available: "
            f"{', '.join(library.languages())}. Pick one of those with --lang, or add a "
            f"templates/{language}/ folder (see README, Templates)"
        )
    wanted = language or (client.language if client else None)
    chosen = library.choose_language(wanted, config.practitioner.language)
    message, rendered = sample_message(config, library, kind, chosen, now, client=client)
    headers = "\n".join(
        f"{k}: {v}" for k, v in message.items() if k.lower() not in ("content-type", "mime-version")
    )
    attached = "".join(
        f"\nattached: {part.get_filename()} ({part.get_content_type()})"
        for part in message.iter_attachments()
    )
    return f"{headers}\n\n{rendered.text}{attached}", rendered.html


def sample_message(
    config: Config,
    library: TemplateLibrary,
    kind: str,
    language: str,
    now: datetime,
    *,
    client: Client | None = None,
    ref: str = "FW-PREVIEW",
    attach: bool = True,
) -> tuple[EmailMessage, RenderedNotice]:
    """A notice of any kind with sample session details (or `client`'s), rendered and built
    into the email the client would get; `attach=False` leaves the policy document out (check
    reports it on its own). Raises TemplateError or ValueError."""
    if kind in COURTESY_KINDS:
        courtesy = sample_courtesy(kind, language, now)
        if client is not None:
            courtesy = replace(
                courtesy,
                client_name=client.name or courtesy.client_name,
                client_email=client.email,
                time_zone=client.time_zone or config.practitioner.time_zone,
            )
        name, email = courtesy.client_name, courtesy.client_email
        variables = courtesy_variables(courtesy, config.practitioner, config.policy)
    else:
        facts = sample_facts(kind, language, now)
        if client is not None:
            facts = replace(
                facts,
                client_name=client.name or facts.client_name,
                client_email=client.email,
                time_zone=client.time_zone or config.practitioner.time_zone,
                prepaid_balance=client.prepaid_balance,
            )
        name, email = facts.client_name, facts.client_email
        variables = notice_variables(facts, config.practitioner, config.policy)
    rendered = library.render(kind, language, variables)
    message = build_message(
        rendered,
        to_name=name,
        to_email=email,
        practitioner=config.practitioner,
        ref=ref,
        now=now,
        attachments=notice_attachments(kind, config.practitioner) if attach else [],
    )
    return message, rendered


TEST_PREFIX = "[test] "


def message_to_self(
    config: Config,
    library: TemplateLibrary,
    kind: str,
    language: str,
    now: datetime,
    *,
    client: Client | None = None,
) -> EmailMessage:
    """What `fairwarning test-send` sends: the sample notice (or `client`'s) addressed to the
    practitioner alone, its subject marked "[test] ". Raises TemplateError or ValueError."""
    _, rendered = sample_message(config, library, kind, language, now, client=client, attach=False)
    practitioner = config.practitioner
    return build_message(
        replace(rendered, subject=TEST_PREFIX + rendered.subject),
        to_name=practitioner.name,
        to_email=practitioner.email,
        practitioner=practitioner.model_copy(update={"copy_to_self": False}),
        ref=f"FW-TEST-{now:%Y%m%dT%H%M%S}",
        now=now,
    )
