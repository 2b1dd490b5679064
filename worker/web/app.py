"""The console's web application: its routes, its guards, and how it is served."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from worker.config import Config
from worker.errors import FairWarningError
from worker.web.console import Console
from worker.web.guard import SecurityHeaders
from worker.web.keys import session_key
from worker.web.pages import clients, history, login, notices, review, settings, today

SESSION_COOKIE = "fairwarning_session"


def build_console(
    config: Config, *, clock: Callable[[], datetime], config_path: Path | None = None
) -> Starlette:
    """The console for this configuration (read from `config_path`, which settings quotes);
    refuses (NoPassword) until a password is set."""
    key = session_key(config.state_dir)
    console = Console(config=config, clock=clock, config_path=config_path)
    routes = [
        *login.ROUTES,
        *today.ROUTES,
        *review.ROUTES,
        *clients.ROUTES,
        *history.ROUTES,
        *settings.ROUTES,
        *notices.ROUTES,
        Mount("/static", StaticFiles(packages=[("worker.web", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=key,
                session_cookie=SESSION_COOKIE,
                max_age=int(config.web.idle_timeout.total_seconds()),
                same_site="strict",
                https_only=config.web.secure,
            ),
        ],
        exception_handlers={HTTPException: _refusal, FairWarningError: _trouble},
    )
    app.state.console = console
    return app


async def _refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    console: Console = request.app.state.console
    return console.render(
        request, "refused.html", status=exc.status_code, why=exc.detail, code=exc.status_code
    )


async def _trouble(request: Request, exc: Exception) -> Response:
    """A state or configuration fault: said plainly, with the fix, as `status` would."""
    assert isinstance(exc, FairWarningError)
    console: Console = request.app.state.console
    return console.render(request, "refused.html", status=503, why=exc.message, code=503)
