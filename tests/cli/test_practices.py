"""Several practices in one deployment: `--practices DIR`, one NAME.toml per practice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.cli.folder import add_practice
from tests.cli.practice import LUCIA, SAM, Practice, Run, runner
from tests.cli.test_state_faults import assert_really_read_only, unprivileged


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "practices"
    folder.mkdir()
    return folder


def test_one_broken_practice_is_reported_and_the_others_send_their_notices(
    tmp_path: Path, fairwarning: Run
) -> None:
    folder = _folder(tmp_path)
    now = datetime.now(UTC)
    dana = add_practice(folder, "dana", now, fairwarning)
    rivera = add_practice(folder, "rivera-2", now, fairwarning)
    add_practice(folder, "broken", now, fairwarning, broken=True)
    (folder / "notes.txt").write_text("not a practice", encoding="utf-8")

    first = fairwarning("--practices", folder, "run", "--once")
    assert first.returncode == 2, first.stdout + first.stderr
    assert dana.notices() == {}, "a first look sends nothing"
    assert rivera.notices() == {}
    dana.client_acts(SAM)
    rivera.client_acts(LUCIA)

    done = fairwarning("--practices", folder, "run", "--once")

    assert done.returncode == 2, done.stdout + done.stderr
    (to_sam,) = dana.notices().values()
    assert to_sam["To"].addresses[0].addr_spec == SAM.client
    (to_lucia,) = rivera.notices().values()
    assert to_lucia["To"].addresses[0].addr_spec == LUCIA.client
    broken_file = folder / "broken.toml"
    assert f"practice broken: skipped: {broken_file}" in done.stdout
    assert "policy.late_window" in done.stdout
    assert f"practice broken skipped: {broken_file}" in done.stderr
    assert "practice dana: 1 notice(s) sent" in done.stdout
    assert "practice rivera-2: 1 notice(s) sent" in done.stdout
    assert "notes" not in done.stdout + done.stderr


def test_every_good_practice_well_exits_0(tmp_path: Path, fairwarning: Run) -> None:
    folder = _folder(tmp_path)
    now = datetime.now(UTC)
    add_practice(folder, "dana", now, fairwarning)
    add_practice(folder, "eli", now, fairwarning)

    done = fairwarning("--practices", folder, "run", "--once")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "== practice dana ==" in done.stdout
    assert "== practice eli ==" in done.stdout


def test_practice_picks_one_file_for_any_command(
    tmp_path: Path, env: dict[str, str], fairwarning: Run
) -> None:
    folder, dana, eli = _dana_and_eli(tmp_path, fairwarning)
    dana.client_acts(SAM)

    done = fairwarning("--practices", folder, "--practice", "dana", "run", "--once")

    assert done.returncode == 0, done.stdout + done.stderr
    assert len(dana.notices()) == 1
    assert eli.notices() == {}, "only dana's practice ran"
    dana_cases = fairwarning("--practices", folder, "--practice", "dana", "history", "--json")
    assert [c["client_email"] for c in json.loads(dana_cases.stdout)] == [SAM.client]
    eli_cases = fairwarning("--practices", folder, "--practice", "eli", "history", "--json")
    assert json.loads(eli_cases.stdout) == []
    status = fairwarning("--practices", folder, "--practice", "eli", "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    from_env = runner({**env, "FAIRWARNING_PRACTICES": str(folder)})
    again = from_env("--practice", "dana", "history", "--json")
    assert [c["client_email"] for c in json.loads(again.stdout)] == [SAM.client]


def test_practice_without_a_folder_or_not_in_it_is_a_usage_error(
    tmp_path: Path, fairwarning: Run
) -> None:
    folder = _folder(tmp_path)
    now = datetime.now(UTC)
    add_practice(folder, "dana", now, fairwarning)
    add_practice(folder, "eli", now, fairwarning)

    alone = fairwarning("--practice", "dana", "status")
    unknown = fairwarning("--practices", folder, "--practice", "zoe", "status")
    unpicked = fairwarning("--practices", folder, "history")
    misnamed = fairwarning("--practices", folder, "--practice", "Dana", "init")
    both = fairwarning("--config", folder / "dana.toml", "--practices", folder, "status")

    assert alone.returncode == 2
    assert "--practice NAME picks NAME.toml in a practices folder" in alone.stderr
    assert unknown.returncode == 2
    assert f"no practice 'zoe' in {folder}: the practices there are dana, eli" in unknown.stderr
    assert unpicked.returncode == 2
    assert "needs --practice NAME" in unpicked.stderr
    assert "the practices there are dana, eli" in unpicked.stderr
    assert misnamed.returncode == 2
    assert "'Dana' cannot name a practice: use lowercase letters" in misnamed.stderr
    assert not (folder / "Dana.toml").exists()
    assert both.returncode == 2
    assert "either --config FILE or --practices DIR" in both.stderr


def test_status_over_the_folder_names_each_practice_and_why_one_is_skipped(
    tmp_path: Path, fairwarning: Run
) -> None:
    folder = _folder(tmp_path)
    now = datetime.now(UTC)
    add_practice(folder, "dana", now, fairwarning)
    add_practice(folder, "Eli", now, fairwarning)
    add_practice(folder, "zed", now, fairwarning, state_dir="dana/state")

    done = fairwarning("--practices", folder, "status")

    assert done.returncode == 2, done.stdout + done.stderr
    assert f"practice dana: ok ({folder / 'dana.toml'})" in done.stdout
    assert "'Eli' cannot name a practice" in done.stdout
    assert f"practice zed: skipped: {folder / 'zed.toml'}: state_dir" in done.stdout
    assert f"is already practice dana's ({folder / 'dana.toml'})" in done.stdout


def test_a_practice_whose_state_cannot_be_written_never_stops_the_other(
    tmp_path: Path, env: dict[str, str], fairwarning: Run
) -> None:
    folder, dana, eli = _dana_and_eli(tmp_path, fairwarning)
    dana.database.chmod(0o400)
    assert_really_read_only(dana.database)
    dana.client_acts(SAM)
    eli.client_acts(SAM)

    done = runner(env, unprivileged())("--practices", folder, "run", "--once")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "practice dana: skipped: the state database" in done.stdout
    assert "read-only" in done.stdout
    assert dana.notices() == {}
    (to_sam,) = eli.notices().values()
    assert to_sam["To"].addresses[0].addr_spec == SAM.client


def _dana_and_eli(tmp_path: Path, fairwarning: Run) -> tuple[Path, Practice, Practice]:
    """A folder of two practices that have each run once."""
    folder = _folder(tmp_path)
    now = datetime.now(UTC)
    dana = add_practice(folder, "dana", now, fairwarning)
    eli = add_practice(folder, "eli", now, fairwarning)
    assert fairwarning("--practices", folder, "run", "--once").returncode == 0
    return folder, dana, eli
