"""History: every case with its reasons and what became of its notice, searched by client
and by the days the cancellations were made, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from worker.store import views
from worker.web.console import Console, console_of
from worker.web.guard import logged_in
from worker.web.pages.clients import client_href

PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Search:
    """What the practitioner asked for: a piece of a client's address or name, and the days
    (in their own zone) the cancellations were made, both ends included."""

    client: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    def query(self, page: int) -> str:
        """This search's address on another page."""
        asked = {
            "client": self.client,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
        }
        return "/history?" + urlencode({**{k: v for k, v in asked.items() if v}, "page": page})


def _search(request: Request) -> tuple[Search, list[str]]:
    """The search in the query string, and what in it could not be read."""
    params = request.query_params
    problems = []
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        written = params.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(written) if written else None
        except ValueError:
            days[name] = None
            problems.append(f"“{written}” is not a date; write it as 2025-03-31.")
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    search = Search(params.get("client", "").strip()[:200], days["from"], days["to"], page)
    return search, problems


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone))


def _history(console: Console, search: Search) -> dict[str, Any]:
    zone = console.config.practitioner.time_zone
    since = _midnight(search.since, zone) if search.since else None
    until = _midnight(search.until + timedelta(days=1), zone) if search.until else None
    found: list[dict[str, Any]] = []
    total = 0
    with console.reading() as db:
        if db is not None:
            found, total = views.search_cases(
                db,
                client_text=search.client,
                since=since,
                until=until,
                limit=PAGE_SIZE,
                offset=(search.page - 1) * PAGE_SIZE,
            )
    for case in found:
        case["href"] = client_href(case["client_email"]) if case["client_email"] else ""
        case["waiting"] = views.needs_practitioner(case)
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "cases": found,
        "total": total,
        "pages": pages,
        "previous": search.query(search.page - 1) if search.page > 1 else "",
        "next": search.query(search.page + 1) if search.page < pages else "",
    }


@logged_in
async def history(request: Request) -> Response:
    console = console_of(request)
    search, problems = _search(request)
    found = await run_in_threadpool(_history, console, search)
    return console.render(
        request,
        "history.html",
        search=search,
        problems=problems,
        **found,
    )


ROUTES = [Route("/history", history)]
