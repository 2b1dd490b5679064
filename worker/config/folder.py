"""A practices folder: one `NAME.toml` per practice, the practice named by the file's stem.

Each file is a whole configuration, as for a single practitioner. A file that is badly named,
does not parse, or would share another practice's state directory is reported with its
problem and skipped: one practice's mistake never stops another. Other files are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from worker.config.file import Config, load_config
from worker.config.state import PRACTICE_NAME, PRACTICE_RULE
from worker.errors import ConfigError


@dataclass(frozen=True)
class PracticeFile:
    """One `*.toml` in the folder: its practice's configuration, or why it is skipped."""

    name: str
    path: Path
    config: Config | None = None
    warnings: tuple[str, ...] = ()
    problem: str | None = None


def practice_files(folder: Path) -> dict[str, Path]:
    """Every well-named practice file in the folder, by practice name (sorted)."""
    return {p.stem: p for p in _toml_files(folder) if PRACTICE_NAME.fullmatch(p.stem)}


def _toml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ConfigError(
            f"no practices folder at {folder}: --practices (or FAIRWARNING_PRACTICES) must "
            "name a folder holding one NAME.toml per practice",
            path=str(folder),
        )
    return sorted(p for p in folder.glob("*.toml") if p.is_file())


def read_folder(folder: Path) -> list[PracticeFile]:
    """Every `*.toml` in the folder, in name order, each loaded or with its problem.

    When two practices would share a state directory, the later one (by name) is refused:
    they would take each other's tokens, lock and heartbeat.
    """
    read: list[PracticeFile] = []
    for path in _toml_files(folder):
        if not PRACTICE_NAME.fullmatch(path.stem):
            problem = (
                f"{path}: '{path.stem}' cannot name a practice (the file's name is the "
                f"practice's name): use {PRACTICE_RULE}, then .toml"
            )
            read.append(PracticeFile(path.stem, path, problem=problem))
            continue
        try:
            config, warnings = load_practice(path, path.stem)
        except ConfigError as exc:
            read.append(PracticeFile(path.stem, path, problem=exc.message))
            continue
        read.append(_unshared(PracticeFile(path.stem, path, config, tuple(warnings)), read))
    return read


def loader(practice: str | None) -> Callable[[Path], tuple[Config, list[str]]]:
    """How a command reads its configuration file: as that practice's, or as a lone one."""
    return partial(load_practice, name=practice) if practice else load_config


def load_practice(path: Path, name: str) -> tuple[Config, list[str]]:
    """The practice's configuration from its file, carrying its name down to the state.

    A file without `state_dir` keeps its state in `practices/NAME` under the default one, so
    practices that leave it out never share one.
    """
    config, warnings = load_config(path)
    if config.state.practice not in (None, name):
        warnings.append(
            f"{path}: state.practice {config.state.practice!r} ignored: in a practices folder "
            f"the file's name is the practice's name ({name!r})"
        )
    update: dict[str, object] = {"state": config.state.model_copy(update={"practice": name})}
    if "state_dir" not in config.model_fields_set:
        update["state_dir"] = config.state_dir / "practices" / name
    return config.model_copy(update=update), warnings


def _unshared(practice: PracticeFile, earlier: list[PracticeFile]) -> PracticeFile:
    assert practice.config is not None
    state_dir = practice.config.state_dir.resolve()
    for other in earlier:
        if other.config is not None and other.config.state_dir.resolve() == state_dir:
            return PracticeFile(
                practice.name,
                practice.path,
                problem=(
                    f"{practice.path}: state_dir {state_dir} is already practice "
                    f"{other.name}'s ({other.path}); give each practice its own state_dir"
                ),
            )
    return practice
