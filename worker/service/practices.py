"""Many practices in one deployment: a folder with one `NAME.toml` per practice.

- Each practice runs the ordinary service loop (`lifecycle.run`) in a thread of its own, on
  its own state. A practice whose file is broken is logged (file and error) and skipped; one
  whose database cannot open retries on its own back-off; a failure inside one practice's
  loop is logged and never reaches another.
- The signal handlers are installed once, here, and the main thread passes what they ask on
  to each practice's own flags: the first SIGTERM or SIGINT asks every practice to finish its
  current step and return (exit 0); a second stops at once.
- What was skipped at the last look is noted in `skipped_record()` for `status`, which can then
  say that a file fixed since needs a SIGHUP to be served.
- SIGHUP rereads the folder: new files start, removed files stop after their current step,
  the others reload through their own reload (which keeps the running configuration when the
  new one is invalid), and formerly broken files that now load start.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from worker.config import Config
from worker.config.file import default_state_dir
from worker.config.folder import PracticeFile, loader, read_folder
from worker.errors import ConfigError, FairWarningError
from worker.service import lifecycle
from worker.service.lifecycle import AccountReport, Show, Signals

log = logging.getLogger("fairwarning")
ShowFor = Callable[[str, Config], Show | None]
THREAD_PREFIX = "practice "
LOOK_EVERY = 1.0  # seconds between looks at the flags, so a signal is never missed for long


@dataclass
class Outcome:
    """One practice's `run --once`: its reports, or why it did not run (or failed)."""

    name: str
    path: Path
    config: Config | None = None
    reports: list[AccountReport] = field(default_factory=list)
    problem: str | None = None


def run_once(folder: Path, *, clock: Callable[[], datetime], show_for: ShowFor) -> list[Outcome]:
    """One cycle for every practice in the folder, in name order; a broken file, a state
    that cannot open or a failure in one practice is recorded and the next one runs."""
    outcomes = []
    for practice in read_folder(folder):
        if practice.config is None:
            log.error("practice %s skipped: %s", practice.name, practice.problem)
            outcomes.append(Outcome(practice.name, practice.path, problem=practice.problem))
            continue
        _warn(practice)
        outcome = Outcome(practice.name, practice.path, practice.config)
        try:
            show = show_for(practice.name, practice.config)
            outcome.reports = lifecycle.run(practice.config, once=True, clock=clock, show=show)
        except FairWarningError as exc:
            outcome.problem = exc.message
        except Exception as exc:  # one practice's failure must never stop the others
            log.exception("practice %s: cycle failed", practice.name)
            outcome.problem = f"unexpected {type(exc).__name__}: {exc}"
        if outcome.problem:
            log.error("practice %s: %s", practice.name, outcome.problem)
        outcomes.append(outcome)
    return outcomes


@dataclass
class _Served:
    """A practice being served: its file, its own flags and its thread."""

    path: Path
    signals: Signals
    thread: threading.Thread


class Deployment:
    """The practices of one folder, each served in its own thread until asked to stop."""

    def __init__(self, folder: Path, *, clock: Callable[[], datetime], show_for: ShowFor) -> None:
        self.folder = folder
        self.clock = clock
        self.show_for = show_for
        self.served: dict[str, _Served] = {}
        self.leaving: list[_Served] = []

    def serve(self) -> None:
        """Serve every practice until SIGTERM or SIGINT; SIGHUP rereads the folder."""
        signals = Signals()
        signals.install()
        names = _PracticeNames()
        for handler in logging.getLogger().handlers:
            handler.addFilter(names)
        try:
            self.look()
            while not signals.stop:
                signals.wake.wait(LOOK_EVERY)
                signals.wake.clear()
                if signals.reload and not signals.stop:
                    signals.reload = False
                    log.info("rereading the practices in %s", self.folder)
                    self.look()
            for served in [*self.served.values(), *self.leaving]:
                _stop(served)
            for served in [*self.served.values(), *self.leaving]:
                served.thread.join()
        finally:
            for handler in logging.getLogger().handlers:
                handler.removeFilter(names)
            skipped_record().unlink(missing_ok=True)  # no service: nothing of it to show
        log.info("stopped")

    def look(self) -> None:
        """Start, reload or stop each practice after what the folder holds now."""
        try:
            found = read_folder(self.folder)
        except ConfigError as exc:  # the folder itself is gone: keep serving what runs
            log.error("cannot read the practices: %s", exc.message)
            return
        _note_skipped(self.folder, found, self.clock())
        for name in [n for n in self.served if n not in {p.name for p in found}]:
            log.info("practice %s: its file is gone; stopping after its current step", name)
            self.leaving.append(self.served.pop(name))
            _stop(self.leaving[-1])
        for practice in found:
            running = self.served.get(practice.name)
            if running is not None and running.thread.is_alive():
                running.signals.reload = True  # its own reload keeps it when the file is broken
                running.signals.wake.set()
            elif practice.config is None:
                log.error("practice %s skipped: %s", practice.name, practice.problem)
            else:
                _warn(practice)
                self.served[practice.name] = self._start(
                    practice.name, practice.path, practice.config
                )

    def _start(self, name: str, path: Path, config: Config) -> _Served:
        signals = Signals()
        show = self.show_for(name, config)
        load = loader(name)

        def serve_practice() -> None:
            try:
                lifecycle.run(
                    config,
                    once=False,
                    clock=self.clock,
                    show=show,
                    config_path=path,
                    signals=signals,
                    load=load,
                )
            except FairWarningError as exc:
                log.error("stopped: %s", exc.message)
            except Exception:  # one practice's failure must never stop the others
                log.exception("stopped by an unexpected failure; SIGHUP starts it again")

        log.info("serving practice %s from %s", name, path)
        thread = threading.Thread(target=serve_practice, name=THREAD_PREFIX + name, daemon=True)
        thread.start()
        return _Served(path, signals, thread)


def skipped_record() -> Path:
    """Where the running service notes the files it skipped at its last look, for `status`."""
    return default_state_dir() / "practices" / "skipped.json"


def read_skipped(folder: Path) -> tuple[str, dict[str, str]] | None:
    """When the running service serving `folder` last read it, and the files it skipped
    then (practice name → problem); None when no service serving it has noted anything."""
    try:
        noted = json.loads(skipped_record().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(noted, dict) or noted.get("folder") != str(folder.resolve()):
        return None
    return str(noted["read_at"]), dict(noted["skipped"])


def _note_skipped(folder: Path, found: list[PracticeFile], now: datetime) -> None:
    path = skipped_record()
    noted = {
        "folder": str(folder.resolve()),
        "read_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "skipped": {p.name: p.problem for p in found if p.config is None},
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        written = path.with_name(f".{path.name}.tmp")
        written.write_text(json.dumps(noted, indent=2), encoding="utf-8")
        written.replace(path)
    except OSError as exc:  # only status reads it: never a reason to stop serving
        log.warning("cannot note the skipped practices in %s: %s", path, exc)


def _stop(served: _Served) -> None:
    served.signals.stop = True
    served.signals.wake.set()


def _warn(practice: PracticeFile) -> None:
    for warning in practice.warnings:
        log.warning("%s", warning)


class _PracticeNames(logging.Filter):
    """Begins each log line from a practice's thread with the practice's name."""

    def filter(self, record: logging.LogRecord) -> bool:
        thread = record.threadName or ""
        if thread.startswith(THREAD_PREFIX) and isinstance(record.msg, str):
            prefix = f"practice {thread.removeprefix(THREAD_PREFIX)}: "
            if not record.msg.startswith(prefix):  # several handlers see the same record
                record.msg = prefix + record.msg
        return True
