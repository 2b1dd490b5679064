"""Serving the console with uvicorn, on this machine unless the configuration says otherwise."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from worker.config import Config
from worker.web.app import build_console
from worker.web.console import utcnow

log = logging.getLogger("fairwarning.web")


def serve(
    config: Config,
    *,
    host: str | None = None,
    port: int | None = None,
    config_path: Path | None = None,
) -> None:
    """Run until stopped. Refuses (NoPassword) before a password is set."""
    app = build_console(config, clock=utcnow, config_path=config_path)
    host = host or config.web.host
    port = port or config.web.port
    log.info("console on http://%s:%d (stop with Ctrl-C)", host, port)
    # Behind a reverse proxy on this machine, its X-Forwarded-For and -Proto are believed
    # (uvicorn's default trusts 127.0.0.1 only): the login brake then sees real addresses.
    uvicorn.run(
        app, host=host, port=port, proxy_headers=True, server_header=False, log_level="warning"
    )
