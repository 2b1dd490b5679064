"""A real CalDAV server (Radicale) on 127.0.0.1, started once per test session.

Radicale keeps its calendars in a temporary folder and checks logins against a plain
htpasswd file. Tests make a fresh calendar each (`new_calendar`) and change it the way a
calendar app does: PUT an event, DELETE it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.servers.smtp import free_port

USER, PASSWORD = "dana@riveracoaching.example", "app-specific-secret"


@dataclass
class RadicaleServer:
    """The running server: its address and the calls a calendar app would make."""

    port: int
    folder: Path

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_calendar(self, name: str = "") -> str:
        """A new, empty calendar of the test user; returns its address."""
        url = f"{self.root}/{USER}/{name or uuid.uuid4().hex}/"
        self._expect(self._session().request("MKCALENDAR", url, timeout=10), 201)
        return url

    def put(self, url: str, ics: bytes) -> None:
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        self._expect(self._session().put(url, data=ics, headers=headers, timeout=10), 201, 204)

    def delete(self, url: str) -> None:
        self._expect(self._session().delete(url, timeout=10), 200, 204)

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.auth = (USER, PASSWORD)
        return session

    @staticmethod
    def _expect(response: requests.Response, *statuses: int) -> None:
        assert response.status_code in statuses, (response.status_code, response.text[:300])


def start_radicale(folder: Path) -> tuple[RadicaleServer, subprocess.Popen[bytes]]:
    """Start Radicale serving `folder`; the caller terminates and waits for the process."""
    users = folder / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    server = RadicaleServer(port=free_port(), folder=folder)
    config = folder / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{server.port}\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {users}\n"
        "htpasswd_encryption = plain\n"
        "delay = 0\n"
        "[storage]\n"
        f"filesystem_folder = {folder / 'collections'}\n"
        "[rights]\n"
        "type = owner_only\n"
        "[logging]\n"
        "level = warning\n",
        encoding="utf-8",
    )
    log = (folder / "radicale.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Radicale exited: {(folder / 'radicale.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return server, process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    process.wait(timeout=10)
    raise RuntimeError("Radicale did not start listening within 20 s")


def stop_radicale(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
