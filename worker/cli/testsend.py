"""`fairwarning test-send`: a sample notice to the practitioner's own address, for real.

It goes through the account's own sender (Gmail, Outlook, the file sender; the dry-run folder
in dry-run mode), built exactly as the worker builds it, so the practitioner sees the notice in
their own mail program. It uses preview's sample session and records nothing in the state.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage

import click

from worker.cli.common import EXIT_ATTENTION, fail, load, utcnow
from worker.config import Account, Config
from worker.errors import FairWarningError
from worker.notices.message import build_message
from worker.notices.templates import KINDS, TemplateLibrary
from worker.notices.wording import notice_variables, sample_facts
from worker.pipeline.delivery import WritesFiles
from worker.pipeline.sender import Delivery, Outcome
from worker.wiring import build_sender

SUBJECT_PREFIX = "[test] "


@click.command("test-send")
@click.option("--kind", type=click.Choice(KINDS), default="reminder", show_default=True)
@click.option("--lang", help="Template language (default: yours).")
@click.option("--account", "account_name", help="Whose sender (default: the first account).")
@click.pass_context
def test_send(ctx: click.Context, kind: str, lang: str | None, account_name: str | None) -> None:
    """Send yourself a sample notice through an account's real sender.

    The subject starts "[test] "; the session is preview's sample. Nothing is recorded: no
    case, no outbox row. Exit 1 when the sender refused it or cannot say whether it went.
    """
    config = load(ctx)
    account = _account(config, account_name)
    now = utcnow()
    if config.policy.mode == "dry-run":  # the dry-run folder lives in the private state dir
        config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        message = sample_message(config, kind, lang, now)
        sender = build_sender(account, config, utcnow)
        delivery = sender.send(message)
    except FairWarningError as exc:
        fail(exc)
    except ValueError as exc:  # the practitioner's own address is not a plain address
        fail(f"cannot build the test message: {exc}")
    what = f"the test {kind} ({message['Subject']})"
    writes_files = isinstance(sender, WritesFiles)
    click.echo(_outcome(what, delivery, config, account.name, writes_files=writes_files))
    if delivery.outcome is not Outcome.SENT:
        sys.exit(EXIT_ATTENTION)


def sample_message(config: Config, kind: str, language: str | None, now: datetime) -> EmailMessage:
    """Preview's sample notice, addressed to the practitioner, its subject marked "[test]"."""
    library = TemplateLibrary(user_dir=config.templates_dir)
    if language and library.template_language(language) is None:
        raise FairWarningError(
            f"there are no templates for language {language!r}; available: "
            f"{', '.join(library.languages())}"
        )
    chosen = library.choose_language(language, config.practitioner.language)
    facts = sample_facts(kind, chosen, now)
    rendered = library.render(
        kind, chosen, notice_variables(facts, config.practitioner, config.policy)
    )
    rendered = replace(rendered, subject=SUBJECT_PREFIX + rendered.subject)
    practitioner = config.practitioner
    return build_message(
        rendered,
        to_name=practitioner.name,
        to_email=practitioner.email,
        practitioner=practitioner.model_copy(update={"copy_to_self": False}),
        ref=f"FW-TEST-{now:%Y%m%dT%H%M%S}",
        now=now,
    )


def _account(config: Config, name: str | None) -> Account:
    if name is None:
        return config.accounts[0]
    for account in config.accounts:
        if account.name == name:
            return account
    names = ", ".join(a.name for a in config.accounts)
    fail(f"there is no account {name!r}; the configured ones are: {names}")


def _outcome(
    what: str, delivery: Delivery, config: Config, account: str, *, writes_files: bool
) -> str:
    """One line: sent, written to FILE, refused with the provider's words, or unknown."""
    detail = f": {delivery.detail}" if delivery.detail else ""
    if delivery.outcome is Outcome.SENT and writes_files:
        why = (
            "dry-run mode: nothing is mailed"
            if config.policy.mode == "dry-run"
            else f"account {account} writes notices to files"
        )
        return f"{what} was written to {delivery.provider_id} ({why}){detail}"
    if delivery.outcome is Outcome.SENT:
        return f"{what} was sent to {config.practitioner.email} through account {account}"
    if delivery.outcome is Outcome.REJECTED:
        return f"{what} was refused{detail}"
    if delivery.outcome is Outcome.DEFERRED:
        return f"{what} was not sent: the provider asked to try again later{detail}"
    return f"{what}: unknown whether it went{detail}; look in your Sent folder before trying again"
