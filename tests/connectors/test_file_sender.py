"""The file sender: every notice lands as an .eml (and .html) file, atomically, never clobbered."""

from __future__ import annotations

import email
import email.policy
import errno
import os
import stat
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from connectors.file_sender import LEFTOVER_AGE, FileSender
from worker.config import Practitioner
from worker.notices.message import build_message
from worker.notices.templates import RenderedNotice
from worker.pipeline.sender import Outcome, Sender

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
ANA = Practitioner(name="Ana Ruiz", email="ana@coach.example")
NOTICE = RenderedNotice(
    subject="A gentle reminder about our session",
    text="Hi Sam,\n\nI just want to remind you of my policy.\n",
    html="<!DOCTYPE html>\n<p>Hi Sam, I just want to remind you of my policy. Olé</p>\n",
)


def notice_message(
    ref: str = "main-42-reminder", notice: RenderedNotice = NOTICE, name: str = "Sam Taylor"
) -> EmailMessage:
    return build_message(
        notice, to_name=name, to_email="sam@example.org", practitioner=ANA, ref=ref, now=NOW
    )


def read_eml(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_notice_is_written_as_eml_and_browser_html(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    sender: Sender = FileSender(folder=folder)

    delivery = sender.send(notice_message())

    assert delivery.outcome is Outcome.SENT
    assert delivery.provider_id == str(folder / "main-42-reminder.eml")
    assert listing(folder) == ["main-42-reminder.eml", "main-42-reminder.html"]
    written = read_eml(folder / "main-42-reminder.eml")
    assert written["Subject"] == NOTICE.subject
    assert written["To"].addresses[0].addr_spec == "sam@example.org"
    assert written["X-Fair-Warning-Ref"] == "main-42-reminder"
    assert [p.get_content_type() for p in written.iter_parts()] == ["text/plain", "text/html"]
    html = (folder / "main-42-reminder.html").read_bytes().decode("utf-8")
    assert html == '<meta charset="utf-8">\n' + NOTICE.html


def test_folder_is_created_private(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "outbox"

    FileSender(folder=folder).send(notice_message())

    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((folder / "main-42-reminder.eml").stat().st_mode) & 0o077 == 0


def test_plain_text_notice_writes_no_html(tmp_path: Path) -> None:
    message = notice_message(notice=RenderedNotice(subject="Hi", text="Hello\n", html=None))

    FileSender(folder=tmp_path).send(message)

    assert listing(tmp_path) == ["main-42-reminder.eml"]


def test_html_that_declares_its_charset_is_kept_as_is(tmp_path: Path) -> None:
    html = '<html><head><meta charset="utf-8"></head><body>Olé</body></html>'
    message = notice_message(notice=RenderedNotice(subject="Hi", text="Olé\n", html=html))

    FileSender(folder=tmp_path).send(message)

    written = (tmp_path / "main-42-reminder.html").read_bytes().decode("utf-8")
    assert written == html + "\n"  # the email package ends every text part with a newline


def test_a_different_notice_with_the_same_ref_never_overwrites(tmp_path: Path) -> None:
    sender = FileSender(folder=tmp_path)
    first, second = notice_message(name="Sam Taylor"), notice_message(name="Lucía Fernández")

    one = sender.send(first)
    two = sender.send(second)
    three = sender.send(notice_message(name="Third"))

    assert one.provider_id == str(tmp_path / "main-42-reminder.eml")
    assert two.provider_id == str(tmp_path / "main-42-reminder-2.eml")
    assert three.provider_id == str(tmp_path / "main-42-reminder-3.eml")
    assert (tmp_path / "main-42-reminder.eml").read_bytes() == first.as_bytes()
    assert (tmp_path / "main-42-reminder-2.eml").read_bytes() == second.as_bytes()
    assert (tmp_path / "main-42-reminder-2.html").is_file()


def test_the_same_message_written_twice_keeps_one_file(tmp_path: Path) -> None:
    sender = FileSender(folder=tmp_path)
    message = notice_message()

    first, again = sender.send(message), sender.send(message)

    assert first == again
    assert listing(tmp_path) == ["main-42-reminder.eml", "main-42-reminder.html"]


def test_an_existing_file_that_is_not_ours_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "main-42-reminder.eml").write_text("my own notes", encoding="utf-8")

    delivery = FileSender(folder=tmp_path).send(notice_message())

    assert delivery.provider_id == str(tmp_path / "main-42-reminder-2.eml")
    assert (tmp_path / "main-42-reminder.eml").read_text(encoding="utf-8") == "my own notes"


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("../../etc/passwd", "etc-passwd.eml"),
        ("main/42 reminder:2026-11-24T15:00Z", "main-42-reminder-2026-11-24T15-00Z.eml"),
        ("..", None),
        ("", None),
    ],
)
def test_the_ref_becomes_a_safe_file_name(tmp_path: Path, ref: str, name: str | None) -> None:
    folder = tmp_path / "outbox"

    delivery = FileSender(folder=folder).send(notice_message(ref=ref))

    written = Path(delivery.provider_id)
    assert written.parent == folder
    assert written.is_file()
    if name is not None:
        assert written.name == name
    else:
        assert written.name.endswith("-1.eml")
        assert written.name[:8].isdigit()
    assert listing(tmp_path) == ["outbox"]


def test_notices_without_a_ref_get_distinct_names(tmp_path: Path) -> None:
    sender = FileSender(folder=tmp_path)

    names = {sender.send(notice_message(ref="", name=f"Client {n}")).provider_id for n in range(3)}

    assert len(names) == 3


def test_a_failed_write_is_rejected_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)

    delivery = FileSender(folder=tmp_path).send(notice_message())

    assert delivery.outcome is Outcome.REJECTED
    assert str(tmp_path) in delivery.detail
    assert "No space left on device" in delivery.detail
    assert listing(tmp_path) == []


def test_a_folder_that_cannot_be_created_is_rejected(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")

    delivery = FileSender(folder=blocker / "outbox").send(notice_message())

    assert delivery.outcome is Outcome.REJECTED
    assert str(blocker / "outbox") in delivery.detail
    assert delivery.provider_id == ""


def test_without_hard_links_it_still_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    sender = FileSender(folder=tmp_path)

    one = sender.send(notice_message(name="Sam Taylor"))
    two = sender.send(notice_message(name="Lucía Fernández"))

    assert Path(one.provider_id).name == "main-42-reminder.eml"
    assert Path(two.provider_id).name == "main-42-reminder-2.eml"
    assert "Sam Taylor" in read_eml(Path(one.provider_id))["To"].addresses[0].display_name
    assert listing(tmp_path) == [
        "main-42-reminder-2.eml",
        "main-42-reminder-2.html",
        "main-42-reminder.eml",
        "main-42-reminder.html",
    ]


def test_a_failed_html_preview_still_counts_the_notice_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def refuse_html(source: str | Path, target: str | Path) -> None:
        if str(target).endswith(".html"):
            raise OSError(errno.EACCES, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", refuse_html)

    delivery = FileSender(folder=tmp_path).send(notice_message())

    assert delivery.outcome is Outcome.SENT
    assert delivery.provider_id == str(tmp_path / "main-42-reminder.eml")
    assert "not its HTML preview: Permission denied" in delivery.detail
    assert listing(tmp_path) == ["main-42-reminder.eml"]


def test_temporary_copies_left_by_a_killed_worker_are_swept(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    old = folder / ".notice-abc.tmp"
    old.write_text("Dear Sam, ...")
    stale = time.time() - LEFTOVER_AGE - 60
    os.utime(old, (stale, stale))
    fresh = folder / ".notice-def.tmp"
    fresh.write_text("being written right now")
    message = EmailMessage()
    message["X-Fair-Warning-Ref"] = "FW-SWEEP"
    message.set_content("hello")
    FileSender(folder=folder).send(message)
    assert not old.exists()
    assert fresh.exists()
