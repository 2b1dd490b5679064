"""The `fairwarning` command end to end: the installed console script on a practice in tmp_path.

Every test runs the real script (the one pip installed next to this Python) with HOME and the
XDG folders pointed into tmp_path, on a demo-like practice: Dana's configuration in auto mode
with no hold, her calendar as a folder of .ics files, and a file sender writing .eml files
(tests/cli/practice.py; the fixtures are in tests/cli/conftest.py).
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.cli.practice import ALEX, LUCIA, PRIYA, SAM, Practice, Run
from worker.cli.demo import write_config


def test_init_writes_a_commented_config_and_the_templates_in_the_xdg_folder(
    fairwarning: Run, env: dict[str, str]
) -> None:
    done = fairwarning("init")

    assert done.returncode == 0, done.stderr
    folder = Path(env["XDG_CONFIG_HOME"]) / "fairwarning"
    config = folder / "config.toml"
    assert f"wrote {config}" in done.stdout
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# Fair Warning configuration.")
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 10
    parsed = tomllib.loads(text)
    assert parsed["policy"]["mode"] == "review", "a new practice starts by reviewing every notice"
    assert parsed["practitioner"]["email"] == "you@example.com"
    for language in ("en", "es"):
        for name in ("reminder.md.j2", "reminder.subject.j2", "forfeit.md.j2"):
            template = folder / "templates" / language / name
            assert template.stat().st_size > 0
            assert f"wrote {template}" in done.stdout


def test_init_never_overwrites_what_the_practitioner_edited(
    fairwarning: Run, env: dict[str, str]
) -> None:
    assert fairwarning("init").returncode == 0
    folder = Path(env["XDG_CONFIG_HOME"]) / "fairwarning"
    config = folder / "config.toml"
    template = folder / "templates" / "en" / "reminder.md.j2"
    config.write_text(config.read_text(encoding="utf-8").replace("Your Name", "Dana Rivera"))
    template.write_text("Hi {{ client_first_name }}, my own words.\n", encoding="utf-8")

    again = fairwarning("init")

    assert again.returncode == 0, again.stderr
    assert f"kept {config} (already exists)" in again.stdout
    assert f"kept {template}" in again.stdout
    assert "wrote" not in again.stdout
    assert 'name = "Dana Rivera"' in config.read_text(encoding="utf-8")
    assert template.read_text(encoding="utf-8") == "Hi {{ client_first_name }}, my own words.\n"


# --- check --------------------------------------------------------------------------------


@pytest.fixture
def starter(fairwarning: Run, env: dict[str, str]) -> Path:
    """The config `init` writes, its placeholders filled in, its (empty) calendar folder made."""
    assert fairwarning("init").returncode == 0
    folder = Path(env["XDG_CONFIG_HOME"]) / "fairwarning"
    (folder / "calendar").mkdir()
    path = folder / "config.toml"
    text = path.read_text(encoding="utf-8")
    for placeholder, mine in (
        ("Your Name", "Dana Rivera"),
        ("you@example.com", "dana@riveracoaching.example"),
        ("client@example.org", "sam@example.org"),
    ):
        text = text.replace(placeholder, mine)
    path.write_text(text, encoding="utf-8")
    return path


def test_check_names_each_placeholder_left_from_init(fairwarning: Run, env: dict[str, str]) -> None:
    assert fairwarning("init").returncode == 0

    done = fairwarning("check")

    assert done.returncode == 1
    placeholders = re.findall(r"^problem: line \d+, ([\w.]+): .*placeholder", done.stdout, re.M)
    samples = re.findall(r"^problem: line \d+, ([\w.]+): .*sample client", done.stdout, re.M)
    assert placeholders + samples == [
        "practitioner.name",
        "practitioner.email",
        "practitioner.signature",
        "clients.0.email",
    ]


def test_check_passes_on_the_starter_config(fairwarning: Run, starter: Path) -> None:
    done = fairwarning("check")

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok: {starter} and all templates check out" in done.stdout
    assert "problem" not in done.stdout + done.stderr


def test_check_names_the_template_file_and_line_of_a_syntax_error(
    fairwarning: Run, starter: Path
) -> None:
    broken = starter.parent / "templates" / "es" / "forfeit.txt.j2"
    broken.write_text("Hola {{ client_first_name }}:\n\nTu sesión {{ session_title \n")

    done = fairwarning("check")

    assert done.returncode == 1, done.stdout + done.stderr
    (problem,) = [line for line in done.stdout.splitlines() if line.startswith("problem:")]
    assert "template es/forfeit" in problem
    assert f"{broken}, line 3" in problem
    assert "syntax error" in problem


def test_check_lists_every_config_problem_with_its_key_path(
    fairwarning: Run, starter: Path
) -> None:
    text = starter.read_text(encoding="utf-8")
    text = text.replace('late_window = "24h"', 'late_window = "a day"')
    text = text.replace('mode = "review"', 'mode = "sometimes"')
    text = text.replace('time_zone = "Europe/London"  ', 'time_zone = "Europe/Londres"')
    starter.write_text(text, encoding="utf-8")
    late_window_line = next(
        n for n, line in enumerate(text.splitlines(), 1) if line.startswith("late_window")
    )

    done = fairwarning("check")

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert f"{starter}: 3 problem(s)" in done.stderr
    assert f"line {late_window_line}, policy.late_window: 'a day' is not a duration" in done.stderr
    assert "policy.mode: Input should be 'auto', 'review', 'drafts' or 'dry-run'" in done.stderr
    assert "practitioner.time_zone: 'Europe/Londres' is not a time zone" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_only_warns_about_an_unknown_key_and_names_it(
    fairwarning: Run, starter: Path
) -> None:
    text = starter.read_text(encoding="utf-8")
    starter.write_text(text.replace("[policy]\n", "[policy]\nlate_windw = '12h'\n"))

    done = fairwarning("check")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "unknown key 'policy.late_windw' ignored" in done.stderr
    assert "ok:" in done.stdout


def test_a_missing_config_says_to_run_init(fairwarning: Run, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.toml"

    for command in (["check"], ["run", "--once"], ["status"]):
        done = fairwarning("--config", missing, *command)

        assert done.returncode == 2, command
        assert f"no configuration at {missing}" in done.stderr
        assert "`fairwarning init`" in done.stderr
        assert "Traceback" not in done.stderr
    assert not missing.parent.exists(), "a missing config must not be created as a side effect"


def test_config_schema_is_json_describing_the_practitioner(fairwarning: Run) -> None:
    done = fairwarning("config", "schema")

    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert "practitioner" in schema["properties"]
    assert "practitioner" in schema["required"]
    policy = schema["$defs"]["Policy"]["properties"]
    assert policy["late_window"]["type"] == "string"
    assert policy["late_window"]["description"]


# --- run --once ---------------------------------------------------------------------------


def test_a_late_decline_sends_exactly_one_reminder_to_that_client(practice: Practice) -> None:
    practice.client_acts(SAM)

    done = practice.cycle()

    notices = practice.notices()
    assert len(notices) == 1, sorted(notices)
    ((name, message),) = notices.items()
    case = practice.case_of(SAM.client)
    assert case["verdict"] == "reminder"
    assert message["X-Fair-Warning-Ref"] == case["ref"]
    assert name == f"{case['ref']}.eml"
    assert message["To"].addresses[0].addr_spec == "sam.taylor@example.org"
    assert message["To"].addresses[0].display_name == "Sam Taylor"
    assert message["From"].addresses[0].addr_spec == "dana@riveracoaching.example"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Hi Sam," in text
    assert "our session on" in text
    assert "Sessions cancelled or rescheduled with less than 24 hours' notice" in text
    assert (practice.outbox / name).with_suffix(".html").exists()
    assert f"{case['ref']} written to" in " ".join(done.stdout.split()), "a file, not mail"
    assert f"reminder {case['ref']} written to {practice.outbox / name}" in done.stderr


def test_running_again_sends_nothing_new(practice: Practice) -> None:
    practice.client_acts(SAM)
    practice.cycle()
    first = {name: path.read_bytes() for name, path in _files(practice.outbox)}

    again = practice.cycle()
    third = practice.cycle()

    assert {name: path.read_bytes() for name, path in _files(practice.outbox)} == first
    assert "FW-" not in again.stdout + third.stdout
    assert [c["client_email"] for c in practice.history()] == [SAM.client]


def _files(folder: Path) -> list[tuple[str, Path]]:
    return [(path.name, path) for path in sorted(folder.iterdir())]


def test_history_json_lists_the_case_with_its_reasons(practice: Practice) -> None:
    practice.client_acts(SAM)
    practice.client_acts(LUCIA)
    practice.cycle()

    sam = practice.case_of(SAM.client)
    assert sam["verdict"] == "reminder"
    assert sam["fact"] == "declined"
    assert sam["title"] == "Coaching: Sam Taylor"
    assert sam["notice_state"] == "sent"
    reasons = sam["reasons"]
    assert any("inside the 24 h late window" in r for r in reasons)
    assert "the client declined the invitation" in reasons
    assert "1st late cancellation in the last 365 days" in reasons
    only_lucia = practice("history", "--client", "Lucia.Fernandez@example.org", "--json")
    assert [c["client_email"] for c in json.loads(only_lucia.stdout)] == [LUCIA.client]
    spanish = practice.notices()[f"{practice.case_of(LUCIA.client)['ref']}.eml"]
    assert spanish["Subject"].startswith("Un recordatorio amable")


# --- review, approve, waive, status -------------------------------------------------------


def test_a_decline_mentioning_hospital_waits_for_review_and_approval_sends_it(
    practice: Practice,
) -> None:
    practice.client_acts(PRIYA)
    practice.cycle(expect=1)
    assert practice.notices() == {}
    case = practice.case_of(PRIYA.client)
    assert case["verdict"] == "review"
    assert case["status"] == "open"

    review = practice("review")
    assert review.returncode == 1, review.stderr
    assert PRIYA.client in review.stdout
    assert "hospital" in review.stdout
    assert "fairwarning approve ID" in review.stdout

    approved = practice("approve", str(case["id"]))
    assert approved.returncode == 0, approved.stderr
    assert f"to {PRIYA.client} will be written to {practice.outbox} when you next run" in (
        " ".join(approved.stdout.split())
    )
    assert practice.notices() == {}, "approving queues the notice; the worker sends it"

    practice.cycle()
    ((name, message),) = practice.notices().items()
    assert message["To"].addresses[0].addr_spec == PRIYA.client
    after = practice.case_of(PRIYA.client)
    assert after["status"] == "approved"
    assert after["notice_state"] == "sent"
    assert name == f"{after['ref']}.eml"
    assert practice("review").stdout.strip() == "Nothing needs you."


def test_waiving_a_case_takes_it_out_of_review_and_sends_nothing(practice: Practice) -> None:
    practice.client_acts(ALEX)
    practice.cycle(expect=1)
    case = practice.case_of(ALEX.client)
    assert case["verdict"] == "review"
    why = "you deleted or cancelled this session yourself, so it waits for your review"
    assert why in case["reasons"]
    assert ALEX.client in practice("review").stdout

    waived = practice("waive", str(case["id"]), "--reason", "I moved it for my dentist")

    assert waived.returncode == 0, waived.stderr
    assert f"case {case['id']} waived" in waived.stdout
    review = practice("review")
    assert review.returncode == 0
    assert ALEX.client not in review.stdout
    after = practice.case_of(ALEX.client)
    assert after["status"] == "waived"
    assert after["note"] == "I moved it for my dentist"
    practice.cycle()
    assert practice.notices() == {}


def test_status_exits_1_while_a_case_waits_and_0_once_nothing_does(practice: Practice) -> None:
    calm = practice("status")
    assert calm.returncode == 0, calm.stdout + calm.stderr
    assert "account main: ok, last sync" in calm.stdout

    practice.client_acts(PRIYA)
    practice.client_acts(SAM)
    practice.cycle(expect=1)
    case = practice.case_of(PRIYA.client)

    waiting = practice("status")
    assert waiting.returncode == 1
    assert f"waiting for you: cases {case['id']}" in waiting.stdout
    assert "1 written to files" in waiting.stdout, "the file sender mails nothing"
    as_json = practice("status", "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["needs_you"] is True
    assert report["waiting_for_you"] == [case["id"]]
    # The notes before Jordan's and Sam's later sessions wait for their time, 48 hours ahead.
    assert report["notices"] == {"sent": 1, "queued": 2}
    assert [a["name"] for a in report["accounts"]] == ["main"]
    assert report["accounts"][0]["stale"] is False

    practice("waive", str(case["id"]), "--reason", "she was in hospital")
    done = practice("status", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["needs_you"] is False


# --- preview ------------------------------------------------------------------------------


def test_preview_in_spanish_prints_the_message_and_writes_the_html(
    practice: Practice, tmp_path: Path
) -> None:
    html = tmp_path / "reminder-es.html"

    done = practice("preview", "reminder", "--lang", "es", "--html", html)

    assert done.returncode == 0, done.stderr
    assert "From: Dana Rivera <dana@riveracoaching.example>" in done.stdout
    assert "Subject: Un recordatorio amable sobre nuestra sesión" in done.stdout
    assert "Solo quiero recordarte mi política de cancelación" in done.stdout
    assert "https://riveracoaching.example/book" in done.stdout
    assert f"HTML written to {html}" in done.stdout
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="es">' in page
    assert "política de cancelación" in page
    assert practice.notices() == {}, "a preview is never sent"


def test_preview_for_a_directory_client_uses_their_name_address_and_language(
    practice: Practice,
) -> None:
    done = practice("preview", "forfeit", "--client", LUCIA.client)

    assert done.returncode == 0, done.stderr
    assert f"To: Lucía Fernández <{LUCIA.client}>" in done.stdout
    assert "Hola, Lucía:" in done.stdout
    assert "se da por perdida" in done.stdout


def test_preview_for_an_unknown_client_names_the_address(practice: Practice) -> None:
    done = practice("preview", "forfeit", "--client", "unknown@x")

    assert done.returncode == 2
    assert "unknown@x is not in the client directory" in done.stderr
    assert done.stdout == ""


def test_preview_html_into_a_missing_folder_says_so_without_a_traceback(
    practice: Practice, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "reminder.html"

    done = practice("preview", "reminder", "--html", target)

    assert done.returncode == 2
    assert str(target) in done.stderr
    assert "Traceback" not in done.stderr


# --- known bugs ---------------------------------------------------------------------------


def test_check_gives_the_line_of_the_client_entry_that_is_wrong(
    fairwarning: Run, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "practice")
    (tmp_path / "practice" / "calendar").mkdir()
    text = config.read_text(encoding="utf-8")
    text = text.replace('name = "Priya Shah"\n', 'name = "Priya Shah"\nprepaid_balance = -1\n')
    config.write_text(text, encoding="utf-8")
    wrong = text.splitlines().index("prepaid_balance = -1") + 1

    done = fairwarning("--config", config, "check")

    assert done.returncode == 2
    assert f"line {wrong}, clients.2.prepaid_balance: Input should be greater than" in done.stderr


def test_a_session_title_in_brackets_is_shown_as_written(practice: Practice) -> None:
    online = dataclasses.replace(SAM, title="[online] Coaching: Sam Taylor")
    practice.retitle(online)
    practice.client_acts(online)

    cycle = practice.cycle()
    history = practice("history")

    assert practice.case_of(SAM.client)["title"] == "[online] Coaching: Sam Taylor"
    assert "[online]" in cycle.stdout
    assert "[online]" in history.stdout


def test_a_session_title_with_a_closing_bracket_tag_does_not_break_history(
    practice: Practice,
) -> None:
    odd = dataclasses.replace(SAM, title="Coaching [/] Sam Taylor")
    practice.retitle(odd)
    practice.client_acts(odd)

    cycle = practice("run", "--once")
    history = practice("history")

    assert practice.case_of(SAM.client)["title"] == "Coaching [/] Sam Taylor"
    assert cycle.returncode == 0, cycle.stderr
    assert history.returncode == 0, history.stderr
    assert "[/]" in history.stdout


def test_status_before_the_first_cycle_says_the_worker_is_not_running(
    fairwarning: Run, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "practice")

    done = fairwarning("--config", config, "status", "--json")

    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["health"] == "broken"
    assert report["heartbeat"] is None
    assert [a["name"] for a in report["accounts"]] == ["main"]
    assert report["accounts"][0]["stale"] is True
    text = fairwarning("--config", config, "status")
    assert "the worker has not run recently (last heartbeat: never)" in text.stdout
    assert "never synced" in text.stdout
