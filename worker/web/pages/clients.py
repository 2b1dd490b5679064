"""Clients: every client with their cancellations, warnings, forfeits and prepaid balance;
each client's timeline with every notice as sent; their case file to download."""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from worker.clients import ClientDirectory, load_directory
from worker.errors import TemplateError
from worker.notices.casefile import CaseFile, NoticeCopy, casefile_csv, casefile_html
from worker.pipeline.casefile import UnknownClient, gather_casefile
from worker.pipeline.compose import compose
from worker.store import casefile, outbox, packages, report
from worker.store.connection import Connection
from worker.store.db import from_utc_text
from worker.web.console import Console, console_of
from worker.web.guard import NOTICE_POLICY, logged_in

EVER = datetime(1970, 1, 1, tzinfo=UTC)
# The notice is the client's email: it may frame itself only here, and runs nothing.
NOTICE_HEADERS = {"content-security-policy": NOTICE_POLICY, "x-frame-options": "SAMEORIGIN"}


def client_href(email: str) -> str:
    """The client's page; the address is quoted, so `+`, `%` or `/` in it survive the trip."""
    return "/clients/" + quote(email, safe="@")


def _roster(console: Console) -> list[dict[str, Any]]:
    """Every client: the directory's, then those only the records know; with their counts
    as `fairwarning report` makes them, over all time."""
    config = console.config
    directory = load_directory(config)
    with console.reading() as db:
        records = casefile.clients_in_records(db) if db else {}
        found = report.cancellations(db, EVER) if db else []
        balances = packages.balances(db) if db else {}
    tallies = report.tally_clients(found, config.policy.late_window)
    emails = [c.email for c in directory.all()]
    emails += sorted(e for e in records if directory.by_email(e) is None)
    rows: list[dict[str, Any]] = []
    for email in emails:
        known = directory.by_email(email)
        tally = tallies.get(email, Counter())
        rows.append(
            {
                "email": email,
                "name": (known.name if known else "") or records.get(email, ""),
                "href": client_href(email),
                "in_directory": known is not None,
                "balance": _balance(balances.get(email), known.prepaid_balance if known else None),
                **{k: tally[k] for k in ("late", "on_time", "warnings", "forfeits", "waived")},
            }
        )
    rows.sort(key=lambda r: ((r["name"] or r["email"]).casefold(), r["email"]))
    return rows


def _balance(kept: int | None, configured: int | None) -> str:
    if kept is not None:
        return str(kept)
    if configured is not None:
        return f"{configured} (opens at the next poll)"
    return "no package"


@logged_in
async def clients(request: Request) -> Response:
    console = console_of(request)
    rows = await run_in_threadpool(_roster, console)
    return console.render(request, "clients.html", clients=rows)


@dataclass(frozen=True)
class ShownNotice:
    """A notice on the client's page: as `compose` makes it for delivery when it can be."""

    copy: NoticeCopy
    subject: str
    text: str
    frame: str  # where its HTML is served, for the sandboxed iframe
    problem: str = ""  # why it could not be composed again, when it could not


def _email_of(request: Request) -> str:
    return str(request.path_params["email"]).strip().lower()


def _casefile(console: Console, db: Connection | None, email: str) -> CaseFile:
    """The client's case file; an empty one for a directory client not yet in the records;
    404 for anyone else."""
    config = console.config
    directory = load_directory(config)
    try:
        if db is None:
            raise UnknownClient(f"no client {email} in the records yet", client=email)
        return gather_casefile(db, config, console.templates(), email, console.clock())
    except UnknownClient as exc:
        known = _in_directory(directory, email)
        if known is None:
            raise HTTPException(404, exc.message) from None
        return CaseFile(email, known, console.clock(), config.practitioner.time_zone)


def _in_directory(directory: ClientDirectory, email: str) -> str | None:
    """The directory's name for the client ("" when unnamed); None when not listed."""
    known = directory.by_email(email)
    return None if known is None else known.name


def _composed(console: Console, db: Connection, ref: str) -> EmailMessage:
    """The notice as delivery composes it, as of when it was due to leave."""
    row = outbox.by_ref(db, ref)
    assert row is not None
    config = console.config
    return compose(db, row, console.templates(), config.practitioner, config.policy, row.not_before)


def _shown(console: Console, db: Connection, copy: NoticeCopy, email: str) -> ShownNotice:
    frame = f"{client_href(email)}/notices/{quote(copy.ref)}"
    try:
        message = _composed(console, db, copy.ref)
    except (TemplateError, ValueError, KeyError) as exc:
        why = f"This notice could not be composed again: {exc}"
        return ShownNotice(copy, copy.subject, copy.text, frame, problem=why)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else copy.text
    return ShownNotice(copy, str(message["Subject"]), text, frame)


def _client_page(console: Console, email: str) -> dict[str, Any]:
    with console.reading() as db:
        file = _casefile(console, db, email)
        notices = [_shown(console, db, n, email) for n in file.notices] if db else []
        balance = packages.balances(db).get(email) if db else None
    return {
        "file": file,
        "href": client_href(email),
        "balance": balance,
        "timeline": _timeline(file, notices),
    }


def _timeline(file: CaseFile, notices: list[ShownNotice]) -> list[tuple[str, Any]]:
    """Sessions, cases and notices in the order they happened, oldest first."""
    events: list[tuple[datetime, int, str, Any]] = []
    for session in file.sessions:
        events.append((from_utc_text(session["start"]), 0, "session", session))
    for case in file.cases:
        events.append((from_utc_text(case["cancelled_at"]), 1, "case", case))
    for notice in notices:
        events.append((from_utc_text(notice.copy.at), 2, "notice", notice))
    events.sort(key=lambda e: (e[0], e[1]))
    return [(kind, item) for _, _, kind, item in events]


@logged_in
async def client(request: Request) -> Response:
    console = console_of(request)
    page = await run_in_threadpool(_client_page, console, _email_of(request))
    return console.render(request, "client.html", **page)


def _notice_html(console: Console, email: str, ref: str) -> str:
    with console.reading() as db:
        row = outbox.by_ref(db, ref) if db else None
        if db is None or row is None or row.client_email.lower() != email:
            raise HTTPException(404, f"no notice {ref} to {email}")
        try:
            message = _composed(console, db, ref)
        except (TemplateError, ValueError, KeyError) as exc:
            return f"<p>This notice could not be composed again: {html.escape(str(exc))}</p>"
    body = message.get_body(preferencelist=("html", "plain"))
    if body is None:
        return "<p>This notice has no body.</p>"
    content = str(body.get_content())
    if body.get_content_subtype() == "html":
        return content
    return f"<pre>{html.escape(content)}</pre>"


@logged_in
async def notice(request: Request) -> Response:
    """A notice's HTML, for the sandboxed frame on the client's page."""
    console = console_of(request)
    ref = str(request.path_params["ref"])
    page = await run_in_threadpool(_notice_html, console, _email_of(request), ref)
    return HTMLResponse(page, headers=NOTICE_HEADERS)


EXPORTS = {
    "html": (casefile_html, "text/html; charset=utf-8"),
    "csv": (casefile_csv, "text/csv; charset=utf-8"),
}


def _export(console: Console, email: str, kind: str) -> str:
    write, _ = EXPORTS[kind]
    with console.reading() as db:
        return write(_casefile(console, db, email))


@logged_in
async def export(request: Request) -> Response:
    """The case file the CLI writes (`history --export`), as a download."""
    console = console_of(request)
    email, kind = _email_of(request), str(request.path_params["kind"])
    if kind not in EXPORTS:
        raise HTTPException(404, f"the case file is exported as {' or '.join(EXPORTS)}")
    body = await run_in_threadpool(_export, console, email, kind)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", email)
    headers = {
        "content-disposition": f'attachment; filename="casefile-{name}.{kind}"',
        "content-security-policy": NOTICE_POLICY,
    }
    return Response(body, media_type=EXPORTS[kind][1], headers=headers)


ROUTES = [
    Route("/clients", clients),
    Route("/clients/{email:path}/casefile.{kind:str}", export),
    Route("/clients/{email:path}/notices/{ref:str}", notice),
    Route("/clients/{email:path}", client),
]
