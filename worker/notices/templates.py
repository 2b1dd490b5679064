"""The notice templates: packaged defaults, the practitioner's overrides, and rendering.

Templates live one folder per language (`en/`, `es/`), three files per kind of notice:
`<kind>.subject.j2` and `<kind>.txt.j2` (required) and `<kind>.html.j2` (optional). The
practitioner's folder, if configured, has the same layout and overrides the packaged
defaults file by file. One exception keeps the client from reading stale wording: when the
practitioner replaces a plain-text body but not its HTML twin, the packaged HTML is left out
(mail clients show HTML first, so it would hide their words).

Rendering runs in Jinja2's sandbox with StrictUndefined; HTML files are autoescaped. Every
problem becomes a `TemplateError` naming the file, the line and what would fix it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import TracebackType

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from worker.errors import TemplateError

PACKAGE = "fairwarning_templates"
KINDS = ("reminder", "forfeit")
_SUFFIX = {"subject": "subject.j2", "text": "txt.j2", "html": "html.j2"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(?:[_-][A-Za-z0-9]{1,8})*$")
_VARIABLES_DOC = "docs/template-variables.md"


@dataclass(frozen=True)
class RenderedNotice:
    """One notice ready to become an email: a one-line subject, a text body, maybe HTML."""

    subject: str
    text: str
    html: str | None


class _Loader(jinja2.BaseLoader):
    """Finds `<lang>/<file>` in the user's folder first, then in the packaged defaults."""

    def __init__(self, user_dir: Path | None) -> None:
        self.user_dir = user_dir
        self.packaged: Traversable = files(PACKAGE)
        self.sources: set[str] = set()

    def user_file(self, name: str) -> Path | None:
        if self.user_dir is None:
            return None
        path = self.user_dir.joinpath(*jinja2.loaders.split_template_path(name))
        return path if path.is_file() else None

    def packaged_file(self, name: str) -> Traversable | None:
        found = self.packaged.joinpath(*jinja2.loaders.split_template_path(name))
        return found if found.is_file() else None

    def source_name(self, name: str) -> str:
        user = self.user_file(name)
        return str(user) if user is not None else f"packaged:{name}"

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        user = self.user_file(template)
        if user is not None:
            source = _read(user.read_text, str(user))
            mtime = user.stat().st_mtime
            self.sources.add(str(user))
            return source, str(user), lambda: user.is_file() and user.stat().st_mtime == mtime
        packaged = self.packaged_file(template)
        if packaged is None:
            raise jinja2.TemplateNotFound(template)
        filename = f"packaged:{template}"
        self.sources.add(filename)
        return _read(packaged.read_text, filename), filename, lambda: True


def _read(read_text: Callable[..., str], where: str) -> str:
    try:
        return read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(
            f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8",
            source=where,
        ) from None
    except OSError as exc:
        raise TemplateError(
            f"{where}: cannot be read ({exc.strerror or exc}); check its permissions",
            source=where,
        ) from None


class TemplateLibrary:
    """Every notice template the worker can use, and the one way to render them."""

    def __init__(self, *, user_dir: Path | None = None) -> None:
        """`user_dir` is the practitioner's templates folder (same layout as the defaults)."""
        if user_dir is not None and not user_dir.is_dir():
            raise TemplateError(
                f"templates folder {user_dir} does not exist; create it (one subfolder per "
                "language, e.g. en/reminder.txt.j2) or remove templates_dir from the config",
                source=str(user_dir),
            )
        self._loader = _Loader(user_dir)
        self._env = SandboxedEnvironment(
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
        )

    def languages(self) -> list[str]:
        """Languages with at least one template, packaged or the practitioner's."""
        found = {
            entry.name
            for entry in self._loader.packaged.iterdir()
            if entry.is_dir() and _LANGUAGE.match(entry.name)
        }
        user_dir = self._loader.user_dir
        if user_dir is not None:
            found |= {p.name for p in user_dir.iterdir() if p.is_dir() and _LANGUAGE.match(p.name)}
        return sorted(found)

    def has(self, kind: str, language: str) -> bool:
        """Whether both required files (subject and text) exist for this kind and language."""
        return all(self._exists(_file(kind, language, part)) for part in ("subject", "text"))

    def choose_language(self, wanted: str | None, fallback: str) -> str:
        """The best language with templates for every kind: `es-MX` → `es`, else `fallback`."""
        for candidate in (wanted, (wanted or "").replace("-", "_").split("_")[0], fallback):
            if (
                candidate
                and _LANGUAGE.match(candidate)
                and all(self.has(kind, candidate) for kind in KINDS)
            ):
                return candidate
        return fallback

    def source_of(self, kind: str, language: str, part: str) -> str:
        """Where a part ("subject", "text", "html") comes from: a path, or "packaged:<name>"."""
        return self._loader.source_name(_file(kind, language, part))

    def render(self, kind: str, language: str, variables: Mapping[str, object]) -> RenderedNotice:
        """Render one notice; raises TemplateError naming the file, line and the fix."""
        subject = self._render(_file(kind, language, "subject"), variables)
        text = self._render(_file(kind, language, "text"), variables)
        html_name = _file(kind, language, "html")
        html = self._render(html_name, variables) if self._html_applies(html_name) else None
        return RenderedNotice(subject=" ".join(subject.split()), text=text, html=html)

    def _exists(self, name: str) -> bool:
        return self._loader.user_file(name) is not None or (
            self._loader.packaged_file(name) is not None
        )

    def _html_applies(self, html_name: str) -> bool:
        if self._loader.user_file(html_name) is not None:
            return True
        text_name = html_name.removesuffix(_SUFFIX["html"]) + _SUFFIX["text"]
        overridden_text = self._loader.user_file(text_name) is not None
        return not overridden_text and self._loader.packaged_file(html_name) is not None

    def _render(self, name: str, variables: Mapping[str, object]) -> str:
        try:
            return self._env.get_template(name).render(variables)
        except TemplateError:
            raise
        except Exception as exc:  # every failure of a template becomes one clear message
            raise self._explain(exc, name, variables) from None

    def _explain(self, exc: Exception, name: str, variables: Mapping[str, object]) -> TemplateError:
        if isinstance(exc, jinja2.TemplateNotFound):
            return self._missing(str(exc.name) if exc.name else name)
        line: int | None
        if isinstance(exc, jinja2.TemplateSyntaxError):
            source, line = exc.filename or self._loader.source_name(name), exc.lineno
            problem = f"syntax error: {_sentence(exc.message)}"
            fix = "Fix the Jinja syntax on that line (every {{ closed by }}, every {% if %} by "
            fix += "an {% endif %})"
        else:
            source, line = self._position(exc, name)
            if isinstance(exc, jinja2.UndefinedError):
                return self._undefined(exc, source, line, variables)
            if isinstance(exc, jinja2.exceptions.SecurityError):
                problem = f"blocked by the template sandbox ({_sentence(str(exc))})"
                fix = "Templates may only use the notice variables and ordinary filters; "
                fix += f"see {_VARIABLES_DOC}"
            else:
                problem = f"failed while rendering ({type(exc).__name__}: {_sentence(str(exc))})"
                fix = "Simplify the expression on that line"
        return TemplateError(f"{_where(source, line)}: {problem}. {fix}", source=source, line=line)

    def _missing(self, name: str) -> TemplateError:
        places = f"{self._loader.user_dir}/ or the packaged defaults"
        if self._loader.user_dir is None:
            places = "the packaged defaults"
        return TemplateError(
            f"missing template file {name} (looked in {places}); add it, or use one of the "
            f"languages that have templates: {', '.join(self.languages())}",
            source=name,
        )

    def _undefined(
        self,
        exc: jinja2.UndefinedError,
        source: str,
        line: int | None,
        variables: Mapping[str, object],
    ) -> TemplateError:
        match = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", exc.message or "")
        unknown = next((g for g in match.groups() if g), "?") if match else "?"
        return TemplateError(
            f"{_where(source, line)}: unknown variable '{unknown}' ({exc.message}). Available "
            f"variables: {', '.join(sorted(variables))}. Fix the spelling or remove it; see "
            f"{_VARIABLES_DOC}",
            source=source,
            line=line,
            variable=unknown,
        )

    def _position(self, exc: BaseException, name: str) -> tuple[str, int | None]:
        """The innermost template frame of the traceback (Jinja rewrites it to template lines)."""
        found: tuple[str, int | None] = (self._loader.source_name(name), None)
        tb: TracebackType | None = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename in self._loader.sources:
                found = (filename, tb.tb_lineno)
            tb = tb.tb_next
        return found


def _file(kind: str, language: str, part: str) -> str:
    if not _NAME.match(kind):
        raise TemplateError(f"{kind!r} is not a notice kind; use one of {', '.join(KINDS)}")
    if not _LANGUAGE.match(language):
        raise TemplateError(f"{language!r} is not a language code; use e.g. 'en' or 'es'")
    if part not in _SUFFIX:
        raise TemplateError(f"{part!r} is not a template part; use subject, text or html")
    return f"{language}/{kind}.{_SUFFIX[part]}"


def _sentence(text: str | None) -> str:
    return (text or "").strip().rstrip(".")


def _where(source: str, line: int | None) -> str:
    return f"{source}, line {line}" if line else source
