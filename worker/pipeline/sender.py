"""The seam between the worker and a mailbox: one small protocol and an in-memory sender."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol, runtime_checkable


class Outcome(enum.StrEnum):
    """What a sender knows after trying to deliver one message.

    `UNKNOWN` means the request may have reached the provider: it must never be retried
    blindly. `DEFERRED` means the provider said it did not take the message (throttled):
    it is safe to try again after `retry_at`. A deferral with `pause_sending` (a daily
    sending limit) holds every notice of the account until `retry_at`. `DRAFTED` means the
    message waits in the practitioner's Drafts folder (drafts mode): nothing reached a client.
    """

    SENT = "sent"
    DRAFTED = "drafted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A sender's report on one message."""

    outcome: Outcome
    detail: str = ""
    provider_id: str = ""
    retry_at: datetime | None = None
    pause_sending: bool = False
    warning: str = ""  # the message went, but something around it failed (a Sent copy)


class Sender(Protocol):
    """Delivers one fully built message (recipients are in its headers)."""

    def send(self, message: EmailMessage) -> Delivery: ...


@runtime_checkable
class Drafter(Protocol):
    """Puts one fully built message in the practitioner's Drafts folder, ready to send.

    Reports `DRAFTED`, or `UNKNOWN`/`DEFERRED`/`REJECTED` as `send` does; it never sends.
    """

    def draft(self, message: EmailMessage) -> Delivery: ...


@dataclass
class MemorySender:
    """Keeps every message it is given; `script` makes the next sends report other outcomes."""

    sent: list[EmailMessage] = field(default_factory=list)
    script: list[Delivery] = field(default_factory=list)
    drafts: list[EmailMessage] = field(default_factory=list)

    def draft(self, message: EmailMessage) -> Delivery:
        self.drafts.append(message)
        return Delivery(Outcome.DRAFTED, provider_id=f"memory-draft-{len(self.drafts)}")

    def send(self, message: EmailMessage) -> Delivery:
        if self.script:
            delivery = self.script.pop(0)
            if delivery.outcome is Outcome.SENT:
                self.sent.append(message)
            return delivery
        self.sent.append(message)
        return Delivery(Outcome.SENT, provider_id=f"memory-{len(self.sent)}")
