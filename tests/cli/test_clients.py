"""`welcome`, `close-client`, `reopen-client`, and notices approved or waived by reference,
through the installed script on Dana's demo practice (welcome on, notes 48 hours ahead)."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.cli.practice import SAM, Practice, session
from worker.cli.checks import check_all
from worker.config import load_config

NOOR = session("noor-1")  # a new client's first booking, 30 hours ahead


def today(practice: Practice) -> str:
    return practice.now.astimezone(ZoneInfo("Europe/London")).date().isoformat()


def later(practice: Practice, days: int) -> str:
    moment = practice.now.astimezone(ZoneInfo("Europe/London")) + timedelta(days=days)
    return moment.date().isoformat()


def outbox(practice: Practice) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(practice.database)
    try:
        rows = db.execute("SELECT kind, client_email, state FROM outbox ORDER BY id").fetchall()
    finally:
        db.close()
    return [(str(k), str(c), str(s)) for k, c, s in rows]


def edit_config(practice: Practice, old: str, new: str) -> None:
    text = practice.config.read_text(encoding="utf-8")
    assert old in text, old
    practice.config.write_text(text.replace(old, new), encoding="utf-8")


def test_close_client_previews_then_sends_once_and_later_cancellations_are_not_judged(
    practice: Practice,
) -> None:
    effective = later(practice, 14)
    asked = ("close-client", SAM.client, "--reason", "repeated last-minute cancellations")
    preview = practice(*asked, "--effective", effective, "--outstanding", "the May invoice")
    assert preview.returncode == 0, preview.stderr
    assert "Subject: The end of our working relationship" in preview.stdout
    assert "Dear Sam," in preview.stdout
    assert "repeated last-minute cancellations" in preview.stdout
    assert "the May invoice" in preview.stdout
    assert "Not sent (FW-" in preview.stdout
    before = [row for row in outbox(practice) if row[0] == "closure"]
    assert before == [], "a preview sends and records nothing"

    sent = practice(*asked, "--effective", effective, "--send")
    assert sent.returncode == 0, sent.stderr
    assert f"the closure notice to {SAM.client} (FW-" in sent.stdout
    practice.cycle()
    closure = [m for m in practice.notices().values() if "working relationship" in m["Subject"]]
    assert len(closure) == 1
    again = practice(*asked, "--effective", effective, "--send")
    assert again.returncode == 2
    assert "you already ended the working relationship with sam.taylor@example.org" in (
        again.stderr
    )

    practice.client_acts(SAM)  # Sam declines late after all
    practice.cycle()
    case = practice.case_of(SAM.client)
    assert case["verdict"] == "ignore"
    assert "you ended the working relationship on" in case["reasons"][-1]
    assert len(practice.notices()) == 1, "no reminder"
    history = practice("history", "--client", SAM.client).stdout
    assert f"{SAM.client}: you ended the working relationship on {effective}" in history


def test_a_close_date_in_the_past_or_badly_written_is_refused_with_the_fix(
    practice: Practice,
) -> None:
    asked = ("close-client", SAM.client, "--reason", "moving on")
    past = practice(*asked, "--effective", "2020-01-31")
    assert past.returncode == 2
    assert past.stderr.strip() == (
        f"fairwarning: --effective 2020-01-31 is in the past (today is {today(practice)}); "
        "give today's date or a later one, written YYYY-MM-DD"
    )
    badly = practice(*asked, "--effective", "31/01/2030")
    assert badly.returncode == 2
    assert "'31/01/2030' does not match the format '%Y-%m-%d'" in badly.stderr


def test_welcome_previews_with_the_agreement_and_sends_by_hand_once(practice: Practice) -> None:
    preview = practice("welcome", SAM.client)
    assert preview.returncode == 0, preview.stderr
    assert "Subject: Welcome, and a few words on how I work" in preview.stdout
    assert "Sessions are prepaid and set aside for you alone." in preview.stdout
    assert "attached: cancellation-policy.pdf (application/pdf, 1 KB)" in preview.stdout

    sent = practice("welcome", SAM.client, "--send")
    assert sent.returncode == 0, sent.stderr
    practice.cycle()
    again = practice("welcome", SAM.client, "--send")
    assert again.returncode == 2
    assert "the welcome was already sent to sam.taylor@example.org on" in again.stderr
    history = practice("history", "--client", SAM.client)
    assert history.returncode == 0, history.stderr
    assert f"welcome to {SAM.client} · sent" in history.stdout


def test_in_review_mode_a_welcome_waits_and_is_approved_by_its_reference(
    practice: Practice,
) -> None:
    edit_config(practice, 'mode = "auto"', 'mode = "review"')
    practice.client_acts(NOOR)
    practice.cycle(expect=1)
    [welcome] = [row for row in outbox(practice) if row[0] == "welcome"]
    assert welcome == ("welcome", NOOR.client, "review")

    review = practice("review")
    assert review.returncode == 1
    assert f"welcome to {NOOR.client}" in review.stdout
    [ref] = re.findall(rf"(FW-[0-9A-F]{{12}})  welcome to {NOOR.client}", review.stdout)
    status = json.loads(practice("status", "--json").stdout)
    assert f"welcome {ref} (review)" in status["notices_waiting_for_you"]

    approved = practice("approve", ref)
    assert approved.returncode == 0, approved.stderr
    assert f"the welcome to {NOOR.client} ({ref}) will be sent on the next cycle" in (
        approved.stdout
    )
    practice.cycle(expect=1)  # the note before Noor's session still waits for approval
    assert f"{ref}.eml" in practice.notices()
    waived = practice("waive", ref)
    assert waived.returncode == 2
    assert "was already sent" in waived.stderr
    nonsense = practice("approve", "twelve")
    assert nonsense.returncode == 2
    assert "neither a case number nor a notice reference (FW-…)" in nonsense.stderr


def test_check_names_the_bad_inputs_of_the_courtesy_notices(practice: Practice) -> None:
    effective = today(practice)
    done = practice("close-client", SAM.client, "--reason", "x", "--effective", effective, "--send")
    assert done.returncode == 0, done.stderr
    practice.cycle()
    edit_config(practice, 'session_reminder = "48h"', 'session_reminder = "5m"\nhold = "10m"')
    edit_config(practice, 'hold = "0m"\n', "")
    (practice.folder / "cancellation-policy.pdf").unlink()
    config, _ = load_config(practice.config)

    problems = check_all(config, datetime.now(ZoneInfo("UTC")), practice.config)

    text = practice.config.read_text(encoding="utf-8").splitlines()
    document_line = next(n for n, line in enumerate(text, 1) if "policy_document" in line)
    missing = practice.folder / "cancellation-policy.pdf"
    assert (
        f"line {document_line}, practitioner.policy_document: {missing} does not exist; correct "
        "the path (a relative one is relative to the config file) or remove the key"
    ) in problems
    note_line = next(n for n, line in enumerate(text, 1) if "session_reminder" in line)
    assert (
        f"line {note_line}, policy.session_reminder: '5m' is not longer than policy.hold "
        "('10m'): the note would still be waiting out the hold when it is due; use more, "
        "e.g. '48h'"
    ) in problems
    assert any(
        p.startswith(
            f"line {note_line}, policy.session_reminder: '5m' is not longer than policy.late_window"
        )
        for p in problems
    )
    booked = [p for p in problems if p.startswith(f"{SAM.client}: you ended")]
    assert booked, "Sam is still booked after the closure took effect"
    assert f"`fairwarning reopen-client {SAM.client}`" in booked[0]

    reopened = practice("reopen-client", SAM.client)
    assert reopened.returncode == 0, reopened.stderr
    assert "their cancellations are judged again" in reopened.stdout


def test_a_command_for_a_practice_with_several_accounts_asks_which_one(
    practice: Practice, tmp_path: Path
) -> None:
    text = practice.config.read_text(encoding="utf-8")
    block = text[text.index("[[accounts]]") : text.index("[[clients]]")]
    practice.config.write_text(
        text.replace(block, block + block.replace('name = "main"', 'name = "clinic"')),
        encoding="utf-8",
    )
    done = practice("welcome", "someone.new@example.org")
    assert done.returncode == 2
    assert "you have several accounts (main, clinic): choose the one whose mailbox sends it" in (
        done.stderr
    )
    chosen = practice("welcome", "someone.new@example.org", "--account", "clinic")
    assert chosen.returncode == 0, chosen.stderr


def test_preview_shows_each_courtesy_notice_with_sample_details(practice: Practice) -> None:
    welcome = practice("preview", "welcome", "--lang", "es")
    assert welcome.returncode == 0, welcome.stderr
    assert "Subject: Bienvenida, y unas palabras sobre cómo trabajo" in welcome.stdout
    assert "attached: cancellation-policy.pdf (application/pdf)" in welcome.stdout
    note = practice("preview", "session_reminder", "--client", SAM.client)
    assert note.returncode == 0, note.stderr
    assert "free of charge until" in note.stdout
    closure = practice("preview", "closure")
    assert "Subject: The end of our working relationship" in closure.stdout
