"""A rendered notice becomes one email, built with the standard `email` package.

Names, subjects and refs come from calendars and client directories, so nothing that goes
into a header is trusted: control characters and line breaks are collapsed to spaces and
display names are quoted by `email.headerregistry.Address`, so no value can add a header or
a recipient. The only recipients are the given client address and, optionally, the
practitioner's own (Bcc).
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from worker.addresses import plain_address
from worker.config import Practitioner
from worker.model import REF_HEADER
from worker.notices.templates import RenderedNotice
from worker.notices.wording import person_name

# Whitespace and every C0/C1 control character, plus the Unicode line and paragraph breaks.
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a notice (the practitioner's policy document)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


def header_text(value: str) -> str:
    """`value` on one line: every run of whitespace or control characters becomes a space.

    "=?" is split too: the email parser decodes RFC 2047 words such as
    "=?utf-8?q?=0D=0ABcc:...?=" into real line breaks, which Python before 3.11.10
    (CVE-2024-6923) then writes out raw as a new header.
    """
    return _UNSAFE.sub(" ", value).strip().replace("=?", "= ?")


def build_message(
    notice: RenderedNotice,
    *,
    to_name: str,
    to_email: str,
    practitioner: Practitioner,
    ref: str,
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """The email for one notice, from the practitioner to one client.

    multipart/alternative (text, then HTML) when the notice has HTML, else text/plain; UTF-8.
    With `attachments`, that body is the first part of a multipart/mixed message.
    `ref` goes into the X-Fair-Warning-Ref header so the message can be traced to its outbox
    row. Raises ValueError if `to_email` (or the practitioner's addresses) is not a single
    plain address.
    """
    recipient = plain_address(to_email)
    sender = plain_address(practitioner.email)
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = _named(practitioner.name, sender)
    message["To"] = _named(to_name, recipient)
    if practitioner.copy_to_self:
        message["Bcc"] = sender
    if practitioner.reply_to.strip():
        message["Reply-To"] = plain_address(practitioner.reply_to)
    message["Subject"] = header_text(notice.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message[REF_HEADER] = header_text(ref)
    message.set_content(notice.text, charset="utf-8", cte="quoted-printable")
    if notice.html is not None:
        message.add_alternative(
            notice.html, subtype="html", charset="utf-8", cte="quoted-printable"
        )
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=header_text(attachment.filename),
        )
    expected = [recipient.addr_spec] + ([sender.addr_spec] if practitioner.copy_to_self else [])
    _check_round_trip(message, expected)
    return message


def _check_round_trip(message: EmailMessage, recipients: list[str]) -> None:
    """Refuse a message whose bytes, parsed back, show other headers or recipients.

    A guard behind header_text: if some future input still slipped a line break into a
    header, the notice must fail loudly rather than reach someone else.
    """
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    found = [
        address.addr_spec
        for name in ("To", "Cc", "Bcc")
        for value in parsed.get_all(name) or []
        for address in getattr(value, "addresses", ())
    ]
    if found != recipients or parsed.keys() != message.keys():
        raise ValueError(
            f"refusing to build a notice whose headers do not read back as written "
            f"(recipients {found!r}, expected {recipients!r})"
        )


def _named(name: str, address: Address) -> Address:
    """The address with its display name; a "name" that is itself an address is left out, so
    the client sees their bare address rather than `"sam@example.org" <sam@example.org>`."""
    shown = person_name(header_text(name))
    return Address(display_name=shown, username=address.username, domain=address.domain)
