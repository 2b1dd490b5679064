"""The service loop: a cycle every poll interval until asked to stop.

The first SIGTERM or SIGINT lets the current cycle finish, then exits 0; a second one stops
at once. Stopping mid-send is safe: `sending` is committed first, and becomes `unknown`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from worker.config import Config
from worker.cycle import AccountReport
from worker.wiring import build_worker, only_worker

__all__ = ["AccountReport", "run"]

Show = Callable[[list[AccountReport], bool], None]


class _Stop:
    def __init__(self) -> None:
        self.event = threading.Event()

    def request(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            raise SystemExit(128 + signum)
        self.event.set()


def run(
    config: Config, *, once: bool, clock: Callable[[], datetime], show: Show | None
) -> list[AccountReport]:
    """Run cycles until stopped (or one cycle with `once`); returns the last cycle's reports."""
    with only_worker(config.state_dir):
        worker = build_worker(config, clock=clock)
        stop = _Stop()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stop.request)
            signal.signal(signal.SIGINT, stop.request)
        try:
            while True:
                reports = worker.cycle()
                if show is not None:
                    show(reports, once)
                if once or stop.event.wait(config.poll_interval.total_seconds()):
                    return reports
        finally:
            worker.db.close()
