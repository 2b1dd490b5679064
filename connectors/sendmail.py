"""Sending through this machine's own mail system (`sendmail -t`), for alerts.

sendmail either queues the message (exit 0) or says why not; a hung program is stopped
after the timeout and its message counts as unknown, since it may already be queued.
"""

from __future__ import annotations

import subprocess
from email.message import EmailMessage

from worker.pipeline.sender import Delivery, Outcome


class SendmailSender:
    """Hands each message to `path -t -oi` on standard input."""

    def __init__(self, *, path: str, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout

    def describe(self) -> str:
        return f"sendmail ({self.path})"

    def send(self, message: EmailMessage) -> Delivery:
        try:
            done = subprocess.run(  # noqa: S603 - the configured program, no shell
                [self.path, "-t", "-oi"],
                input=message.as_bytes(),
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError:
            return Delivery(
                Outcome.REJECTED,
                detail=f"{self.path} does not exist: install a mail system (e.g. msmtp-mta "
                "or postfix) or set alerts.via.path",
            )
        except OSError as exc:
            return Delivery(Outcome.REJECTED, detail=f"cannot run {self.path}: {exc}")
        except subprocess.TimeoutExpired:
            return Delivery(Outcome.UNKNOWN, detail=f"{self.path} did not finish in time")
        if done.returncode == 0:
            return Delivery(Outcome.SENT, provider_id=self.describe())
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:300]
        return Delivery(
            Outcome.REJECTED, detail=f"{self.path} exited {done.returncode}: {said or '-'}"
        )
