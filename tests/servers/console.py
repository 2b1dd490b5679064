"""The real console (`fairwarning web`) over a practice, on a free port of 127.0.0.1.

Started with the installed script, exactly as a practitioner starts it, and stopped (and
reaped: process 1 here does not reap orphans) when the block ends.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.cli.practice import FAIRWARNING, Practice
from tests.servers.smtp import free_port

STARTUP_SECONDS = 20.0


@contextmanager
def running_console(practice: Practice, env: dict[str, str]) -> Iterator[str]:
    """`fairwarning web` over `practice` until the block ends; yields its address."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    log = practice.folder / "web.log"  # a file, not a pipe nobody reads while it runs
    with log.open("wb") as output:
        server = subprocess.Popen(
            [FAIRWARNING, "--config", practice.config, "web", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_it_answers(server, f"{address}/login", log)
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_it_answers(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            said = log.read_text(encoding="utf-8", errors="replace")
            raise AssertionError(f"`fairwarning web` stopped ({server.returncode}):\n{said}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise AssertionError(f"`fairwarning web` did not answer {url} within {STARTUP_SECONDS} s")
