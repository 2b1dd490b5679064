"""`fairwarning check` on the courtesy notices: each bad input named with its key and fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from worker.cli.courtesy_checks import courtesy_problems
from worker.config import Config

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def config(tmp_path: Path, sender: dict[str, Any], **policy: Any) -> Config:
    document = tmp_path / "agreement.pdf"
    return Config.model_validate(
        {
            "practitioner": {
                "name": "Dana",
                "email": "dana@example.org",
                "policy_document": str(document),
            },
            "policy": policy,
            "accounts": [
                {"name": "main", "calendar": {"provider": "microsoft"}, "sender": sender},
            ],
            "templates_dir": str(tmp_path / "templates"),
            "state_dir": str(tmp_path / "state"),
        }
    )


def test_a_document_too_big_for_outlooks_sendmail_is_named_before_a_welcome_fails(
    tmp_path: Path,
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "agreement.pdf").write_bytes(b"%PDF" + b"0" * (4 * 1024 * 1024))
    outlook = config(tmp_path, {"provider": "outlook"}, welcome=True)
    files = config(tmp_path, {"provider": "file", "folder": str(tmp_path)}, welcome=True)

    assert courtesy_problems(outlook, NOW, "") == [
        f"practitioner.policy_document: {tmp_path / 'agreement.pdf'} is over 3 MB, more than "
        "Microsoft's sendMail takes with a message; save a smaller version (a PDF with "
        "compressed images)"
    ]
    assert courtesy_problems(files, NOW, "") == []


def test_a_language_of_your_own_needs_the_welcome_once_it_is_on(tmp_path: Path) -> None:
    french = tmp_path / "templates" / "fr"
    french.mkdir(parents=True)
    for name in ("reminder", "forfeit"):
        (french / f"{name}.md.j2").write_text("Bonjour,\n", encoding="utf-8")
        (french / f"{name}.subject.j2").write_text("Votre séance\n", encoding="utf-8")
    (tmp_path / "agreement.pdf").write_bytes(b"%PDF")
    sender = {"provider": "file", "folder": str(tmp_path)}

    assert courtesy_problems(config(tmp_path, sender), NOW, "") == []
    [problem] = courtesy_problems(config(tmp_path, sender, welcome=True), NOW, "")
    assert problem.startswith("template fr/welcome: missing template file fr/welcome.")


def test_notes_that_would_come_too_late_are_named_with_a_better_value(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "agreement.pdf").write_bytes(b"%PDF")
    sender = {"provider": "file", "folder": str(tmp_path)}
    text = '[policy]\nsession_reminder = "12h"\n'

    problems = courtesy_problems(config(tmp_path, sender, session_reminder="12h"), NOW, text)

    assert problems == [
        "line 2, policy.session_reminder: '12h' is not longer than policy.late_window ('24h'): "
        "the note says until when the session can be moved free of charge, and that moment "
        "would already have passed; use more, e.g. '48h'"
    ]
