"""`fairwarning test-send`: a sample notice to the practitioner's own address, for real.

It goes through the account's own sender (Gmail, Outlook, the file sender; the dry-run folder
in dry-run mode), built exactly as the worker builds it, so the practitioner sees the notice in
their own mail program. It uses preview's sample session and records nothing in the state.
The sending itself is worker/service/testsend.py, shared with the console.
"""

from __future__ import annotations

import sys
from datetime import datetime
from email.message import EmailMessage

import click

from worker.cli.common import EXIT_ATTENTION, fail, load, utcnow
from worker.config import Account, Config
from worker.errors import FairWarningError
from worker.notices.preview import message_to_self
from worker.notices.templates import KINDS, TemplateLibrary
from worker.service.testsend import send_to_self


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
    try:
        message = sample_message(config, kind, lang, now)
        result = send_to_self(
            config, account, message, utcnow, what=f"the test {kind} ({message['Subject']})"
        )
    except FairWarningError as exc:
        fail(exc)
    except ValueError as exc:  # the practitioner's own address is not a plain address
        fail(f"cannot build the test message: {exc}")
    click.echo(result.said)
    if not result.sent:
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
    return message_to_self(config, library, kind, chosen, now)


def _account(config: Config, name: str | None) -> Account:
    if name is None:
        return config.accounts[0]
    for account in config.accounts:
        if account.name == name:
            return account
    names = ", ".join(a.name for a in config.accounts)
    fail(f"there is no account {name!r}; the configured ones are: {names}")
