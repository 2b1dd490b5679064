"""`fairwarning service install`: hardened systemd units for `fairwarning run` and, with
`--web`, for the console (`fairwarning web`)."""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from worker.config import Config, FileSenderSettings
from worker.private_files import KEY_CREDENTIAL

UNIT_NAME = "fairwarning.service"
WEB_UNIT_NAME = "fairwarning-web.service"
RUN_WHAT = "late-cancellation reminders and forfeiture notices"
WEB_WHAT = "the practitioner's console"


@dataclass(frozen=True)
class Unit:
    """Where the unit goes and what it says; a template (`NAME@.service`) names the
    instance its printed commands start, and may carry a note on running more of them."""

    path: Path
    text: str
    user: bool
    instance: str | None = None
    note: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def started(self) -> str:
        """The unit `enable --now` starts: this one, or the template's instance."""
        if self.instance is None:
            return self.name
        return self.name.replace("@.", f"@{self.instance}.", 1)

    @property
    def commands(self) -> list[str]:
        scope = "--user " if self.user else ""
        return [
            f"systemctl {scope}daemon-reload",
            f"systemctl {scope}enable --now {self.started}",
            f"journalctl {scope}-u {self.started} -f",
        ]


def executable() -> str:
    """The installed `fairwarning` script beside this Python, else the one on PATH."""
    beside = Path(sys.executable).with_name("fairwarning")
    if beside.exists():
        return str(beside)
    return shutil.which("fairwarning") or str(beside)


def writable(config: Config, *, web: bool) -> list[Path]:
    """Where this configuration's service writes: its state, the file senders' folders
    (the console's test send uses them too) and, for the console, the templates folder
    (saving an edited notice)."""
    paths = [config.state_dir] + [
        a.sender.folder for a in config.accounts if isinstance(a.sender, FileSenderSettings)
    ]
    if web and config.templates_dir is not None:
        paths.append(config.templates_dir)
    return paths


def unit_text(
    *,
    description: str,
    exec_start: str,
    reload: bool,
    writable: Iterable[Path],
    user: bool,
    key_file: Path | None,
) -> str:
    """A hardened unit that runs `exec_start`, writable only in `writable`."""
    lines = [
        "[Unit]",
        f"Description={description}",
        "After=network-online.target",
        "Wants=network-online.target",
        "StartLimitIntervalSec=1h",
        "StartLimitBurst=10",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={exec_start}",
        *(["ExecReload=/bin/kill -HUP $MAINPID"] if reload else []),
        "Restart=on-failure",
        "RestartSec=30s",
        "TimeoutStopSec=60s",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "UMask=0077",
        # "-": a folder that does not exist yet must not stop the service from starting.
        *(f"ReadWritePaths=-{path}" for path in dict.fromkeys(p.resolve() for p in writable)),
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
    return "\n".join(lines)


def unit_folder(user: bool) -> Path:
    """Where systemd looks for this user's units, or the system's."""
    if user:
        config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
        return Path(config_home) / "systemd" / "user"
    return Path("/etc/systemd/system")


def unit_for(
    config: Config, config_path: Path, *, user: bool, key_file: Path | None, web: bool = False
) -> Unit:
    """The unit text for this configuration; nothing is written.

    The console's unit listens where `[web]` says; both units share the state directory.
    """
    text = unit_text(
        description=f"Fair Warning: {WEB_WHAT if web else RUN_WHAT}",
        exec_start=f"{executable()} --config {config_path.resolve()} {'web' if web else 'run'}",
        reload=not web,
        writable=writable(config, web=web),
        user=user,
        key_file=key_file,
    )
    return Unit(unit_folder(user) / (WEB_UNIT_NAME if web else UNIT_NAME), text, user)


def install(unit: Unit) -> None:
    unit.path.parent.mkdir(parents=True, exist_ok=True)
    unit.path.write_text(unit.text, encoding="utf-8")
