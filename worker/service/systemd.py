"""`fairwarning service install`: hardened systemd units for `fairwarning run` and, with
`--web`, for the console (`fairwarning web`)."""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from worker.config import Config, FileSenderSettings
from worker.private_files import KEY_CREDENTIAL

UNIT_NAME = "fairwarning.service"
WEB_UNIT_NAME = "fairwarning-web.service"


@dataclass(frozen=True)
class Unit:
    """Where the unit goes and what it says."""

    path: Path
    text: str
    user: bool

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def commands(self) -> list[str]:
        scope = "--user " if self.user else ""
        return [
            f"systemctl {scope}daemon-reload",
            f"systemctl {scope}enable --now {self.name}",
            f"journalctl {scope}-u {self.name} -f",
        ]


def executable() -> str:
    """The installed `fairwarning` script beside this Python, else the one on PATH."""
    beside = Path(sys.executable).with_name("fairwarning")
    if beside.exists():
        return str(beside)
    return shutil.which("fairwarning") or str(beside)


def unit_for(
    config: Config, config_path: Path, *, user: bool, key_file: Path | None, web: bool = False
) -> Unit:
    """The unit text for this configuration; nothing is written.

    The console's unit may also write the templates folder (saving an edited notice) and
    listens where `[web]` says; both units share the state directory.
    """
    writable = [config.state_dir] + [
        a.sender.folder for a in config.accounts if isinstance(a.sender, FileSenderSettings)
    ]
    if web and config.templates_dir is not None:
        writable.append(config.templates_dir)
    what = (
        "the practitioner's console"
        if web
        else "late-cancellation reminders and forfeiture notices"
    )
    lines = [
        "[Unit]",
        f"Description=Fair Warning: {what}",
        "After=network-online.target",
        "Wants=network-online.target",
        "StartLimitIntervalSec=1h",
        "StartLimitBurst=10",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={executable()} --config {config_path.resolve()} {'web' if web else 'run'}",
        *([] if web else ["ExecReload=/bin/kill -HUP $MAINPID"]),
        "Restart=on-failure",
        "RestartSec=30s",
        "TimeoutStopSec=60s",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "UMask=0077",
        # "-": a folder that does not exist yet must not stop the service from starting.
        *(f"ReadWritePaths=-{path.resolve()}" for path in writable),
    ]
    if not user:
        at = lines.index("NoNewPrivileges=yes")
        owner = getpass.getuser()
        # The tokens belong to whoever ran `fairwarning auth`; the service runs as them.
        lines[at:at] = ([f"User={owner}"] if owner != "root" else []) + [
            "StateDirectory=fairwarning",
            "StateDirectoryMode=0700",
        ]
    if key_file is not None:
        lines.append(f"LoadCredential={KEY_CREDENTIAL}:{key_file.resolve()}")
    lines += ["", "[Install]", f"WantedBy={'default.target' if user else 'multi-user.target'}", ""]
    folder = (
        Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"
        if user
        else Path("/etc/systemd/system")
    )
    return Unit(folder / (WEB_UNIT_NAME if web else UNIT_NAME), "\n".join(lines), user)


def install(unit: Unit) -> None:
    unit.path.parent.mkdir(parents=True, exist_ok=True)
    unit.path.write_text(unit.text, encoding="utf-8")
