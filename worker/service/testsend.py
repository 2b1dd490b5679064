"""A test notice to the practitioner's own address, through an account's real sender.

Shared by `fairwarning test-send` and the console's "Send a test to me": the same sender the
worker would use (Gmail, Outlook, SMTP, the file sender; the dry-run folder in dry-run mode),
and one honest line on what became of it. Nothing is recorded in the state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from worker.config import Account, Config
from worker.pipeline.delivery import WritesFiles
from worker.pipeline.sender import Delivery, Outcome
from worker.wiring import build_sender


@dataclass(frozen=True)
class SentToSelf:
    """What the sender did with the test, and one line saying it."""

    delivery: Delivery
    said: str

    @property
    def sent(self) -> bool:
        return self.delivery.outcome is Outcome.SENT


def send_to_self(
    config: Config,
    account: Account,
    message: EmailMessage,
    clock: Callable[[], datetime],
    *,
    what: str,
) -> SentToSelf:
    """Send `message` (already addressed to the practitioner) through `account`'s sender.

    `what` names it in the line ("the test reminder (…)"). Raises FairWarningError when the
    sender cannot be built or refuses for the whole account (e.g. authorisation revoked).
    """
    if config.policy.mode == "dry-run":  # the dry-run folder lives in the private state dir
        config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    sender = build_sender(account, config, clock)
    delivery = sender.send(message)
    writes_files = isinstance(sender, WritesFiles)
    return SentToSelf(
        delivery, describe(what, delivery, config, account.name, writes_files=writes_files)
    )


def describe(
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
