"""A real PostgreSQL server on 127.0.0.1, started once per test session.

Debian's `postgresql` package (installed by `.ci/system-deps`), never anything downloaded:
`initdb` into a temporary folder and the server itself run as the `postgres` user when the
tests run as root (initdb refuses root), on a free port, with fsync off (a throwaway cluster).
The server is this process's child (through `runuser`), so stopping it with
`pg_ctl -m fast -w stop` and `.wait()`ing leaves no zombie. Each test gets a database of its
own (`new_database`), made by CREATE DATABASE from the empty template: fast and isolated.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.servers.smtp import free_port

INSTALL = "apt-get install -y postgresql"


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin folder; a missing one fails with the fix."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed, and the storage tests run against a real server: "
            f"`{INSTALL}` (as root; `make test` does it for you)"
        )
    return Path(found[-1]).parent


def _major(path: str) -> int:
    return int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0


@dataclass
class PostgresServer:
    """The running cluster: where it listens, and fresh databases on it."""

    port: int
    folder: Path
    owner: str
    names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.owner}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new, empty database; returns its URL (no password: the cluster trusts local)."""
        name = f"fw_test_{os.getpid()}_{next(self.names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_owner(owner: str, command: list[str]) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if os.geteuid() == 0 else command


def start_postgres(
    settings: dict[str, str] | None = None,
) -> tuple[PostgresServer, subprocess.Popen[bytes]]:
    """initdb a new cluster in a temporary folder and start its server; the caller stops it
    with `stop_postgres`. `settings` override the throwaway defaults (the benchmark keeps
    fsync on, as a real server does)."""
    bin_dir = postgres_bin()
    owner = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    # Under /tmp, not pytest's tmp_path: the postgres user cannot enter root's 0700 folders.
    folder = Path(tempfile.mkdtemp(prefix="fairwarning-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    for path in (folder, data, sockets):
        path.mkdir(mode=0o700, exist_ok=True)
        shutil.chown(path, owner, owner)
    subprocess.run(
        _as_owner(
            owner,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                owner,
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        ),
        check=True,
        capture_output=True,
    )
    server = PostgresServer(port=free_port(), folder=folder, owner=owner)
    chosen = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(sockets),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        **(settings or {}),
    }
    options = [arg for name, value in chosen.items() for arg in ("-c", f"{name}={value}")]
    with (folder / "server.log").open("wb") as log:  # the server keeps its own copy open
        process = subprocess.Popen(
            _as_owner(
                owner,
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(server.port), *options],
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    _wait_until_ready(server, process)
    return server, process


def _wait_until_ready(server: PostgresServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (server.folder / "server.log").read_text(errors="replace")
                raise RuntimeError(f"PostgreSQL did not start:\n{log[-2000:]}") from None
            time.sleep(0.05)


def stop_postgres(server: PostgresServer, process: subprocess.Popen[bytes]) -> None:
    """Stop the server (fast: disconnect clients), reap it, remove the cluster."""
    pg_ctl = str(postgres_bin() / "pg_ctl")
    with contextlib.suppress(subprocess.CalledProcessError):
        subprocess.run(
            _as_owner(
                server.owner,
                [pg_ctl, "-D", str(server.folder / "data"), "-m", "fast", "-w", "stop"],
            ),
            check=True,
            capture_output=True,
            timeout=60,
        )
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    shutil.rmtree(server.folder, ignore_errors=True)
