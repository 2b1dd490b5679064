"""What counts as an email address Fair Warning will write to: one plain address, nothing more.

`check` and the message builder use the same test, so a client address `check` accepts is
one a notice can be sent to.
"""

from __future__ import annotations

import re
from email.headerregistry import Address

from worker.errors import FairWarningError

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LOCAL_PART = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


def plain_address(value: str) -> Address:
    """One bare address (`someone@example.org`), or ValueError naming the value.

    Display names, lists, comments, quoted local parts and non-ASCII local parts are
    refused; an international domain is converted to its ASCII (IDNA) form.
    """
    local, at, domain = value.strip().rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        ascii_domain = ""
    if not (at and _LOCAL_PART.match(local) and _DOMAIN.match(ascii_domain)):
        raise ValueError(f"{value!r} is not a single plain email address")
    return Address(username=local, domain=ascii_domain)


def is_address(value: str) -> bool:
    """Whether `value` is one plain email address."""
    try:
        plain_address(value)
    except ValueError:
        return False
    return True


def client_address(given: str) -> str:
    """A client's address as a command was given it, lower-cased, or FairWarningError."""
    address = given.strip().lower()
    if not is_address(address):
        raise FairWarningError(
            f"{given!r} is not an email address; give the client's address, e.g. sam@example.org"
        )
    return address
