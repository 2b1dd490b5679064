"""Finding template files (the practitioner's first, then the packaged ones) and explaining
what went wrong in one, with its file, its line and what would fix it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import TracebackType

import jinja2

from worker.errors import TemplateError

PACKAGE = "fairwarning_templates"
VARIABLES_DOC = "docs/template-variables.md"


class Loader(jinja2.BaseLoader):
    """Finds `<lang>/<file>` in the user's folder first, then in the packaged defaults.

    `drafts` (name → text) are unsaved edits, found before either and named `draft:<name>`
    in errors: the console previews a template before it is written to the folder.
    """

    def __init__(self, user_dir: Path | None, drafts: Mapping[str, str] | None = None) -> None:
        self.user_dir = user_dir
        self.drafts = dict(drafts or {})
        self.packaged: Traversable = files(PACKAGE)
        self.sources: set[str] = set()

    def own(self, name: str) -> bool:
        """Whether the practitioner wrote this file: a draft of theirs, or one in their folder."""
        return name in self.drafts or self.user_file(name) is not None

    def user_file(self, name: str) -> Path | None:
        if self.user_dir is None:
            return None
        path = self.user_dir.joinpath(*jinja2.loaders.split_template_path(name))
        return path if path.is_file() else None

    def packaged_file(self, name: str) -> Traversable | None:
        found = self.packaged.joinpath(*jinja2.loaders.split_template_path(name))
        return found if found.is_file() else None

    def exists(self, name: str) -> bool:
        return self.own(name) or self.packaged_file(name) is not None

    def folders(self) -> set[str]:
        """Names of the language folders, packaged and the practitioner's."""
        found = {entry.name for entry in self.packaged.iterdir() if entry.is_dir()}
        if self.user_dir is not None:
            found |= {path.name for path in self.user_dir.iterdir() if path.is_dir()}
        return found

    def source_name(self, name: str) -> str:
        if name in self.drafts:
            return f"draft:{name}"
        user = self.user_file(name)
        return str(user) if user is not None else f"packaged:{name}"

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template in self.drafts:
            filename = f"draft:{template}"
            self.sources.add(filename)
            return self.drafts[template], filename, lambda: True
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


def explain(
    exc: Exception, name: str, variables: Mapping[str, object], loader: Loader
) -> TemplateError:
    """The TemplateError for a failure while loading or rendering template `name`."""
    line: int | None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        source, line = exc.filename or loader.source_name(name), exc.lineno
        problem = f"syntax error: {_sentence(exc.message)}"
        fix = "Fix the Jinja syntax on that line (every {{ closed by }}, every {% if %} by "
        fix += "an {% endif %})"
    else:
        source, line = _position(exc, name, loader)
        if isinstance(exc, jinja2.UndefinedError):
            return _undefined(exc, source, line, variables)
        if isinstance(exc, jinja2.exceptions.SecurityError):
            problem = f"blocked by the template sandbox ({_sentence(str(exc))})"
            fix = "Templates may only use the notice variables and ordinary filters; "
            fix += f"see {VARIABLES_DOC}"
        else:
            problem = f"failed while rendering ({type(exc).__name__}: {_sentence(str(exc))})"
            fix = "Simplify the expression on that line"
    return TemplateError(f"{_where(source, line)}: {problem}. {fix}", source=source, line=line)


def _undefined(
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
        f"{VARIABLES_DOC}",
        source=source,
        line=line,
        variable=unknown,
    )


def _position(exc: BaseException, name: str, loader: Loader) -> tuple[str, int | None]:
    """The innermost template frame of the traceback (Jinja rewrites it to template lines)."""
    found: tuple[str, int | None] = (loader.source_name(name), None)
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in loader.sources:
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _sentence(text: str | None) -> str:
    return (text or "").strip().rstrip(".")


def _where(source: str, line: int | None) -> str:
    return f"{source}, line {line}" if line else source
