"""Notices in the console: Dana rewords her reminder, sees it as Sam would, and saves it.

Her practice here has a templates folder with her own English reminder in it; everything
else is packaged.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from importlib import resources
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.cli.practice import Practice
from tests.web.conftest import PASSWORD, csrf_of, log_in
from worker.config import Config, load_config
from worker.web.app import build_console
from worker.web.guard import NOTICE_POLICY
from worker.web.keys import set_password

EDITOR = "/notices/reminder/en"
PACKAGED_REMINDER = resources.files("fairwarning_templates") / "en" / "reminder.md.j2"
NEW_WORDS = "Please bring your umbrella next time, {{ client_first_name }}."


@pytest.fixture
def config(practice: Practice) -> Config:
    """Dana's practice with `templates_dir = "templates"` and her own en/reminder.md.j2."""
    text = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(f'templates_dir = "templates"\n{text}', encoding="utf-8")
    folder = practice.folder / "templates" / "en"
    folder.mkdir(parents=True)
    (folder / "reminder.md.j2").write_text(PACKAGED_REMINDER.read_text("utf-8"), "utf-8")
    set_password(practice.state, PASSWORD)
    loaded, _ = load_config(practice.config)
    return loaded


def reminder_file(practice: Practice) -> Path:
    return practice.folder / "templates" / "en" / "reminder.md.j2"


def editor_form(page: str, **changes: str) -> dict[str, str]:
    """The editor's fields as the page holds them, with `changes`."""
    subject = re.search(r'<textarea id="subject"[^>]*>\n(.*?)</textarea>', page, re.S)
    body = re.search(r'<textarea id="body"[^>]*>\n(.*?)</textarea>', page, re.S)
    version = re.search(r'name="version" value="([^"]*)"', page)
    assert subject, "the editor has a subject"
    assert body, "the editor has a body"
    assert version, "the editor says which version it started from"
    return {
        "csrf": csrf_of(page),
        "version": version.group(1),
        "subject": _unescape(subject.group(1)),
        "body": _unescape(body.group(1)),
        "client": "",
        **changes,
    }


def _unescape(html: str) -> str:
    for escaped, plain in (("&lt;", "<"), ("&gt;", ">"), ("&#34;", '"'), ("&#39;", "'")):
        html = html.replace(escaped, plain)
    return html.replace("&amp;", "&")


def frame_of(page: str) -> str:
    found = re.search(r'<iframe sandbox="" class="notice"[^>]* src="([^"]+)"', page)
    assert found, "the preview has a sandboxed iframe"
    return found.group(1)


def test_the_list_shows_every_notice_in_every_language_and_whose_it_is(
    console: TestClient,
) -> None:
    page = console.get("/notices")

    assert page.status_code == 200
    for name in ("Reminder", "Forfeit", "Welcome", "Note before a session", "Closure"):
        assert name in page.text
    for language in ("en", "es", "es-formal"):
        assert f'href="/notices/reminder/{language}"' in page.text
    assert page.text.count(">partly yours<") == 1, "her reminder body, with the packaged subject"
    assert ">packaged<" in page.text
    assert "Every client's language has its notices" in page.text


def test_the_editor_shows_the_reminder_as_written(console: TestClient, practice: Practice) -> None:
    (reminder_file(practice)).write_text("Dear {{ client_name }}, see you soon.\n", "utf-8")

    page = console.get(EDITOR)

    assert page.status_code == 200
    assert "Dear {{ client_name }}, see you soon." in page.text
    assert "A gentle reminder about our session on {{ session_day }}" in page.text
    assert str(reminder_file(practice)) in page.text, "where the text comes from"
    assert "Dear Sam Taylor, see you soon." in page.text, "the sample preview, as preview has it"
    assert 'src="/static/preview.js"' in page.text


def test_previewing_unsaved_words_shows_them_in_subject_text_and_html(
    console: TestClient, practice: Practice
) -> None:
    before = reminder_file(practice).read_text("utf-8")
    form = editor_form(
        console.get(EDITOR).text, subject="Umbrellas on {{ session_day }}", body=NEW_WORDS
    )

    page = console.post(EDITOR, data={**form, "action": "preview"})

    assert page.status_code == 200
    subject = re.search(r'<dd id="preview-subject">(.*?)</dd>', page.text)
    assert subject
    assert subject.group(1).startswith("Umbrellas on ")
    text = re.search(r'<pre id="preview-text"[^>]*>(.*?)</pre>', page.text, re.S)
    assert text
    assert "Please bring your umbrella next time, Sam." in text.group(1)
    document = console.get(frame_of(page.text))
    assert "Please bring your umbrella next time, Sam." in document.text
    assert reminder_file(practice).read_text("utf-8") == before, "a preview saves nothing"


def test_the_live_preview_answers_the_script_with_the_new_words(console: TestClient) -> None:
    form = editor_form(
        console.get(EDITOR).text, body=NEW_WORDS, client="lucia.fernandez@example.org"
    )
    token = form.pop("csrf")

    answer = console.post(f"{EDITOR}/live", data=form, headers={"X-CSRF-Token": token})

    assert answer.status_code == 200
    found = answer.json()
    assert found["error"] == ""
    assert "Please bring your umbrella next time, Lucía." in found["text"]
    assert "Please bring your umbrella next time, Lucía." in console.get(found["frame"]).text


def test_a_broken_template_shows_its_line_and_is_not_saved(
    console: TestClient, practice: Practice
) -> None:
    before = reminder_file(practice).read_text("utf-8")
    broken = "Hello,\n\nSee you {{ unclosed\n"
    form = editor_form(console.get(EDITOR).text, body=broken)

    page = console.post(EDITOR, data={**form, "action": "save"}, follow_redirects=False)

    assert page.status_code == 422
    assert "Not saved: this notice does not render." in page.text
    assert re.search(r"Text, line 3: syntax error", page.text), page.text
    assert "See you {{ unclosed\n</textarea>" in page.text, "what she typed is still there"
    assert reminder_file(practice).read_text("utf-8") == before
    assert not (practice.folder / "templates" / ".history").exists()


def test_the_live_preview_says_where_an_unknown_variable_is(console: TestClient) -> None:
    form = editor_form(console.get(EDITOR).text, subject="Hello {{ clinet_name }}")
    token = form.pop("csrf")

    found = console.post(f"{EDITOR}/live", data=form, headers={"X-CSRF-Token": token}).json()

    assert found["error"].startswith("Subject, line 1: unknown variable 'clinet_name'")
    assert found["line"] == 1
    assert found["frame"] == ""


def test_saving_replaces_the_file_in_one_step_and_keeps_the_previous_version(
    console: TestClient, practice: Practice
) -> None:
    before = reminder_file(practice).read_text("utf-8")
    form = editor_form(console.get(EDITOR).text, body=NEW_WORDS)

    saved = console.post(EDITOR, data={**form, "action": "save"}, follow_redirects=False)

    assert saved.status_code == 303
    assert reminder_file(practice).read_text("utf-8") == NEW_WORDS + "\n"
    [previous] = (practice.folder / "templates" / ".history" / "en").glob("reminder.md.j2.*")
    assert previous.read_text("utf-8") == before
    assert not (practice.folder / "templates" / "en" / "reminder.subject.j2").exists(), (
        "an unchanged packaged subject stays packaged"
    )
    assert [p.name for p in reminder_file(practice).parent.iterdir()] == ["reminder.md.j2"]
    page = console.get(EDITOR)
    assert f"Saved {reminder_file(practice)}" in page.text
    assert f"the previous version is kept as {previous}" in page.text
    assert "Please bring your umbrella next time, Sam." in page.text


def test_a_second_save_keeps_both_earlier_versions(console: TestClient, practice: Practice) -> None:
    for words in ("First try, {{ client_first_name }}.", "Second try, {{ client_first_name }}."):
        form = editor_form(console.get(EDITOR).text, body=words)
        done = console.post(EDITOR, data={**form, "action": "save"}, follow_redirects=False)
        assert done.status_code == 303

    kept = sorted((practice.folder / "templates" / ".history" / "en").iterdir())
    assert len(kept) == 2
    assert "First try" in kept[1].read_text("utf-8") or "First try" in kept[0].read_text("utf-8")
    assert reminder_file(practice).read_text("utf-8").startswith("Second try")


def test_a_write_that_fails_midway_leaves_the_old_notice_whole(
    console: TestClient, practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = reminder_file(practice).read_text("utf-8")
    form = editor_form(console.get(EDITOR).text, body=NEW_WORDS)

    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device", target)

    monkeypatch.setattr("worker.notices.editing.os.replace", disk_full)
    page = console.post(EDITOR, data={**form, "action": "save"}, follow_redirects=False)

    assert page.status_code == 422
    assert "Not saved: No space left on device" in page.text
    assert reminder_file(practice).read_text("utf-8") == before
    assert not list(reminder_file(practice).parent.glob(".*.tmp"))


def test_a_save_refuses_when_the_file_changed_since_the_editor_opened(
    console: TestClient, practice: Practice
) -> None:
    form = editor_form(console.get(EDITOR).text, body=NEW_WORDS)
    reminder_file(practice).write_text("Edited over SSH meanwhile.\n", "utf-8")

    page = console.post(EDITOR, data={**form, "action": "save"}, follow_redirects=False)

    assert page.status_code == 422
    assert "changed on disk since you opened it" in page.text
    assert reminder_file(practice).read_text("utf-8") == "Edited over SSH meanwhile.\n"


def test_the_preview_document_cannot_run_script_and_escapes_what_is_typed(
    console: TestClient,
) -> None:
    form = editor_form(
        console.get(EDITOR).text, body='<script>alert(1)</script> "><img src=x onerror=alert(2)>'
    )

    page = console.post(EDITOR, data={**form, "action": "preview"})
    document = console.get(frame_of(page.text))

    assert document.status_code == 200
    policy = document.headers["content-security-policy"]
    assert policy == NOTICE_POLICY
    assert policy.startswith("sandbox;")
    assert "script-src" not in policy
    assert document.headers["x-frame-options"] == "SAMEORIGIN"
    assert "<script" not in document.text
    assert "<img" not in document.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document.text
    assert "<script>alert" not in page.text


def test_an_unknown_preview_is_gone_and_still_sandboxed(console: TestClient) -> None:
    document = console.get("/notices/frame/not-a-token")

    assert document.status_code == 404
    assert document.headers["content-security-policy"] == NOTICE_POLICY


@pytest.mark.parametrize("action", ["save", "preview", "test"])
def test_a_post_without_the_csrf_token_is_refused(
    console: TestClient, practice: Practice, action: str
) -> None:
    before = reminder_file(practice).read_text("utf-8")
    form = editor_form(console.get(EDITOR).text, body=NEW_WORDS)
    del form["csrf"]

    page = console.post(EDITOR, data={**form, "action": action})

    assert page.status_code == 403
    assert reminder_file(practice).read_text("utf-8") == before
    assert not list(practice.outbox.glob("FW-TEST-*.eml"))


def test_the_live_preview_without_the_csrf_header_is_refused(console: TestClient) -> None:
    form = editor_form(console.get(EDITOR).text, body=NEW_WORDS)
    del form["csrf"]

    assert console.post(f"{EDITOR}/live", data=form).status_code == 403
    assert (
        console.post(f"{EDITOR}/live", data=form, headers={"X-CSRF-Token": "x"}).status_code == 403
    )


def test_a_test_to_dana_lands_in_the_file_outbox_marked_test(
    console: TestClient, practice: Practice
) -> None:
    form = editor_form(console.get("/notices/forfeit/es").text)
    form["body"] = "Sesión perdida, {{ client_first_name }}.\n\n" + form["body"]

    page = console.post("/notices/forfeit/es", data={**form, "action": "test"})

    assert page.status_code == 200
    [eml] = practice.outbox.glob("FW-TEST-*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=email_policy.default)
    assert message["Subject"].startswith("[test] ")
    assert message["To"].addresses[0].addr_spec == practice_email(console)
    assert "Sesión perdida" in message.get_body(preferencelist=("plain",)).get_content()
    assert f"was written to {eml} (account main writes notices to files)" in page.text
    assert "Sesión perdida, {{ client_first_name }}." in page.text, "the draft is still there"
    assert not (practice.folder / "templates" / "es").exists(), "a test saves nothing"


def practice_email(console: TestClient) -> str:
    config: Config = console.app.state.console.config  # type: ignore[attr-defined]
    return config.practitioner.email


def test_an_unknown_notice_is_not_found(console: TestClient) -> None:
    assert console.get("/notices/invoice/en").status_code == 404
    assert console.get("/notices/reminder/fr").status_code == 404


def test_without_a_templates_folder_saving_says_what_to_set(
    config: Config, practice: Practice
) -> None:
    packaged_only = config.model_copy(update={"templates_dir": None})
    app = build_console(packaged_only, clock=lambda: datetime.now(UTC), config_path=practice.config)
    with TestClient(app, base_url="http://127.0.0.1:8465") as client:
        log_in(client)
        form = editor_form(client.get(EDITOR).text, body=NEW_WORDS)

        page = client.post(EDITOR, data={**form, "action": "save"}, follow_redirects=False)

    assert page.status_code == 422
    said = html.unescape(page.text)
    assert f'Add templates_dir = "templates" at the top of {practice.config}' in said
    assert 'Not saved: no templates folder is configured: add templates_dir = "templates"' in said
