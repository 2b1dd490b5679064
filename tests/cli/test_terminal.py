"""The terminal tells the truth, readably: the installed script on Dana's practice.

Nothing that reached no client is called "sent"; `review`, `history` and `status` show times in
Dana's zone (Europe/London) with its abbreviation and fit an 80-column terminal and a 40-column
phone; `status` after a `run --once` says when it ran and that no service is running; `approve`
says when the notice will really go out; the demo's closing commands work when pasted.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from tests.cli.practice import ALEX, FAIRWARNING, PRIYA, SAM, Practice, Run, runner
from tests.practice import Practice as MemoryPractice
from worker.cli.main import this_command
from worker.cli.reports import Reader, cases_table, print_records
from worker.service.times import local_clock, local_time
from worker.store import views
from worker.web.keys import check_password

LONDON = ZoneInfo("Europe/London")


def _set_policy(practice: Practice, line: str) -> None:
    """Add `line` to the [policy] table of Dana's config."""
    text = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(text.replace('hold = "0m"\n', f'hold = "0m"\n{line}\n'))


def _narrow(env: dict[str, str], practice: Practice, columns: int) -> Run:
    """Runs the script on Dana's practice in a terminal `columns` wide (rich reads COLUMNS)."""
    run = runner({**env, "COLUMNS": str(columns)})
    return lambda *args: run("--config", practice.config, *args)


def _widest(text: str) -> int:
    # `needs you:` lines stay whole whatever the width: scripts look for them.
    lines = [line for line in text.splitlines() if not line.startswith("needs you: ")]
    return max((len(line) for line in lines), default=0)


def _flat(text: str) -> str:
    """The words of `text` without the line breaks and padding a narrow layout adds."""
    return " ".join(text.split())


def _shown(moment: datetime) -> str:
    """How the terminal should show `moment` to Dana, worked out independently of the code."""
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


# --- "sent" only for what was mailed --------------------------------------------------------


def test_the_file_sender_says_written_to_the_file_never_sent(
    practice: Practice, env: dict[str, str]
) -> None:
    practice.client_acts(SAM)

    done = _narrow(env, practice, 119)("run", "--once")

    assert done.returncode == 0, done.stdout + done.stderr
    ref = practice.case_of(SAM.client)["ref"]
    eml = practice.outbox / f"{ref}.eml"
    assert eml.exists()
    assert f"{ref} written to {eml}" in _flat(done.stdout)
    assert f"reminder {ref} written to {eml}" in done.stderr, "the log line says it too"
    assert f"{ref} sent" not in done.stdout + done.stderr
    history = _narrow(env, practice, 119)("history")
    assert f"reminder {ref} written to {eml}" in _flat(history.stdout)
    assert "dry-run" not in history.stdout
    assert practice.case_of(SAM.client)["notice_state"] == "sent", "--json keeps the state"


def test_dry_run_says_would_send_and_history_says_it_was_not_sent(
    practice: Practice, env: dict[str, str]
) -> None:
    text = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(text.replace('mode = "auto"', 'mode = "dry-run"'))
    practice.client_acts(SAM)

    done = _narrow(env, practice, 119)("run", "--once")

    assert done.returncode == 0, done.stdout + done.stderr
    ref = practice.case_of(SAM.client)["ref"]
    eml = practice.state / "dry-run" / "main" / f"{ref}.eml"
    assert eml.exists()
    assert practice.notices() == {}, "a dry run writes nothing to the real outbox"
    assert f"{ref} would send (dry-run): written to {eml}" in _flat(done.stdout)
    assert f"{ref} would send (dry-run)" in done.stderr
    assert f"{ref} sent" not in done.stdout + done.stderr
    history = _narrow(env, practice, 119)("history")
    assert f"dry-run, not sent: written to {eml}" in _flat(history.stdout)
    status = _narrow(env, practice, 200)("status")
    [counts] = [line for line in status.stdout.splitlines() if line.startswith("notices: ")]
    assert "1 written to files" in counts
    assert not re.search(r"\d sent\b", counts), counts


# --- times in Dana's zone, tables that fit --------------------------------------------------


@pytest.mark.parametrize("columns", [40, 80])
def test_review_history_and_status_fit_the_terminal(
    practice: Practice, env: dict[str, str], columns: int
) -> None:
    for demo_session in (SAM, PRIYA, ALEX):
        practice.client_acts(demo_session)
    fairwarning = _narrow(env, practice, columns)

    cycle = fairwarning("run", "--once")
    review = fairwarning("review")
    history = fairwarning("history")
    status = fairwarning("status")

    assert (cycle.returncode, review.returncode, status.returncode) == (1, 1, 1)
    for done in (cycle, review, history, status):
        assert _widest(done.stdout) <= columns, done.stdout
    for client in (PRIYA.client, ALEX.client):
        assert client in review.stdout
    assert SAM.client in history.stdout
    assert "┏" not in review.stdout, "narrow terminals get one block per case, not a table"
    assert re.search(r"^case +\d+", review.stdout, re.M)


def test_a_wide_terminal_gets_a_table_no_wider_than_itself(
    practice: Practice, env: dict[str, str]
) -> None:
    practice.client_acts(PRIYA)
    practice.cycle(expect=1)

    review = _narrow(env, practice, 130)("review")

    assert "┏" in review.stdout
    assert _widest(review.stdout) <= 130
    assert PRIYA.client in review.stdout


def test_cases_show_times_in_the_practitioners_zone_with_its_abbreviation(
    practice: Practice, env: dict[str, str]
) -> None:
    practice.client_acts(PRIYA)
    practice.cycle(expect=1)
    case = practice.case_of(PRIYA.client)
    start = datetime.fromisoformat(case["start"])
    cancelled = datetime.fromisoformat(case["cancelled_at"])

    for command in ("review", "history"):
        shown = _narrow(env, practice, 200)(command).stdout
        assert _shown(start) in shown
        assert _shown(cancelled) in shown
        assert case["start"][:16].replace("T", " ") not in shown, "no raw UTC timestamps"
    listed = json.loads(practice("history", "--json").stdout)
    assert listed[0]["start"] == case["start"], "--json keeps UTC ISO text"
    assert listed[0]["start"].endswith("+00:00")


@pytest.mark.parametrize(
    ("now", "session_shown"),
    [
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "Mon 23 Nov 14:00 GMT"),
        (datetime(2027, 7, 5, 9, 0, tzinfo=UTC), "Mon 5 Jul 15:00 BST"),
    ],
    ids=["winter", "summer"],
)
def test_a_london_session_reads_gmt_in_winter_and_bst_in_summer(
    tmp_path: Path, now: datetime, session_shown: str
) -> None:
    memory = MemoryPractice(tmp_path)
    memory.clock.now = now
    memory.late_decline()  # a session 5 hours from now, declined at once
    page = StringIO()

    reader = Reader("Europe/London", now)
    records = cases_table(views.cases(memory.db), "History", reader)
    print_records(records, Console(file=page, width=80))

    assert session_shown in page.getvalue()
    assert local_time(now, "Europe/London") in page.getvalue(), "when it was cancelled"


def test_local_times_name_the_zone_and_the_year_only_when_it_is_another() -> None:
    winter = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)

    assert local_time(winter, "Europe/London", now=winter) == "Wed 2 Dec 08:00 GMT"
    assert local_time(summer, "Europe/London", now=winter) == "Wed 1 Jul 08:00 BST"
    assert local_time(winter, "Europe/London", now=summer.replace(year=2027)).endswith(
        "2 Dec 2026 08:00 GMT"
    )
    assert local_clock(winter, "Europe/London", winter - timedelta(hours=1)) == "08:00 GMT today"
    assert local_clock(winter, "Europe/London", winter - timedelta(hours=9)) == "08:00 GMT tomorrow"
    assert local_clock(winter, "America/New_York", winter - timedelta(days=3)) == (
        "Wed 2 Dec 03:00 EST"
    )


# --- status after run --once ---------------------------------------------------------------


@contextmanager
def _service_running(practice: Practice) -> Iterator[None]:
    """A service holds the state's lock, as `fairwarning run` does for as long as it runs."""
    handle = os.open(practice.state / "worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(handle)


def _beat(practice: Practice, ago: timedelta) -> datetime:
    moment = datetime.now(UTC) - ago
    (practice.state / "heartbeat").write_text(f"{moment.isoformat()}\n")
    return moment


def test_status_after_run_once_says_when_it_ran_and_that_no_service_runs(
    practice: Practice, env: dict[str, str]
) -> None:
    ran = _beat(practice, timedelta(minutes=3))

    done = _narrow(env, practice, 200)("status")

    assert done.returncode == 0, done.stdout
    said = _flat(done.stdout)
    assert said.startswith(f"last cycle 3 min ago ({_shown(ran)}); no service is running")
    assert "start it with `systemctl --user start fairwarning`" in said
    assert "or keep using `fairwarning run --once` account main: ok, last sync" in said
    assert "BROKEN" not in done.stdout
    assert "STALE" not in done.stdout
    assert "next poll" not in done.stdout, "with no service, no poll is coming"
    report = json.loads(practice("status", "--json").stdout)
    assert report["service_running"] is False
    assert report["not_running"] is False
    assert report["heartbeat"].endswith("+00:00"), "--json keeps UTC ISO text"


def test_status_exits_2_once_the_last_cycle_is_old_and_says_nothing_runs(
    practice: Practice, env: dict[str, str]
) -> None:
    ran = _beat(practice, timedelta(hours=2))

    done = _narrow(env, practice, 200)("status")

    assert done.returncode == 2, done.stdout
    assert _flat(done.stdout).startswith(
        f"NOT RUNNING: last cycle 2 h ago ({_shown(ran)}), and no service is running: start it"
    )
    assert "BROKEN" not in done.stdout


def test_status_with_a_service_running_says_so_and_when_it_will_poll(
    practice: Practice, env: dict[str, str]
) -> None:
    with _service_running(practice):
        done = _narrow(env, practice, 200)("status")
        report = json.loads(practice("status", "--json").stdout)
        _beat(practice, timedelta(hours=2))
        stuck = _narrow(env, practice, 200)("status")

    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("service running: last cycle ")
    assert "next poll" in done.stdout
    assert report["service_running"] is True
    assert stuck.returncode == 2
    assert stuck.stdout.startswith("BROKEN: a worker is running but its last cycle 2 h ago")


# --- approve says when -----------------------------------------------------------------------


def _quiet_now(practice: Practice) -> datetime:
    """Quiet hours from an hour ago to two hours ahead in Dana's zone; returns when they end."""
    local = datetime.now(LONDON)
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    _set_policy(practice, f'quiet_hours = {{ start = "{start:%H}:00", end = "{end:%H}:00" }}')
    return end.replace(minute=0, second=0, microsecond=0)


def test_approve_under_quiet_hours_says_when_the_notice_will_go_out(
    practice: Practice, env: dict[str, str]
) -> None:
    ends = _quiet_now(practice)
    practice.client_acts(PRIYA)
    practice.cycle(expect=1)
    case = practice.case_of(PRIYA.client)

    done = _narrow(env, practice, 300)("approve", str(case["id"]))

    assert done.returncode == 0, done.stderr
    day = "today" if ends.date() == datetime.now(LONDON).date() else "tomorrow"
    ref = practice.case_of(PRIYA.client)["ref"]
    assert done.stdout.strip() == (
        f"the reminder {ref} to {PRIYA.client} will be written to {practice.outbox} at "
        f"{ends:%H:%M} {ends.tzname()} {day} (quiet hours in Europe/London until then); no "
        "service is running, so it goes with your first `fairwarning run --once` after that"
    )
    practice.cycle()
    assert practice.notices() == {}, "quiet hours hold it, as approve said"


def test_approve_with_the_service_running_says_the_next_cycle_sends_it(
    practice: Practice, env: dict[str, str]
) -> None:
    practice.client_acts(ALEX)
    practice.cycle(expect=1)
    case = practice.case_of(ALEX.client)

    with _service_running(practice):
        done = _narrow(env, practice, 300)("approve", str(case["id"]))

    assert done.returncode == 0, done.stderr
    ref = practice.case_of(ALEX.client)["ref"]
    assert done.stdout.strip() == (
        f"the reminder {ref} to {ALEX.client} will be written to {practice.outbox} on the next "
        "cycle (within 1m)"
    )


def test_approve_in_dry_run_says_nothing_is_mailed(practice: Practice, env: dict[str, str]) -> None:
    text = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(text.replace('mode = "auto"', 'mode = "dry-run"'))
    practice.client_acts(ALEX)
    practice.cycle(expect=1)
    case = practice.case_of(ALEX.client)

    done = _narrow(env, practice, 300)("approve", str(case["id"]))

    folder = practice.state / "dry-run" / "main"
    assert done.stdout.strip().endswith(
        f"will be written to {folder} (dry-run mode: nothing is mailed) when you next run "
        "`fairwarning run --once` (no service is running)"
    )


# --- the demo's closing hints ----------------------------------------------------------------


def _demo(cwd: Path, script: str, folder: str, env: dict[str, str]) -> list[str]:
    """Run the demo as typed in `cwd`; the closing commands it prints, one per line."""
    done = subprocess.run(
        [script, "demo", "--dir", folder],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not re.search(r"(?i)\bwarning\b", done.stderr), done.stderr
    hints = [line.strip() for line in done.stdout.splitlines() if "--config" in line]
    assert [hint.split()[-1] for hint in hints] == ["review", "history", "status", "web"]
    # The console's hint: a server, so not pasted here; the password it gives opens it.
    password = re.search(r"log in with the demo password (\S+)", done.stdout)
    assert password, done.stdout
    state = cwd / folder / "state"  # an absolute folder stays itself
    assert check_password(state, password.group(1))
    return [hint.removeprefix("Or in a browser: ") for hint in hints[:-1]]


def test_the_demo_ends_with_commands_that_work_when_pasted(
    tmp_path: Path, env: dict[str, str]
) -> None:
    venv = FAIRWARNING.parent.parent
    typed = f"{venv.name}/{FAIRWARNING.parent.name}/fairwarning"  # as `make demo` types it
    paths = env["PATH"].split(os.pathsep)
    env = {**env, "PATH": os.pathsep.join(p for p in paths if Path(p) != FAIRWARNING.parent)}

    from_root = _demo(venv.parent, typed, str(tmp_path / "made"), env)
    from_here = _demo(tmp_path, str(FAIRWARNING), "demo", env)

    assert from_root[0] == f"{typed} --config {tmp_path}/made/config.toml review"
    assert from_here[0].endswith(" --config demo/config.toml review")
    for cwd, hints in ((venv.parent, from_root), (tmp_path, from_here)):
        for hint in hints:
            pasted = subprocess.run(
                hint, shell=True, cwd=cwd, env=env, capture_output=True, text=True, check=False
            )
            assert pasted.returncode in (0, 1), f"{hint}: {pasted.stderr}"
            assert pasted.stdout.strip(), hint


def test_the_demo_hint_is_the_command_as_it_was_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / ".venv" / "bin" / "fairwarning"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")

    assert this_command(".venv/bin/fairwarning") == ".venv/bin/fairwarning"
    assert this_command(str(script)) == ".venv/bin/fairwarning", "relative below here"
    assert this_command("/elsewhere/bin/fairwarning") == "/elsewhere/bin/fairwarning"

    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert this_command(str(script)) == "fairwarning", "PATH finds this very script"
