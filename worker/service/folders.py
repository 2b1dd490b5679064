"""Where an account's notices are written instead of mailed, for whoever reports on them."""

from __future__ import annotations

from pathlib import Path

from worker.config import Config, FileSenderSettings
from worker.wiring import dry_run_folder


def notices_folder(config: Config, account: str) -> Path | None:
    """Where the account's notices are written instead of mailed (dry-run, or a file sender)."""
    if config.policy.mode == "dry-run":
        return dry_run_folder(config, account)
    settings = next((a.sender for a in config.accounts if a.name == account), None)
    return settings.folder if isinstance(settings, FileSenderSettings) else None
