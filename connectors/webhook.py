"""Alerts as a small JSON document POSTed to a URL (ntfy, Slack- or Matrix-style hooks).

The document carries `text` (what Slack-compatible hooks show), `title` and `message`
(ntfy and most others), and the alert's reference. A webhook is for alerts only: a client
notice never goes this way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import requests

from worker.model import REF_HEADER
from worker.pipeline.sender import Delivery, Outcome

RETRY_AFTER = timedelta(minutes=5)


class WebhookSender:
    """POSTs each message's subject and plain text to `url`."""

    def __init__(self, *, url: str, clock: Callable[[], datetime], timeout: float = 15.0) -> None:
        self.url = url
        self.clock = clock
        self.timeout = timeout

    def describe(self) -> str:
        return f"webhook {urlsplit(self.url).netloc}"

    def send(self, message: EmailMessage) -> Delivery:
        subject = str(message["Subject"] or "")
        body = message.get_body(preferencelist=("plain",))
        text = str(body.get_content()).strip() if body is not None else ""
        document = {
            "title": subject,
            "message": text,
            "text": f"{subject}\n\n{text}",
            "ref": str(message.get(REF_HEADER, "")),
        }
        try:
            answer = requests.post(
                self.url, json=document, timeout=self.timeout, allow_redirects=False
            )
        except requests.ConnectionError as exc:
            return self._later(f"could not reach {self.describe()}: {type(exc).__name__}")
        except requests.RequestException as exc:
            return Delivery(Outcome.UNKNOWN, detail=f"{self.describe()}: {type(exc).__name__}")
        if 200 <= answer.status_code < 300:
            return Delivery(Outcome.SENT, provider_id=f"HTTP {answer.status_code}")
        if answer.status_code == 429 or answer.status_code >= 500:
            return self._later(f"{self.describe()} answered {answer.status_code}")
        return Delivery(
            Outcome.REJECTED,
            detail=f"{self.describe()} refused the alert: {answer.status_code} {answer.text[:200]}",
        )

    def _later(self, detail: str) -> Delivery:
        return Delivery(Outcome.DEFERRED, detail=detail, retry_at=self.clock() + RETRY_AFTER)
