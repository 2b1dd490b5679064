"""What every page shares: the configuration, the clock, the state database and rendering."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from worker.config import Config
from worker.errors import FairWarningError, NoState
from worker.notices.templates import TemplateLibrary
from worker.service.times import local_clock, local_time
from worker.store.db import open_existing, transaction
from worker.web.guard import LoginThrottle, csrf_token

NAVIGATION = (
    ("/", "Today"),
    ("/review", "Review"),
    ("/clients", "Clients"),
    ("/notices", "Notices"),
    ("/history", "History"),
    ("/settings", "Settings"),
)


@dataclass
class Console:
    """One console over one practice's configuration and state."""

    config: Config
    clock: Callable[[], datetime]
    config_path: Path | None = None  # the file `config` was read from, for settings' sources
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    pages: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            loader=jinja2.PackageLoader("worker.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
    )

    def templates(self) -> TemplateLibrary:
        """The notice templates as they are on disk now: an edit shows without a restart."""
        return TemplateLibrary(user_dir=self.config.templates_dir)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection | None]:
        """The state database for reading; None before the worker's first cycle."""
        try:
            db = open_existing(self.config.state_dir, read_only=True)
        except NoState:
            yield None
            return
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def connected(self) -> Iterator[sqlite3.Connection]:
        """The state database for functions that open their own short transactions."""
        db = open_existing(self.config.state_dir, read_only=False)
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction beside the running worker (BEGIN IMMEDIATE waits for
        the worker's own transaction to end rather than failing)."""
        db = open_existing(self.config.state_dir, read_only=False)
        try:
            with transaction(db):
                yield db
        finally:
            db.close()

    def when(self, moment: datetime) -> str:
        return local_time(moment, self.config.practitioner.time_zone, now=self.clock())

    def soon(self, moment: datetime) -> str:
        return local_clock(moment, self.config.practitioner.time_zone, self.clock())

    def render(
        self, request: Request, page: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        said = request.session.pop("said", None) if "session" in request.scope else None
        problem = request.session.pop("problem", None) if "session" in request.scope else None
        body = self.pages.get_template(page).render(
            request=request,
            navigation=NAVIGATION,
            here=request.url.path,
            practitioner=self.config.practitioner,
            csrf=csrf_token(request) if "session" in request.scope else "",
            said=said,
            problem=problem,
            when=self.when,
            soon=self.soon,
            **context,
        )
        return HTMLResponse(body, status_code=status)


def console_of(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def back_to(request: Request, path: str, *, said: str = "", problem: str = "") -> RedirectResponse:
    """After a form: what happened, shown once on the page it leads to (post, redirect, get)."""
    if said:
        request.session["said"] = said
    if problem:
        request.session["problem"] = problem
    return RedirectResponse(path, status_code=303)


def attempt(action: Callable[[], str]) -> tuple[str, str]:
    """(what happened, "") or ("", why it could not be done) for a console action."""
    try:
        return action(), ""
    except FairWarningError as exc:
        return "", exc.message


def utcnow() -> datetime:
    return datetime.now(UTC)
