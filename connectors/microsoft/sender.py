"""Sending a notice from the practitioner's Outlook mailbox with Graph's sendMail.

The message goes as MIME (base64 of the exact bytes the core built), not as Graph's JSON
message: JSON carries one body, so the text + HTML multipart/alternative would be cut to
one part, and it re-creates the headers the core already checked (recipients, Reply-To,
Bcc, X-Fair-Warning-Ref). MIME sendMail always keeps a copy in Sent Items, and that copy
is how the practitioner settles an `unknown` send; only when `save_to_sent_items` is
turned off does the JSON form go instead (HTML body, or text when there is none).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from connectors.microsoft.http import DEFAULT_TIMEOUT, GRAPH_URL, AccessTokens
from connectors.microsoft.tokens import graph_for
from worker.model import REF_HEADER
from worker.pipeline.sender import Delivery


class OutlookSender:
    """Sends through the mailbox of the account signed in with `sign_in`; a `Sender`.

    202 is SENT ("accepted": Exchange now delivers it, or bounces it to the mailbox).
    429 and 503 with Retry-After, or no connection at all, are DEFERRED; timeouts and other
    5xx are UNKNOWN (never retried); other 4xx are REJECTED with Graph's code and message.
    A token that cannot be had raises AccountNeedsPractitioner before anything is sent.
    `tokens` and `sleep` replace the token source and retry pause (tests).
    """

    def __init__(
        self,
        *,
        account: str,
        tokens_dir: Path,
        graph_url: str = GRAPH_URL,
        save_to_sent_items: bool = True,
        clock: Callable[[], datetime],
        tokens: AccessTokens | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._graph = graph_for(
            account=account,
            tokens_dir=tokens_dir,
            tokens=tokens,
            graph_url=graph_url,
            clock=clock,
            sleep=sleep,
            timeout=timeout,
        )
        self._save = save_to_sent_items

    def send(self, message: EmailMessage) -> Delivery:
        """Hand `message` to Outlook once and report what is known about it."""
        if self._save:
            return self._graph.send_mail(
                base64.b64encode(message.as_bytes()), content_type="text/plain"
            )
        body = json.dumps({"message": json_message(message), "saveToSentItems": False})
        return self._graph.send_mail(body.encode("utf-8"), content_type="application/json")

    def draft(self, message: EmailMessage) -> Delivery:
        """Create a draft from the exact MIME bytes with POST /me/messages (needs
        Mail.ReadWrite); a `Drafter`. Outcomes as for `send`, DRAFTED in place of SENT."""
        mime = base64.b64encode(message.as_bytes())
        return self._graph.send_mail(mime, content_type="text/plain", path="/me/messages")


def json_message(message: EmailMessage) -> dict[str, Any]:
    """Graph's JSON form of a message the core built (one body, HTML preferred, and its
    attachments)."""
    body = message.get_body(preferencelist=("html", "plain"))
    html = body is not None and body.get_content_type() == "text/html"
    graph: dict[str, Any] = {
        "subject": str(message.get("Subject", "")),
        "body": {
            "contentType": "HTML" if html else "Text",
            "content": str(body.get_content()) if body is not None else "",
        },
        "toRecipients": _recipients(message, "To"),
        "internetMessageHeaders": [
            {"name": REF_HEADER.lower(), "value": str(message.get(REF_HEADER, ""))}
        ],
    }
    for header, name in (("Bcc", "bccRecipients"), ("Reply-To", "replyTo")):
        if message.get(header):
            graph[name] = _recipients(message, header)
    attachments = [_attachment(part) for part in message.iter_attachments()]
    if attachments:  # the welcome's policy document
        graph["attachments"] = attachments
    return graph


def _attachment(part: EmailMessage) -> dict[str, Any]:
    data = part.get_payload(decode=True)
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": part.get_filename() or "attachment",
        "contentType": part.get_content_type(),
        "contentBytes": base64.b64encode(data if isinstance(data, bytes) else b"").decode("ascii"),
    }


def _recipients(message: EmailMessage, header: str) -> list[dict[str, Any]]:
    addresses: list[Address] = [
        address
        for value in message.get_all(header) or []
        for address in getattr(value, "addresses", ())
    ]
    return [
        {
            "emailAddress": {
                "address": a.addr_spec,
                **({"name": a.display_name} if a.display_name else {}),
            }
        }
        for a in addresses
    ]
