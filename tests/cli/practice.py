"""Dana's practice in a folder, driven through the installed `fairwarning` script.

Shared by the CLI tests: HOME and the XDG folders point into tmp_path, the configuration is the
demo's (auto mode, no hold), the calendar a folder of .ics files, the sender writes .eml files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from worker.cli.demo import SESSIONS, DemoSession, session_ics

FAIRWARNING = Path(sys.executable).with_name("fairwarning")
Run = Callable[..., subprocess.CompletedProcess[str]]


def session(uid: str) -> DemoSession:
    return next(s for s in SESSIONS if s.uid == uid)


SAM = session("sam-1")  # declines 6 h before: a reminder
PRIYA = session("priya-1")  # declines 4 h before, "in hospital": review
ALEX = session("alex-1")  # Dana deletes it 9 h before: review
LUCIA = session("lucia-1")  # declines 8 h before, Spanish: a reminder


def environment(home: Path) -> dict[str, str]:
    """This environment with HOME and the XDG folders inside `home` (created)."""
    home.mkdir(parents=True, exist_ok=True)
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "FAIRWARNING"))}
    return {
        **kept,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }


def runner(env: dict[str, str], prefix: Sequence[str] = ()) -> Run:
    """Runs the installed script (after `prefix`, e.g. a privilege drop) with these arguments."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, str(FAIRWARNING), *map(str, args)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@dataclass(frozen=True)
class Practice:
    """Dana's practice in a folder: config.toml, calendar/, state/ and outbox/."""

    folder: Path
    now: datetime
    run: Run

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"

    @property
    def state(self) -> Path:
        return self.folder / "state"

    @property
    def database(self) -> Path:
        return self.state / "fairwarning.sqlite3"

    def __call__(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return self.run("--config", self.config, *args)

    def cycle(self, expect: int = 0) -> subprocess.CompletedProcess[str]:
        """`run --once`, which exits 1 when the cycle left something for the practitioner."""
        done = self("run", "--once")
        assert done.returncode == expect, done.stdout + done.stderr
        return done

    def client_acts(self, demo_session: DemoSession) -> None:
        """The client declines (or Dana deletes the session), as a calendar app would write it."""
        path = self.folder / "calendar" / f"{demo_session.uid}.ics"
        if demo_session.action == "delete":
            path.unlink()
        else:
            path.write_text(session_ics(demo_session, self.now, acted=True), encoding="utf-8")

    def retitle(self, demo_session: DemoSession) -> None:
        """Dana renames a session (still accepted) and the worker takes a look."""
        path = self.folder / "calendar" / f"{demo_session.uid}.ics"
        path.write_text(session_ics(demo_session, self.now, acted=False), encoding="utf-8")
        self.cycle()

    def notices(self) -> dict[str, EmailMessage]:
        """Every notice to a client written so far, by file name: not the alerts to Dana
        (ALERT-…), which come whenever the clock passes her digest hour with a case waiting."""
        return {name: message for name, message in self._written().items() if not _alert(name)}

    def alerts(self) -> dict[str, EmailMessage]:
        """Every alert to Dana herself written so far, by file name."""
        return {name: message for name, message in self._written().items() if _alert(name)}

    def _written(self) -> dict[str, EmailMessage]:
        if not self.outbox.exists():
            return {}
        return {
            path.name: message_from_bytes(path.read_bytes(), policy=email_policy.default)
            for path in sorted(self.outbox.glob("*.eml"))
        }

    def history(self) -> list[dict[str, Any]]:
        done = self("history", "--json")
        assert done.returncode == 0, done.stderr
        cases: list[dict[str, Any]] = json.loads(done.stdout)
        return cases

    def case_of(self, client: str) -> dict[str, Any]:
        (case,) = [c for c in self.history() if c["client_email"] == client]
        return case


def _alert(name: str) -> bool:
    return name.startswith("ALERT-")
