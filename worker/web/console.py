"""What every page shares: the configuration, the clock, the state database and rendering."""

from __future__ import annotations

import contextlib
import threading
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
from worker.service.times import local_time
from worker.store.connection import DATABASE_ERRORS, Connection
from worker.store.db import database_path, from_utc_text, open_existing, transaction
from worker.web.guard import LoginThrottle, csrf_token

NAVIGATION = (
    ("/", "Today"),
    ("/review", "Review"),
    ("/clients", "Clients"),
    ("/notices", "Notices"),
    ("/history", "History"),
    ("/settings", "Settings"),
)


class _Connections(threading.local):
    """Each server thread keeps its own connections: SQLite's are not shared across threads."""

    def __init__(self) -> None:
        self.by_kind: dict[bool, tuple[int, Connection]] = {}


def _stamp(folder: Path | None) -> object:
    """What changes when any template file in `folder` is saved, added or removed."""
    if folder is None or not folder.is_dir():
        return ()
    return tuple(
        sorted(
            (str(path), path.stat().st_mtime_ns, path.stat().st_size)
            for path in folder.rglob("*")
            if path.is_file() and ".history" not in path.parts
        )
    )


@dataclass
class Console:
    """One console over one practice's configuration and state."""

    config: Config
    clock: Callable[[], datetime]
    config_path: Path | None = None  # the file `config` was read from, for settings' sources
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    _library: tuple[object, TemplateLibrary] | None = field(default=None, repr=False)
    _open: _Connections = field(default_factory=lambda: _Connections(), repr=False)
    pages: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            loader=jinja2.PackageLoader("worker.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
    )

    def templates(self) -> TemplateLibrary:
        """The notice templates as they are on disk now: an edit shows without a restart.

        Kept while no file in the templates folder changes, so Jinja compiles each template
        once rather than on every page.
        """
        stamp = _stamp(self.config.templates_dir)
        kept = self._library
        if kept is None or kept[0] != stamp:
            kept = self._library = (stamp, TemplateLibrary(user_dir=self.config.templates_dir))
        return kept[1]

    @contextmanager
    def reading(self) -> Iterator[Connection | None]:
        """The state database for reading; None before the worker's first cycle."""
        try:
            db = self._connection(read_only=True)
        except NoState:
            yield None
            return
        with self._dropped_on_error(db, read_only=True):
            yield db

    @contextmanager
    def connected(self) -> Iterator[Connection]:
        """The state database for functions that open their own short transactions."""
        db = self._connection(read_only=False)
        with self._dropped_on_error(db, read_only=False):
            yield db

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One short write transaction beside the running worker (BEGIN IMMEDIATE waits for
        the worker's own transaction to end rather than failing)."""
        db = self._connection(read_only=False)
        with self._dropped_on_error(db, read_only=False), transaction(db):
            yield db

    def _connection(self, *, read_only: bool) -> Connection:
        """This thread's connection, checked (integrity, migrations) when first opened and
        opened again when the database file was replaced."""
        path = database_path(self.config.state_dir)
        try:
            identity = path.stat().st_ino
        except FileNotFoundError:
            identity = -1
        kept = self._open.by_kind.get(read_only)
        if kept is not None and kept[0] == identity:
            return kept[1]
        if kept is not None:
            self._drop(read_only)
        db = open_existing(self.config.state_dir, read_only=read_only, state=self.config.state)
        self._open.by_kind[read_only] = (identity, db)
        return db

    @contextmanager
    def _dropped_on_error(self, db: Connection, *, read_only: bool) -> Iterator[None]:
        try:
            yield
        except DATABASE_ERRORS:
            self._drop(read_only)  # a fault: the next request opens and checks afresh
            raise

    def _drop(self, read_only: bool) -> None:
        kept = self._open.by_kind.pop(read_only, None)
        if kept is not None:
            with contextlib.suppress(*DATABASE_ERRORS):
                kept[1].close()

    def when(self, moment: datetime) -> str:
        return local_time(moment, self.config.practitioner.time_zone, now=self.clock())

    def render(
        self, request: Request, page: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        # Without a session (an error met before the session middleware) there is nothing
        # to say once and no form to protect.
        sessions = "session" in request.scope
        body = self.pages.get_template(page).render(
            request=request,
            navigation=NAVIGATION,
            here=request.url.path,
            practitioner=self.config.practitioner,
            csrf=csrf_token(request) if sessions else "",
            said=request.session.pop("said", None) if sessions else None,
            problem=request.session.pop("problem", None) if sessions else None,
            when=self.when,
            moment=from_utc_text,
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
