"""`fairwarning test-send`: Dana sends herself a sample notice through her real sender.

The file sender (the demo's), dry-run mode and Gmail (the fake Google the connector tests use):
the message reaches Dana's own address with a "[test] " subject, and nothing lands in the state.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli.practice import Practice
from tests.connectors.google.fake_google import FakeGoogle, Fault
from tests.practice import Clock
from worker.cli.demo import PRACTITIONER
from worker.private_files import write_private


def _recorded(practice: Practice) -> tuple[int, int]:
    """Outbox rows and cases in the state database."""
    db = sqlite3.connect(practice.database)
    try:
        [(notices,)] = db.execute("SELECT COUNT(*) FROM outbox").fetchall()
        [(cases,)] = db.execute("SELECT COUNT(*) FROM decisions").fetchall()
    finally:
        db.close()
    return notices, cases


def _message(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_file_sender_writes_the_sample_to_dana_and_records_nothing(
    practice: Practice,
) -> None:
    before = _recorded(practice)

    done = practice("test-send")

    assert done.returncode == 0, done.stdout + done.stderr
    [eml] = practice.outbox.glob("FW-TEST-*.eml")
    message = _message(eml)
    assert message["To"].addresses[0].addr_spec == PRACTITIONER
    assert message["Subject"].startswith("[test] ")
    assert "Hi Sam," in _text(message), "the sample session preview uses"
    assert "Bcc" not in message
    assert f"was written to {eml} (account main writes notices to files)" in done.stdout
    assert _recorded(practice) == before
    assert practice.notices().keys() == {eml.name}


def test_a_spanish_forfeit_can_be_tried_too(practice: Practice) -> None:
    done = practice("test-send", "--kind", "forfeit", "--lang", "es")

    assert done.returncode == 0, done.stdout + done.stderr
    [eml] = practice.outbox.glob("FW-TEST-*.eml")
    message = _message(eml)
    assert message["Subject"].startswith("[test] ")
    assert "se da por perdida" in _text(message)


def test_in_dry_run_mode_the_sample_goes_to_the_dry_run_folder(practice: Practice) -> None:
    text = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(text.replace('mode = "auto"', 'mode = "dry-run"'))

    done = practice("test-send")

    assert done.returncode == 0, done.stdout + done.stderr
    [eml] = (practice.state / "dry-run" / "main").glob("FW-TEST-*.eml")
    assert "(dry-run mode: nothing is mailed)" in done.stdout
    assert str(eml) in done.stdout
    assert practice.notices() == {}


def test_an_unknown_account_or_language_is_named_with_the_choices(practice: Practice) -> None:
    account = practice("test-send", "--account", "work")
    language = practice("test-send", "--lang", "fr")

    assert account.returncode == 2
    assert "there is no account 'work'; the configured ones are: main" in account.stderr
    assert language.returncode == 2
    assert "no templates for language 'fr'; available: " in language.stderr
    assert "Traceback" not in account.stderr + language.stderr
    assert practice.notices() == {}


@pytest.fixture
def gmail(practice: Practice) -> Iterator[FakeGoogle]:
    """Dana's account sends through Gmail (the fake), with a fresh grant stored for it."""
    with FakeGoogle(Clock()).running() as fake:
        text = practice.config.read_text(encoding="utf-8")
        gmail = f'sender = {{ provider = "gmail", api_endpoint = "{fake.url}" }}'
        text = text.replace('sender = { provider = "file", folder = "outbox" }', gmail)
        practice.config.write_text(text, encoding="utf-8")
        token = practice.state / "tokens" / "main.google.json"
        write_private(token, json.dumps(fake.grant()).encode())
        yield fake


def test_through_gmail_the_sample_reaches_dana_and_says_so(
    practice: Practice, gmail: FakeGoogle
) -> None:
    before = _recorded(practice)

    done = practice("test-send")

    assert done.returncode == 0, done.stdout + done.stderr
    [message] = gmail.messages()
    assert message["To"].addresses[0].addr_spec == PRACTITIONER
    assert message["Subject"].startswith("[test] ")
    assert f"was sent to {PRACTITIONER} through account main" in done.stdout
    assert _recorded(practice) == before


def test_a_refusal_is_said_in_the_providers_words_and_exits_1(
    practice: Practice, gmail: FakeGoogle
) -> None:
    gmail.fail("gmail", Fault(400, "error_400_invalid_to"))

    done = practice("test-send")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "was refused" in done.stdout
    assert "HTTP 400 invalidArgument: Invalid To header" in done.stdout
