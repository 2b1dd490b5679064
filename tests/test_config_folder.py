"""A practices folder: one NAME.toml per practice, named by the file, never sharing state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_config import GOOD
from worker.config.folder import load_practice, read_folder
from worker.errors import ConfigError


def test_a_practice_without_state_dir_keeps_its_state_apart_under_the_default_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "dana.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "eli.toml").write_text(GOOD, encoding="utf-8")

    dana, eli = read_folder(tmp_path)

    assert dana.problem is None
    assert eli.problem is None
    assert dana.config is not None
    assert eli.config is not None
    assert dana.config.state_dir == tmp_path / "xdg" / "fairwarning" / "practices" / "dana"
    assert eli.config.state_dir == tmp_path / "xdg" / "fairwarning" / "practices" / "eli"
    assert (dana.config.state.practice, eli.config.state.practice) == ("dana", "eli")


def test_the_files_name_is_the_practices_name_whatever_the_file_says(tmp_path: Path) -> None:
    path = tmp_path / "dana.toml"
    path.write_text(GOOD + '\n[state]\npractice = "eli"\n', encoding="utf-8")

    config, warnings = load_practice(path, "dana")

    assert config.state.practice == "dana"
    assert warnings == [
        f"{path}: state.practice 'eli' ignored: in a practices folder the file's name is the "
        "practice's name ('dana')"
    ]


@pytest.mark.parametrize("stem", ["Dana", "dana_2", "x" * 41, "dana.old"])
def test_a_file_whose_name_is_no_practice_name_is_skipped_naming_the_rule(
    tmp_path: Path, stem: str
) -> None:
    (tmp_path / f"{stem}.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")

    (found,) = read_folder(tmp_path)

    assert found.config is None
    assert found.problem == (
        f"{tmp_path / f'{stem}.toml'}: '{stem}' cannot name a practice (the file's name is the "
        "practice's name): use lowercase letters, digits and hyphens, 1 to 40 of them, then .toml"
    )


def test_a_missing_folder_is_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no practices folder at"):
        read_folder(tmp_path / "nowhere")
    assert not os.path.exists(tmp_path / "nowhere")
