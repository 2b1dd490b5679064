"""Logging in and out."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from worker.web.console import console_of
from worker.web.guard import check_csrf, csrf_token, logged_in
from worker.web.keys import check_password, password_generation


async def login(request: Request) -> Response:
    console = console_of(request)
    next_page = _local(request.query_params.get("next", "/"))
    if request.method == "GET":
        return console.render(request, "login.html", next_page=next_page, wait=0, wrong=False)
    await check_csrf(request)
    address = request.client.host if request.client else "unknown"
    wait = console.throttle.wait(address)
    if wait:
        page = console.render(
            request, "login.html", status=429, next_page=next_page, wait=wait, wrong=False
        )
        page.headers["retry-after"] = str(wait)
        return page
    form = await request.form()
    password = form.get("password")
    state_dir = console.config.state_dir
    if isinstance(password, str) and await run_in_threadpool(check_password, state_dir, password):
        console.throttle.succeeded(address)
        request.session.clear()  # a fresh session: nothing carried over from before the login
        request.session["user"] = console.config.practitioner.email
        request.session["generation"] = password_generation(state_dir)
        csrf_token(request)
        return RedirectResponse(_local(str(form.get("next", "/"))), status_code=303)
    console.throttle.failed(address)
    return console.render(
        request, "login.html", status=401, next_page=next_page, wait=0, wrong=True
    )


@logged_in
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _local(target: str) -> str:
    """Only a path on this console: never send the practitioner elsewhere after login."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


ROUTES = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
