"""`fairwarning init`: a commented configuration and editable copies of the templates."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path


def starter_text() -> str:
    return (resources.files("worker.cli") / "starter.toml").read_text(encoding="utf-8")


def write_starter(config_path: Path) -> list[str]:
    """Write the starter files beside `config_path`; existing files are left untouched."""
    said = []
    folder = config_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if config_path.exists():
        said.append(f"kept {config_path} (already exists)")
    else:
        config_path.write_text(starter_text(), encoding="utf-8")
        said.append(f"wrote {config_path}: edit it, then run `fairwarning check`")
    packaged = resources.files("fairwarning_templates")
    for language in packaged.iterdir():
        if not language.is_dir() or language.name.startswith("_"):
            continue
        for template in language.iterdir():
            if not template.name.endswith(".j2"):
                continue
            target = folder / "templates" / language.name / template.name
            if target.exists():
                said.append(f"kept {target}")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with resources.as_file(template) as source:
                shutil.copyfile(source, target)
            said.append(f"wrote {target}")
    return said
