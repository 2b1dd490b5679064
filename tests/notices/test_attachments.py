"""A notice with the practitioner's policy document: the document goes as it is, safely named."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.config import Practitioner
from worker.errors import TemplateError
from worker.notices.courtesy import notice_attachments, policy_document
from worker.notices.message import Attachment, build_message
from worker.notices.templates import RenderedNotice

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
DANA = Practitioner(name="Dana Rivera", email="dana@riveracoaching.example")
WELCOME = RenderedNotice(subject="Welcome", text="Hi Sam,\n", html="<p>Hi Sam,</p>\n")


def test_the_attachment_follows_the_text_and_html_of_the_notice() -> None:
    document = Attachment("Política\r\nBcc: x@evil.example.pdf", b"%PDF-1.4\n", "application/pdf")
    message = build_message(
        WELCOME,
        to_name="Sam",
        to_email="sam@example.org",
        practitioner=DANA,
        ref="FW-1",
        now=NOW,
        attachments=[document],
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(preferencelist=("html", "plain"))
    assert body is not None
    assert body.get_content_type() == "text/html"
    [attached] = list(parsed.iter_attachments())
    assert attached.get_content() == b"%PDF-1.4\n"
    assert attached.get_filename() == "Política Bcc: x@evil.example.pdf"
    assert parsed.get_all("Bcc") is None


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("agreement.pdf", "application/pdf"),
        ("terms.docx", None),
        ("notes", "application/octet-stream"),
    ],
)
def test_the_documents_type_comes_from_its_name(
    tmp_path: Path, name: str, mime: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(b"policy")
    [document] = notice_attachments("welcome", DANA.model_copy(update={"policy_document": path}))
    assert document.filename == name
    expected = mime or "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert document.mime_type == expected


def test_only_the_welcome_carries_the_document(tmp_path: Path) -> None:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(b"%PDF")
    who = DANA.model_copy(update={"policy_document": path})
    assert notice_attachments("closure", who) == []
    assert notice_attachments("welcome", DANA) == []


def test_an_empty_or_unreadable_document_is_named_with_the_fix(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(TemplateError, match=r"practitioner.policy_document: .*empty.pdf is empty"):
        policy_document(DANA.model_copy(update={"policy_document": empty}))
    with pytest.raises(TemplateError, match="is not a file; name the document itself"):
        policy_document(DANA.model_copy(update={"policy_document": tmp_path}))
