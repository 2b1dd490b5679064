"""Notices: every notice in every language, and an editor for one with its preview.

The preview renders the posted (unsaved) texts exactly as `fairwarning preview` renders the
saved ones. Its HTML is served as a separate sandboxed document under a random token kept for
this session only (web/frames.py), so a draft never needs saving to be seen. With the page's
own preview.js the preview follows the typing; without it, the Preview button does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from worker.clients import load_directory
from worker.errors import FairWarningError, TemplateError
from worker.model import Client
from worker.notices.courtesy import COURTESY_KINDS
from worker.notices.editing import (
    HISTORY,
    NoticeSource,
    library_of,
    notice_source,
    render_draft,
    save_notice,
)
from worker.notices.languages import language_problems
from worker.notices.preview import message_to_self
from worker.notices.templates import KINDS, LANGUAGE, TemplateLibrary
from worker.service.testsend import send_to_self
from worker.web.console import Console, back_to, console_of
from worker.web.frames import frames_of, plain_document, sandboxed
from worker.web.guard import csrf_token, logged_in

NOTICE_KINDS = KINDS + COURTESY_KINDS
KIND_NAMES = {
    "reminder": "Reminder (a first late cancellation)",
    "forfeit": "Forfeit (the session is charged)",
    "welcome": "Welcome (the policy in full)",
    "session_reminder": "Note before a session",
    "closure": "Closure",
}


@dataclass(frozen=True)
class Preview:
    """The notice as the texts render it, or why they do not."""

    subject: str = ""
    text: str = ""
    html: str | None = None
    error: str = ""
    line: int | None = None


def _frame_of(request: Request, preview: Preview) -> str:
    """The iframe's address for this preview's HTML ("" when it did not render)."""
    if preview.error:
        return ""
    document = preview.html or plain_document(
        "This notice has no HTML part: mail programs show its text."
    )
    return f"/notices/frame/{frames_of(request).keep(csrf_token(request), document)}"


# The list of notices.


def _overview(console: Console) -> dict[str, Any]:
    library = library_of(console.config)  # a configured folder not made yet: the packaged
    languages = library.languages()
    rows = []
    for kind in NOTICE_KINDS:
        cells = [_whose(library, kind, language) for language in languages]
        rows.append({"kind": kind, "name": KIND_NAMES[kind], "cells": cells})
    return {
        "languages": languages,
        "rows": rows,
        "style": library.style().summary(),
        "problems": [str(problem) for problem in language_problems(console.config, library)],
        "folder": console.config.templates_dir,
        "folder_note": _folder_note(console),
    }


def _whose(library: TemplateLibrary, kind: str, language: str) -> dict[str, str]:
    link = f"/notices/{kind}/{language}"
    if not library.has(kind, language):
        return {
            "href": link,
            "whose": "missing",
            "note": "not written yet: the editor starts from a copy to translate",
        }
    parts = [library.source_of(kind, language, part) for part in ("subject", "text")]
    own = [part for part in parts if not part.startswith("packaged:")]
    folders = {_folder_of(part) for part in parts}
    whose = "yours" if len(own) == 2 else "partly yours" if own else "packaged"
    inherited = sorted(folders - {language})
    note = f"uses {', '.join(inherited)}'s" if inherited else ""
    return {"href": link, "whose": whose, "note": note}


def _folder_of(source: str) -> str:
    """The language folder a template comes from: "packaged:es/x" or "/…/templates/es/x"."""
    return source.removeprefix("packaged:").replace("\\", "/").split("/")[-2]


def _folder_note(console: Console) -> str:
    folder = console.config.templates_dir
    if folder is None:
        where = console.config_path or "your config file"
        return (
            "No templates folder is configured, so these are the packaged notices and saving "
            f'is off. Add templates_dir = "templates" at the top of {where} (a folder beside '
            "it; `fairwarning init` fills it with copies of the notices), then restart the "
            "console."
        )
    if not folder.is_dir():
        return f"Your templates folder {folder} does not exist yet; the first save creates it."
    return ""


@logged_in
async def notices(request: Request) -> Response:
    console = console_of(request)
    overview = await run_in_threadpool(_overview, console)
    return console.render(request, "notices.html", **overview)


# One notice: the editor.


@dataclass(frozen=True)
class Draft:
    """What the editor posted: the texts, whom to preview for, and the version it started from."""

    subject: str
    body: str
    client: str = ""
    version: str = ""


def _notice_of(request: Request) -> tuple[str, str]:
    kind, language = request.path_params["kind"], request.path_params["language"]
    if kind not in NOTICE_KINDS or not LANGUAGE.match(language):
        raise HTTPException(404, "There is no such notice; pick one from the Notices page.")
    return kind, language


def _source(console: Console, kind: str, language: str) -> NoticeSource:
    library = library_of(console.config)
    if language not in library.languages():
        raise HTTPException(
            404,
            f"There are no notices in {language!r}; to add a language, make a folder named "
            "for it in your templates folder (see README, Templates).",
        )
    return notice_source(library, kind, language, console.config.practitioner.language)


def _clients(console: Console) -> list[Client]:
    try:
        return load_directory(console.config).all()
    except FairWarningError:
        return []  # a broken clients CSV: `fairwarning check` says why; the sample still works


def _client(console: Console, email: str) -> Client | None:
    if not email:
        return None
    return next((c for c in _clients(console) if c.email.lower() == email.lower()), None)


def _preview(console: Console, source: NoticeSource, draft: Draft) -> Preview:
    client = _client(console, draft.client)
    try:
        rendered = render_draft(
            console.config, source, draft.subject, draft.body, console.clock(), client=client
        )
    except TemplateError as exc:
        return Preview(error=_explained(source, exc), line=exc.fields.get("line"))
    except ValueError as exc:
        return Preview(error=f"This notice cannot be written as an email: {exc}")
    return Preview(subject=rendered.subject, text=rendered.text, html=rendered.html)


def _explained(source: NoticeSource, exc: TemplateError) -> str:
    """The error with the part of the editor it is in ("Subject, line 1: …")."""
    where = str(exc.fields.get("source", ""))
    line = exc.fields.get("line")
    for part, name in (("Subject", source.subject_file), ("Text", source.body_file)):
        if where == f"draft:{name}":
            detail = exc.message.removeprefix(f"{where}, line {line}: ").removeprefix(f"{where}: ")
            return f"{part}, line {line}: {detail}" if line else f"{part}: {detail}"
    return exc.message


def _editor(
    request: Request, console: Console, source: NoticeSource, draft: Draft, preview: Preview
) -> dict[str, Any]:
    folder = console.config.templates_dir
    return {
        "kind": source.kind,
        "language": source.language,
        "title": f"{KIND_NAMES[source.kind]} · {source.language}",
        "source": source,
        "draft": draft,
        "version": draft.version or source.version,
        "clients": _clients(console),
        "preview": preview,
        "frame": _frame_of(request, preview),
        "folder": folder,
        "folder_note": _folder_note(console),
        "history": f"{folder}/{HISTORY}/{source.language}/" if folder else "",
        "account": console.config.accounts[0].name,
    }


@logged_in
async def notice(request: Request) -> Response:
    console = console_of(request)
    kind, language = _notice_of(request)
    source = await run_in_threadpool(_source, console, kind, language)
    if request.method == "GET":
        draft = Draft(source.subject, source.body, request.query_params.get("client", ""))
        preview = await run_in_threadpool(_preview, console, source, draft)
        return console.render(
            request, "notice.html", **_editor(request, console, source, draft, preview)
        )
    draft = await _posted(request)
    action = (await request.form()).get("action", "preview")
    if action == "save":
        return await _save(request, console, source, draft)
    if action == "test":
        request.session["said"], request.session["problem"] = await run_in_threadpool(
            _send_test, console, source, draft
        )
    preview = await run_in_threadpool(_preview, console, source, draft)
    return console.render(
        request, "notice.html", **_editor(request, console, source, draft, preview)
    )


async def _posted(request: Request) -> Draft:
    form = await request.form()
    texts = {key: form.get(key, "") for key in ("subject", "body", "client", "version")}
    return Draft(**{key: value if isinstance(value, str) else "" for key, value in texts.items()})


async def _save(request: Request, console: Console, source: NoticeSource, draft: Draft) -> Response:
    said, problem, preview = await run_in_threadpool(_saved, console, source, draft)
    if not problem:
        return back_to(request, request.url.path, said=said)
    request.session["problem"] = problem
    context = _editor(request, console, source, draft, preview)
    return console.render(request, "notice.html", status=422, **context)


def _saved(console: Console, source: NoticeSource, draft: Draft) -> tuple[str, str, Preview]:
    """(what was saved, "", preview) or ("", why nothing was saved, preview)."""
    preview = _preview(console, source, draft)
    if preview.error:
        return "", f"Not saved: this notice does not render. {preview.error}", preview
    if draft.version and draft.version != source.version:
        return (
            "",
            (
                "Not saved: this notice was changed on disk since you opened it. Your text is "
                "still below: copy it, reload the page, and make your change again."
            ),
            preview,
        )
    try:
        saved = save_notice(console.config, source, draft.subject, draft.body, console.clock())
    except FairWarningError as exc:
        return "", f"Not saved: {exc.message}", preview
    except OSError as exc:
        return (
            "",
            f"Not saved: {exc.strerror or exc} ({exc.filename or 'templates folder'})",
            preview,
        )
    if not saved.written:
        return "Nothing to save: the texts are the ones already in use.", "", preview
    said = "Saved " + " and ".join(str(path) for path in saved.written)
    if saved.kept:
        said += "; the previous version is kept as " + " and ".join(str(p) for p in saved.kept)
    return said + ". Notices still waiting will be sent with it.", "", preview


def _send_test(console: Console, source: NoticeSource, draft: Draft) -> tuple[str, str]:
    """(what the sender did, "") or ("", why it could not be sent): the editor's texts, saved
    or not, to the practitioner through the first account's sender, as `test-send` does."""
    config = console.config
    library = library_of(config, source.drafts(draft.subject, draft.body))
    now = console.clock()
    try:
        message = message_to_self(
            config,
            library,
            source.kind,
            source.language,
            now,
            client=_client(console, draft.client),
        )
        sent = send_to_self(
            config,
            config.accounts[0],
            message,
            console.clock,
            what=f"The test {source.kind.replace('_', ' ')} ({message['Subject']})",
        )
    except TemplateError as exc:
        return "", f"Not sent: this notice does not render. {_explained(source, exc)}"
    except ValueError as exc:
        return "", f"Not sent: the test cannot be written as an email: {exc}"
    except FairWarningError as exc:
        return "", f"Not sent: {exc.message}"
    return (sent.said + ".", "") if sent.sent else ("", sent.said + ".")


@logged_in
async def live(request: Request) -> Response:
    """The preview for the editor's script: subject, text, error and the iframe's address."""
    console = console_of(request)
    kind, language = _notice_of(request)
    source = await run_in_threadpool(_source, console, kind, language)
    preview = await run_in_threadpool(_preview, console, source, await _posted(request))
    return JSONResponse(
        {
            "subject": preview.subject,
            "text": preview.text,
            "error": preview.error,
            "line": preview.line,
            "frame": _frame_of(request, preview),
        }
    )


@logged_in
async def frame(request: Request) -> Response:
    """A draft's HTML as its own document: sandboxed, no script, no requests."""
    found = frames_of(request).get(csrf_token(request), request.path_params["token"])
    if found is None:
        return sandboxed(plain_document("This preview has expired: press Preview again."), 404)
    return sandboxed(found)


ROUTES = [
    Route("/notices", notices),
    Route("/notices/frame/{token}", frame),
    Route("/notices/{kind}/{language}", notice, methods=["GET", "POST"]),
    Route("/notices/{kind}/{language}/live", live, methods=["POST"]),
]
