"""The notice templates: packaged defaults, the practitioner's overrides, and rendering.

Templates live one folder per language (`en/`, `es/`, `es-formal/`). Each notice is written
once, in Markdown: `<kind>.md.j2`, plus a one-line `<kind>.subject.j2`; the plain-text and
HTML parts are both made from it (notices/markdown.py, notices/layout.py). The alerts to the
practitioner are plain text only (`<kind>.txt.j2`).

The practitioner's folder, if configured, has the same layout and overrides the packaged
defaults file by file. Folders written before Markdown notices keep working as they were:
a `<kind>.txt.j2` of theirs is that notice's text (it wins over a `.md.j2` beside it), with
their `<kind>.html.j2` as its HTML part if they wrote one and no HTML part otherwise (mail
programs show HTML first, so packaged HTML would hide their words). `TemplateLibrary.style`
says which way a folder is written.

A language folder such as `es-formal` or `en-US` takes any file it lacks from its base
language (`es`, `en`), so a variant holds only what differs.

Rendering runs in Jinja2's sandbox with StrictUndefined; values inserted into Markdown are
escaped for Markdown, and `.html.j2` files are HTML-autoescaped. Every problem becomes a
`TemplateError` naming the file, the line and what would fix it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from worker.config.practice import base_language
from worker.errors import TemplateError
from worker.notices.layout import html_body, page
from worker.notices.loader import Loader, explain
from worker.notices.markdown import markdown_value, parse, plain_text
from worker.notices.phrases import notice_name

KINDS = ("reminder", "forfeit")
_SUFFIX = {"subject": "subject.j2", "text": "txt.j2", "html": "html.j2", "markdown": "md.j2"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(?:[_-][A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class RenderedNotice:
    """One notice ready to become an email: a one-line subject, a text body, maybe HTML."""

    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class _Body:
    """Where one notice's body comes from: a Markdown source, or text (and maybe HTML) files."""

    source: str
    markdown: bool
    html: str | None


@dataclass(frozen=True)
class TemplateStyle:
    """How the practitioner's templates folder writes its notices, for `fairwarning check`.

    `markdown` and `separate` list notices ("en/reminder") written as one Markdown source or
    as the older separate text (and HTML) files; `shadowed` those with both, where the
    `.txt.j2` is used.
    """

    markdown: tuple[str, ...] = ()
    separate: tuple[str, ...] = ()
    shadowed: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """ "packaged" (no notices of their own), "markdown", "separate" or "mixed"."""
        if self.markdown and self.separate:
            return "mixed"
        return "markdown" if self.markdown else "separate" if self.separate else "packaged"

    def summary(self) -> str:
        """One or two sentences for the practitioner."""
        said = {
            "packaged": "no notices of your own: the packaged ones are used",
            "markdown": "one Markdown source per notice (.md.j2); the plain-text and HTML "
            "versions are made from it",
            "separate": "separate text and HTML files per notice (.txt.j2, .html.j2), the "
            "older style: still supported; to switch, write a .md.j2 and delete them",
            "mixed": f"mixed: {', '.join(self.separate)} use separate text and HTML files, "
            f"{', '.join(self.markdown)} one Markdown source",
        }[self.name]
        for notice in self.shadowed:
            kind = notice.split("/")[1]
            said += (
                f"; {notice} has both {kind}.md.j2 and {kind}.txt.j2: the .txt.j2 is used, "
                "delete it (and its .html.j2) to use the Markdown one"
            )
        return said


class TemplateLibrary:
    """Every notice template the worker can use, and the one way to render them."""

    def __init__(
        self, *, user_dir: Path | None = None, drafts: Mapping[str, str] | None = None
    ) -> None:
        """`user_dir` is the practitioner's templates folder (same layout as the defaults);
        `drafts` unsaved texts by file name ("en/reminder.md.j2"), used before either."""
        if user_dir is not None and not user_dir.is_dir():
            raise TemplateError(
                f"templates folder {user_dir} does not exist; create it (one subfolder per "
                "language, e.g. en/reminder.md.j2) or remove templates_dir from the config",
                source=str(user_dir),
            )
        self._loader = Loader(user_dir, drafts)
        self._plain = self._environment(finalize=None)
        self._markdown = self._environment(finalize=markdown_value)

    def _environment(self, *, finalize: Callable[[object], str] | None) -> SandboxedEnvironment:
        env = SandboxedEnvironment(
            loader=self._loader,
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html.j2", "htm.j2"),
                disabled_extensions=(),
                default_for_string=False,
                default=False,
            ),
            keep_trailing_newline=True,
            auto_reload=True,
            finalize=finalize,
        )
        env.filters["notice_name"] = notice_name
        return env

    def languages(self) -> list[str]:
        """Languages with at least one template, packaged or the practitioner's."""
        return sorted(name for name in self._loader.folders() if LANGUAGE.match(name))

    def has(self, kind: str, language: str) -> bool:
        """Whether a subject and a body exist for this kind and language."""
        return self._find(kind, language, "subject") is not None and (
            self._body(kind, language) is not None
        )

    def template_language(self, wanted: str | None) -> str | None:
        """The language folder with templates for every kind that serves `wanted`: itself, or
        its base language (`es-MX` → `es`); None when neither has them."""
        if not wanted:
            return None
        folders = self._loader.folders()
        for candidate in (wanted, base_language(wanted)):
            if (
                LANGUAGE.match(candidate)
                and candidate in folders
                and all(self.has(kind, candidate) for kind in KINDS)
            ):
                return candidate
        return None

    def choose_language(self, wanted: str | None, fallback: str) -> str:
        """The best language with templates for every kind: `es-MX` → `es`, else `fallback`."""
        return self.template_language(wanted) or self.template_language(fallback) or fallback

    def source_of(self, kind: str, language: str, part: str) -> str:
        """Where a part ("subject", "text", "html") comes from: a path, or "packaged:<name>".

        For a Markdown notice, "text" and "html" both come from its `.md.j2`.
        """
        if part == "subject":
            name = self._find(kind, language, "subject") or _file(kind, language, "subject")
        else:
            body = self._body(kind, language)
            name = _file(kind, language, part) if body is None else body.source
            if body is not None and part == "html" and body.html is not None:
                name = body.html
        return self._loader.source_name(name)

    def source_text(self, kind: str, language: str, part: str) -> tuple[str, str] | None:
        """The template used for a notice's "subject" or "body" (its Markdown source, or an
        older folder's `.txt.j2`) and that template's text; None when there is none."""
        if part == "subject":
            name = self._find(kind, language, "subject")
        else:
            body = self._body(kind, language)
            name = body.source if body is not None else None
        if name is None:
            return None
        text, _, _ = self._loader.get_source(self._plain, name)
        return name, text

    def style(self) -> TemplateStyle:
        """How the practitioner's folder writes its notices (packaged when there is none)."""
        found: dict[str, list[str]] = {"markdown": [], "separate": [], "shadowed": []}
        for language in self.languages():
            for kind in KINDS:
                notice = f"{language}/{kind}"
                markdown = self._loader.own(_file(kind, language, "markdown"))
                separate = self._loader.own(_file(kind, language, "text"))
                if separate:
                    found["separate"].append(notice)
                elif markdown:
                    found["markdown"].append(notice)
                if separate and markdown:
                    found["shadowed"].append(notice)
        return TemplateStyle(**{key: tuple(value) for key, value in found.items()})

    def render(self, kind: str, language: str, variables: Mapping[str, object]) -> RenderedNotice:
        """Render one notice; raises TemplateError naming the file, line and the fix."""
        subject_name = self._find(kind, language, "subject") or _file(kind, language, "subject")
        subject = " ".join(self._render(self._plain, subject_name, variables).split())
        body = self._body(kind, language)
        if body is None:
            raise self._missing(_file(kind, language, "markdown"), also=".txt.j2")
        html = self._render(self._plain, body.html, variables) if body.html else None
        if not body.markdown:
            text = self._render(self._plain, body.source, variables)
            return RenderedNotice(subject=subject, text=text, html=html)
        tokens = parse(self._render(self._markdown, body.source, variables))
        text = plain_text(tokens, language)
        if html is None:
            html = page(html_body(tokens), language=language, title=subject)
        return RenderedNotice(subject=subject, text=text, html=html)

    def _find(self, kind: str, language: str, part: str) -> str | None:
        """The first of `<language>/…`, `<base>/…` that exists, the user's before packaged."""
        for folder in _chain(language):
            name = _file(kind, folder, part)
            if self._loader.exists(name):
                return name
        return None

    def _body(self, kind: str, language: str) -> _Body | None:
        for folder in _chain(language):
            text, markdown, html = (_file(kind, folder, p) for p in ("text", "markdown", "html"))
            own_html = html if self._loader.own(html) else None
            if self._loader.own(text):
                return _Body(text, markdown=False, html=own_html)
            if self._loader.exists(markdown):
                return _Body(markdown, markdown=True, html=own_html)
            if self._loader.packaged_file(text):
                packaged_html = html if self._loader.packaged_file(html) else None
                return _Body(text, markdown=False, html=own_html or packaged_html)
        return None

    def _render(self, env: SandboxedEnvironment, name: str, variables: Mapping[str, object]) -> str:
        try:
            return env.get_template(name).render(variables)
        except TemplateError:
            raise
        except jinja2.TemplateNotFound as exc:
            raise self._missing(str(exc.name) if exc.name else name) from None
        except Exception as exc:  # every failure of a template becomes one clear message
            raise explain(exc, name, variables, self._loader) from None

    def _missing(self, name: str, also: str = "") -> TemplateError:
        places = f"{self._loader.user_dir}/ or the packaged defaults"
        if self._loader.user_dir is None:
            places = "the packaged defaults"
        alternative = f" (or {Path(name).name.split('.')[0]}{also})" if also else ""
        return TemplateError(
            f"missing template file {name}{alternative} (looked in {places}); add it, or use "
            f"one of the languages that have templates: {', '.join(self.languages())}",
            source=name,
        )


def _chain(language: str) -> tuple[str, ...]:
    """A language folder, then its base language's: `es-formal` → (`es-formal`, `es`)."""
    base = language.replace("_", "-").split("-")[0]
    return (language,) if base == language else (language, base)


def _file(kind: str, language: str, part: str) -> str:
    if not _NAME.match(kind):
        raise TemplateError(f"{kind!r} is not a notice kind; use one of {', '.join(KINDS)}")
    if not LANGUAGE.match(language):
        raise TemplateError(f"{language!r} is not a language code; use e.g. 'en' or 'es'")
    if part not in _SUFFIX:
        raise TemplateError(f"{part!r} is not a template part; use subject, text or html")
    return f"{language}/{kind}.{_SUFFIX[part]}"
