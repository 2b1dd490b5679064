"""What keeps the console safe: security headers, logged-in pages, CSRF tokens, and a brake
on guessing the password."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from worker.web.keys import password_generation

# No inline script anywhere; the notice preview is a separate, sandboxed document.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# A notice's HTML is the client's email: its own inline styles, never a script or a request.
NOTICE_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """Every response gets the page policy unless it set its own (the notice preview)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", PAGE_POLICY)
                headers.setdefault("x-frame-options", "DENY")
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "no-referrer"
                headers["cache-control"] = "no-store"
                headers["cross-origin-opener-policy"] = "same-origin"
                if scope.get("scheme") == "https":
                    _secure_cookies(headers)
            await send(message)

        await self.app(scope, receive, with_headers)


def _secure_cookies(headers: MutableHeaders) -> None:
    """Served over https (directly, or through a proxy uvicorn trusts): cookies say Secure."""
    cookies = headers.getlist("set-cookie")
    if not cookies:
        return
    del headers["set-cookie"]
    for cookie in cookies:
        secure = "; secure" in cookie.lower()
        headers.append("set-cookie", cookie if secure else f"{cookie}; secure")


Endpoint = Callable[[Request], Awaitable[Response]]


def logged_in(endpoint: Endpoint) -> Endpoint:
    """The page needs a session; without one, the login page and then back here."""

    async def guarded(request: Request) -> Response:
        generation = password_generation(request.app.state.console.config.state_dir)
        if request.session.get("generation") != generation:
            request.session.clear()
        if not request.session.get("user"):
            back = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            return RedirectResponse(f"/login?next={back}", status_code=303)
        if request.method == "POST":
            await check_csrf(request)
        return await endpoint(request)

    guarded.__name__ = endpoint.__name__
    guarded.__doc__ = endpoint.__doc__
    return guarded


def csrf_token(request: Request) -> str:
    token: str | None = request.session.get(CSRF_FIELD)
    if token is None:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """403 unless the request carries this session's token, in the form or a header."""
    expected = request.session.get(CSRF_FIELD)
    given = request.headers.get(CSRF_HEADER)
    if given is None and _is_form(request):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise HTTPException(
            403, "This form has expired or did not come from the console; reload and try again."
        )


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


class LoginThrottle:
    """At most `attempts` wrong passwords per client address in `window` seconds."""

    def __init__(self, attempts: int = 5, window: float = 900.0, clock: Any = time.monotonic):
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait(self, address: str) -> int:
        """Seconds before `address` may try again; 0 when it may try now."""
        with self._lock:
            failures = self._recent(address)
            if len(failures) < self.attempts:
                return 0
            return max(1, int(failures[0] + self.window - self.clock()) + 1)

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self.clock())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        return failures
