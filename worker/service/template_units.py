"""`fairwarning --practices DIR service install`: template units for a practices folder.

`fairwarning@.service` serves every practice of the folder in one worker process; its instance
only numbers the workers (`fairwarning@1`, `fairwarning@2`, …). `fairwarning-web@.service`
runs one practice's console; its instance is the practice's name.
"""

from __future__ import annotations

from pathlib import Path

from worker.config.file import default_state_dir
from worker.config.folder import PracticeFile
from worker.service.systemd import (
    RUN_WHAT,
    WEB_WHAT,
    Unit,
    executable,
    unit_folder,
    unit_text,
    writable,
)

WORKER_TEMPLATE = "fairwarning@.service"
WEB_TEMPLATE = "fairwarning-web@.service"
MORE_WORKERS = (
    "More instances (fairwarning@2, …) only help when the practices keep their state in "
    "PostgreSQL, where workers share the accounts through leases; on SQLite a practice's "
    "state_dir admits one worker, and a second instance reports those practices as skipped."
)


def template_for(
    folder: Path, found: list[PracticeFile], *, user: bool, key_file: Path | None, web: bool
) -> Unit:
    """The template unit for this folder, writable where its practices write now; nothing
    is written. A practice skipped now (its file does not load) adds no folders."""
    folder = folder.resolve()
    # Practices added later without a state_dir keep their state under this root, and the
    # worker notes the files it skipped there.
    paths = [default_state_dir() / "practices"]
    for practice in found:
        if practice.config is not None:
            paths += writable(practice.config, web=web)
    if web:
        example = next((p.name for p in found if p.config is not None), "NAME")
        text = unit_text(
            description=f"Fair Warning practice %i: {WEB_WHAT}",
            exec_start=f"{executable()} --practices {folder} --practice %i web",
            reload=False,
            writable=paths,
            user=user,
            key_file=key_file,
        )
        note = (
            "Each practice's console listens where its own [web] says; set its password "
            f"first: fairwarning --practices {folder} --practice {example} web set-password"
        )
        return Unit(unit_folder(user) / WEB_TEMPLATE, text, user, example, note)
    text = unit_text(
        description=f"Fair Warning worker %i: {RUN_WHAT}",
        exec_start=f"{executable()} --practices {folder} run",
        reload=True,
        writable=paths,
        user=user,
        key_file=key_file,
    )
    return Unit(unit_folder(user) / WORKER_TEMPLATE, text, user, "1", MORE_WORKERS)
