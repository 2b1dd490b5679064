"""Editing one notice outside a text editor (the console): its two sources, a draft rendered
before anything is written, and saving it into the practitioner's templates folder.

A notice in a language is its subject (`<kind>.subject.j2`) and its body (`<kind>.md.j2`, or
an older folder's `<kind>.txt.j2`). Saving writes only the parts that differ from what is used
now, into that language's own folder, each in one step (temp file, then rename); the file it
replaces is copied first to `.history/<language>/<file>.<UTC time>` in the same folder, so
every earlier version stays there. Deleting a file of yours brings back the packaged one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from worker.config import Config
from worker.errors import TemplateError
from worker.model import Client
from worker.notices.preview import sample_message
from worker.notices.templates import RenderedNotice, TemplateLibrary

HISTORY = ".history"


@dataclass(frozen=True)
class NoticeSource:
    """What the editor starts from for one notice in one language.

    `subject_file` and `body_file` are where a save writes ("en/reminder.md.j2", relative to
    the templates folder); `subject_from` and `body_from` where the texts come from now (a
    path, or "packaged:en/…"; a variant such as `es-formal` may use its base language's).
    `html_from` is an older folder's own `.html.j2`, which this editor does not change.
    """

    kind: str
    language: str
    subject: str
    body: str
    subject_file: str
    body_file: str
    subject_from: str
    body_from: str
    html_from: str | None = None

    @property
    def markdown(self) -> bool:
        return self.body_file.endswith(".md.j2")

    @property
    def version(self) -> str:
        """A digest of the texts: a save refuses when the files changed since the editor opened."""
        return hashlib.sha256(f"{self.subject}\0{self.body}".encode()).hexdigest()[:16]

    def drafts(self, subject: str, body: str) -> dict[str, str]:
        return {self.subject_file: tidy(subject), self.body_file: tidy(body)}


@dataclass(frozen=True)
class Saved:
    """What a save did: files written, and where the versions they replaced were kept."""

    written: tuple[Path, ...]
    kept: tuple[Path, ...]


def tidy(text: str) -> str:
    """A browser's text as a file holds it: Unix line ends, one final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if not text or text.endswith("\n") else text + "\n"


def own_folder(config: Config) -> Path | None:
    """The configured templates folder when it exists (a missing one is made by a save)."""
    folder = config.templates_dir
    return folder if folder is not None and folder.is_dir() else None


def library_of(config: Config, drafts: dict[str, str] | None = None) -> TemplateLibrary:
    return TemplateLibrary(user_dir=own_folder(config), drafts=drafts)


def notice_source(library: TemplateLibrary, kind: str, language: str, start: str) -> NoticeSource:
    """The notice's texts as used now; a part missing in `language` starts as `start`'s
    (the practitioner's language: a copy to translate), or empty, and its `…_from` is ""."""
    subject = library.source_text(kind, language, "subject")
    body = library.source_text(kind, language, "body")
    subject_text = (subject or library.source_text(kind, start, "subject") or ("", ""))[1]
    body_name, body_text = body or library.source_text(kind, start, "body") or ("", "")
    suffix = "txt.j2" if body_name.endswith(".txt.j2") else "md.j2"
    html = library.source_of(kind, language, "html") if body and suffix == "txt.j2" else None
    return NoticeSource(
        kind=kind,
        language=language,
        subject=subject_text,
        body=body_text,
        subject_file=f"{language}/{kind}.subject.j2",
        body_file=f"{language}/{kind}.{suffix}",
        subject_from=library.source_of(kind, language, "subject") if subject else "",
        body_from=library.source_of(kind, language, "text") if body else "",
        html_from=html if html and not html.startswith("packaged:") else None,
    )


def render_draft(
    config: Config,
    source: NoticeSource,
    subject: str,
    body: str,
    now: datetime,
    *,
    client: Client | None = None,
) -> RenderedNotice:
    """The notice as the posted (unsaved) texts would render it, with preview's sample session
    (or `client`'s name and address). Raises TemplateError naming `draft:<file>` and the line,
    or ValueError for an address that cannot be written in an email."""
    library = library_of(config, source.drafts(subject, body))
    _, rendered = sample_message(
        config, library, source.kind, source.language, now, client=client, attach=False
    )
    return rendered


def save_notice(
    config: Config, source: NoticeSource, subject: str, body: str, now: datetime
) -> Saved:
    """Write the changed parts into the templates folder, keeping what they replace.

    The caller has rendered the draft first: a notice that does not render is never saved.
    Raises TemplateError when no templates folder is configured.
    """
    folder = config.templates_dir
    if folder is None:
        raise TemplateError(
            'no templates folder is configured: add templates_dir = "templates" to your '
            "config file (it is relative to the config file), then restart the console; "
            "`fairwarning init` can fill it with copies of the notices"
        )
    written, kept = [], []
    for name, text, current, used in (
        (source.subject_file, subject, source.subject, source.subject_from),
        (source.body_file, body, source.body, source.body_from),
    ):
        if used and tidy(text) == tidy(current):
            continue  # unchanged: a packaged or inherited text keeps following its original
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file():
            kept.append(_keep(folder, name, now))
        write_atomically(target, tidy(text))
        written.append(target)
    return Saved(tuple(written), tuple(kept))


def _keep(folder: Path, name: str, now: datetime) -> Path:
    """Copy the current file to `.history/<name>.<UTC time>` (never overwriting one)."""
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    copy = folder / HISTORY / f"{name}.{stamp}"
    number = 1
    while copy.exists():
        number += 1
        copy = folder / HISTORY / f"{name}.{stamp}-{number}"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(folder / name, copy)
    return copy


def write_atomically(target: Path, text: str) -> None:
    """Replace `target` with `text` in one step: the worker never reads half a template.
    Keeps the file's permissions (0644 for a new one)."""
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
