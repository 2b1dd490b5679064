"""Notice HTML shown in the console: kept briefly under random tokens, served sandboxed.

A notice's HTML is an email, never part of a console page: the page frames it with
`<iframe sandbox="">` and its address serves it under NOTICE_POLICY (no script, no requests).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from worker.web.guard import NOTICE_POLICY


@dataclass
class DraftFrames:
    """Rendered draft HTML by random token, a few per session, the oldest dropped first."""

    per_session: int = 8
    sessions: int = 64
    _frames: OrderedDict[str, OrderedDict[str, str]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, session: str, html: str) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            frames = self._frames.setdefault(session, OrderedDict())
            self._frames.move_to_end(session)
            frames[token] = html
            while len(frames) > self.per_session:
                frames.popitem(last=False)
            while len(self._frames) > self.sessions:
                self._frames.popitem(last=False)
        return token

    def get(self, session: str, token: str) -> str | None:
        with self._lock:
            return self._frames.get(session, OrderedDict()).get(token)


def frames_of(request: Request) -> DraftFrames:
    """The console's one cache of rendered drafts (made on first use, on the event loop)."""
    state = request.app.state
    if not hasattr(state, "notice_frames"):
        state.notice_frames = DraftFrames()
    frames: DraftFrames = state.notice_frames
    return frames


def plain_document(words: str) -> str:
    """A one-sentence document for the frame, where there is no notice HTML to show."""
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Preview</title>'
        f'<p style="font-family: sans-serif; color: #5b6372">{escape(words)}</p></html>'
    )


def sandboxed(document: str, status: int = 200) -> HTMLResponse:
    """A notice document under its own policy: framed by the console only, and inert."""
    return HTMLResponse(
        document,
        status_code=status,
        headers={"content-security-policy": NOTICE_POLICY, "x-frame-options": "SAMEORIGIN"},
    )
