"""One error tree. Each error says whether retrying later can help and what to tell the user.

- `Recoverable`: try again on a later cycle (provider outage, throttling).
- `AccountNeedsPractitioner`: this account stops until the practitioner acts (revoked token).
- `Fatal`: the process cannot go on (broken configuration, unreadable state).
"""

from __future__ import annotations

from typing import Any


class FairWarningError(Exception):
    """Base of every error the worker raises on purpose; `fields` carry structured context."""

    exit_code = 2

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class Recoverable(FairWarningError):
    """Transient: the same step may succeed on a later cycle."""

    exit_code = 1


class AccountNeedsPractitioner(FairWarningError):
    """The account is paused until the practitioner does something (named in the message)."""

    exit_code = 1


class Fatal(FairWarningError):
    """The process cannot continue."""


class ConfigError(Fatal):
    """The configuration file is missing or invalid."""


class TemplateError(Fatal):
    """A notice template is missing, does not parse, or uses an unknown variable."""


class StateError(Fatal):
    """The state directory or database cannot be used."""


class CalendarFileError(Recoverable):
    """One calendar file could not be read; it is skipped and reported once."""


class DatabaseFault(StateError):
    """The state database cannot be used now (read-only, locked, full, damaged, unreadable).

    The message is one line naming the file and the fix; `kind` says which condition it is:
    `readonly`, `locked`, `full`, `corrupt`, `io`, `cantopen` or `other`.
    """

    @property
    def kind(self) -> str:
        return str(self.fields.get("kind", "other"))


class NoState(StateError):
    """There is no state database yet: the worker has never run with this state directory."""
