"""Review: what waits for the practitioner, the exact notice approval would send, and the
actions on it."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from worker.web import review_desk
from worker.web.console import attempt, back_to, console_of
from worker.web.guard import NOTICE_POLICY, logged_in

REF_PATTERN = "{ref:str}"


@logged_in
async def review(request: Request) -> Response:
    console = console_of(request)
    waiting = await run_in_threadpool(review_desk.everything_waiting, console)
    return console.render(request, "review.html", **waiting)


@logged_in
async def one_case(request: Request) -> Response:
    console = console_of(request)
    case_id = request.path_params["case_id"]
    found = await run_in_threadpool(review_desk.one_case, console, case_id)
    if found is None:
        raise HTTPException(404, f"There is no case {case_id}; History lists every case.")
    return console.render(request, "review_one.html", item=found)


@logged_in
async def one_notice(request: Request) -> Response:
    console = console_of(request)
    ref = request.path_params["ref"].upper()
    found = await run_in_threadpool(review_desk.one_notice, console, ref)
    if found is None:
        raise HTTPException(404, f"No notice {ref} is waiting for you; History shows them all.")
    return console.render(request, "review_one.html", item=found)


@logged_in
async def case_notice_html(request: Request) -> Response:
    found = await run_in_threadpool(
        review_desk.one_case, console_of(request), request.path_params["case_id"]
    )
    return _notice_document(found)


@logged_in
async def notice_html(request: Request) -> Response:
    ref = request.path_params["ref"].upper()
    found = await run_in_threadpool(review_desk.one_notice, console_of(request), ref)
    return _notice_document(found)


def _notice_document(found: review_desk.Waiting | None) -> Response:
    """The notice's formatted version, alone, in a sandbox: no script, no request out."""
    if found is None or not found.html:
        raise HTTPException(404, "No formatted notice to show.")
    headers = {"content-security-policy": NOTICE_POLICY, "x-frame-options": "SAMEORIGIN"}
    return HTMLResponse(found.html, headers=headers)


@logged_in
async def act_on_case(request: Request) -> Response:
    console = console_of(request)
    case_id, action = request.path_params["case_id"], request.path_params["action"]
    if action not in review_desk.CASE_ACTIONS:
        raise HTTPException(404, f"No action {action!r}.")
    reason = str((await request.form()).get("reason", "")).strip()
    said, problem = await run_in_threadpool(
        attempt, lambda: review_desk.act_on_case(console, action, case_id, reason)
    )
    return back_to(request, _after(request), said=_sentence(said), problem=problem)


@logged_in
async def act_on_notice(request: Request) -> Response:
    console = console_of(request)
    ref, action = request.path_params["ref"].upper(), request.path_params["action"]
    if action not in review_desk.NOTICE_ACTIONS:
        raise HTTPException(404, f"No action {action!r}.")
    reason = str((await request.form()).get("reason", "")).strip()
    said, problem = await run_in_threadpool(
        attempt, lambda: review_desk.act_on_notice(console, action, ref, reason)
    )
    return back_to(request, _after(request), said=_sentence(said), problem=problem)


def _after(request: Request) -> str:
    """Back to the review list, or to the case's own page when the action came from there."""
    if request.query_params.get("from") == "case":
        return request.url.path.rsplit("/", 1)[0]  # /review/12/approve → /review/12
    return "/review"


def _sentence(said: str) -> str:
    return f"{said[0].upper()}{said[1:]}." if said and not said.endswith(".") else said


ROUTES = [
    Route("/review", review),
    Route("/review/{case_id:int}", one_case),
    Route("/review/{case_id:int}/notice.html", case_notice_html),
    Route("/review/{case_id:int}/{action:str}", act_on_case, methods=["POST"]),
    Route(f"/review/notice/{REF_PATTERN}", one_notice),
    Route(f"/review/notice/{REF_PATTERN}/notice.html", notice_html),
    Route(f"/review/notice/{REF_PATTERN}/{{action:str}}", act_on_notice, methods=["POST"]),
]
