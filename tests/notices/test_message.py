"""Building the email: structure, headers, and no way for a name to add a recipient."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

import worker.notices.message
from worker.config import Practitioner
from worker.model import REF_HEADER
from worker.notices.message import build_message, header_text
from worker.notices.templates import RenderedNotice

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
ANA = Practitioner(name="Ana Ruiz", email="ana@coach.example")
NOTICE = RenderedNotice(
    subject="Un recordatorio amable sobre nuestra sesión",
    text="Hola, Lucía:\n\nSolo quiero recordarte mi política.\n",
    html="<p>Hola, Lucía:</p>\n<p>Solo quiero recordarte mi política.</p>\n",
)


def build(
    notice: RenderedNotice = NOTICE,
    *,
    to_name: str = "Lucía Fernández",
    to_email: str = "lucia@example.org",
    practitioner: Practitioner = ANA,
    ref: str = "main-42-reminder",
) -> EmailMessage:
    return build_message(
        notice, to_name=to_name, to_email=to_email, practitioner=practitioner, ref=ref, now=NOW
    )


def sent_bytes(message: EmailMessage) -> EmailMessage:
    """What a mail server would see: the serialized bytes, parsed again."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def recipients(message: EmailMessage) -> list[str]:
    found = []
    for header in ("To", "Cc", "Bcc"):
        for value in message.get_all(header) or []:
            found += [address.addr_spec for address in value.addresses]
    return found


def test_notice_with_html_is_multipart_alternative_text_first() -> None:
    parsed = sent_bytes(build())

    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert parts[0].get_content().replace("\r\n", "\n") == NOTICE.text
    assert parts[1].get_content().replace("\r\n", "\n") == NOTICE.html


def test_notice_without_html_is_plain_text() -> None:
    parsed = sent_bytes(build(RenderedNotice(subject="Hi", text="Hello Sam\n", html=None)))

    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content() == "Hello Sam\r\n"
    assert not parsed.is_multipart()


def test_headers_name_the_practitioner_and_the_client() -> None:
    parsed = sent_bytes(build())

    sender = parsed["From"].addresses[0]
    client = parsed["To"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Ana Ruiz", "ana@coach.example")
    assert (client.display_name, client.addr_spec) == ("Lucía Fernández", "lucia@example.org")
    assert parsed["Subject"] == NOTICE.subject
    assert parsed["Date"] == "Mon, 23 Nov 2026 10:30:00 +0000"
    assert parsed["Message-ID"].startswith("<")
    assert parsed["Message-ID"].endswith("@coach.example>")
    assert parsed[REF_HEADER] == "main-42-reminder"
    assert parsed.get_all("Bcc") is None
    assert parsed.get_all("Reply-To") is None
    assert parsed.get_all("Cc") is None


def test_every_message_gets_its_own_message_id() -> None:
    assert build()["Message-ID"] != build()["Message-ID"]


def test_copy_to_self_adds_the_practitioner_as_bcc_only() -> None:
    practitioner = ANA.model_copy(update={"copy_to_self": True})

    parsed = sent_bytes(build(practitioner=practitioner))

    assert [str(v) for v in parsed.get_all("Bcc") or []] == ["ana@coach.example"]
    assert recipients(parsed) == ["lucia@example.org", "ana@coach.example"]


def test_reply_to_is_set_when_configured() -> None:
    practitioner = ANA.model_copy(update={"reply_to": "office@coach.example"})

    parsed = sent_bytes(build(practitioner=practitioner))

    assert [str(v) for v in parsed.get_all("Reply-To") or []] == ["office@coach.example"]
    assert recipients(parsed) == ["lucia@example.org"]


@pytest.mark.parametrize(
    "hostile_name",
    [
        "Sam\r\nBcc: attacker@evil.example",
        "Sam\nBcc: attacker@evil.example",
        "Sam\rBcc: attacker@evil.example",
        "Sam\u2028Bcc: attacker@evil.example",
        "Sam\x00\x0bBcc: attacker@evil.example",
        "Sam <attacker@evil.example>",
        "Sam, Eve <attacker@evil.example>",
        'Sam" <attacker@evil.example>, "x',
        "=?utf-8?q?Sam=0D=0ABcc=3A_attacker=40evil=2Eexample?=",
        "attacker@evil.example",
    ],
)
def test_a_hostile_client_name_cannot_add_a_header_or_recipient(hostile_name: str) -> None:
    message = build(to_name=hostile_name)
    raw = message.as_bytes()
    parsed = sent_bytes(message)

    assert parsed.get_all("Bcc") is None
    assert recipients(parsed) == ["lucia@example.org"]
    assert len(parsed["To"].addresses) == 1
    assert b"\r\nBcc:" not in raw
    assert set(parsed.keys()) == {
        "From", "To", "Subject", "Date", "Message-ID", REF_HEADER, "MIME-Version",
        "Content-Type",
    }  # fmt: skip


@pytest.mark.parametrize(
    "hostile",
    [
        "Hi\r\nBcc: attacker@evil.example",
        "Hi\nTo: attacker@evil.example\n\nbody",
        "Hi\r\n\r\n",
        "=?utf-8?q?Hi=0D=0ABcc=3A_attacker=40evil=2Eexample?=",
        "=?utf-8?b?SGkNCkJjYzogYXR0YWNrZXJAZXZpbC5leGFtcGxl?=",
    ],
)
def test_a_hostile_subject_or_ref_cannot_add_a_header(hostile: str) -> None:
    notice = RenderedNotice(subject=hostile, text="Hello\n", html=None)
    practitioner = ANA.model_copy(update={"copy_to_self": True, "name": hostile})

    parsed = sent_bytes(build(notice, ref=hostile, practitioner=practitioner))

    assert recipients(parsed) == ["lucia@example.org", "ana@coach.example"]
    assert parsed["Subject"] == header_text(hostile)
    assert "\n" not in parsed["Subject"]
    assert parsed[REF_HEADER] == header_text(hostile)
    assert parsed.get_content() == "Hello\r\n"
    assert len(parsed.get_all("To") or []) == 1


@pytest.mark.parametrize(
    "name",
    ['Mary "Molly" O\'Brien, PhD', "Ana <the coach>", "José María Núñez", "Dr. Smith; Jr."],
)
def test_names_with_punctuation_and_accents_survive_intact(name: str) -> None:
    parsed = sent_bytes(build(to_name=name, practitioner=ANA.model_copy(update={"name": name})))

    assert parsed["To"].addresses[0].display_name == name
    assert parsed["To"].addresses[0].addr_spec == "lucia@example.org"
    assert parsed["From"].addresses[0].display_name == name
    assert parsed["From"].addresses[0].addr_spec == "ana@coach.example"


@pytest.mark.parametrize(
    "address",
    [
        "lucia@example.org, attacker@evil.example",
        "Lucía <lucia@example.org>",
        "lucia@example.org\r\nBcc: attacker@evil.example",
        "lucia@example.org attacker@evil.example",
        '"lucia"@example.org',
        "lucía@example.org",
        "lucia@",
        "@example.org",
        "lucia",
        "",
        "lucia@example..org",
        "lucia@exa(mple).org",
    ],
)
def test_a_recipient_that_is_not_one_plain_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="is not a single plain email address") as caught:
        build(to_email=address)

    assert repr(address) in str(caught.value)


def test_an_international_domain_is_sent_in_ascii_form() -> None:
    parsed = sent_bytes(build(to_email="lucia@correo.españa.example"))

    assert recipients(parsed) == ["lucia@correo.xn--espaa-rta.example"]


def test_header_text_collapses_every_line_break_and_control_character() -> None:
    assert header_text(" a\r\n\tb\x00c\x85d\u2028e\u2029f\x7f ") == "a b c d e f"


def test_header_text_defuses_encoded_words_that_would_decode_to_line_breaks() -> None:
    assert header_text("=?utf-8?q?Sam=0D=0ABcc=3A_x=40evil=2Eexample?=") == (
        "= ?utf-8?q?Sam=0D=0ABcc=3A_x=40evil=2Eexample?="
    )


def test_a_message_that_would_not_read_back_as_written_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Simulate a hole in header_text: the guard must still stop the message.
    monkeypatch.setattr(worker.notices.message, "header_text", lambda value: value)

    with pytest.raises(ValueError, match="do not read back as written"):
        build(to_name="=?utf-8?q?Sam=0D=0ABcc=3A_attacker=40evil=2Eexample?=")
