"""A sender that writes each notice to a folder instead of a mailbox.

Used for the demo, dry runs and for practitioners who want to read every notice before it
could ever reach a client. Each message becomes `<ref>.eml` (open it in any mail program),
plus `<ref>.html` beside it when it has an HTML part (open it in a browser). Files are
written atomically and an existing notice is never overwritten by a different one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from pathlib import Path

from worker.model import REF_HEADER
from worker.pipeline.sender import Delivery, Outcome

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 120


class FileSender:
    """Writes messages as .eml (and .html) files into `folder`, created with mode 0700."""

    def __init__(self, *, folder: Path) -> None:
        """`folder` receives one `<ref>.eml` per message; it is created if missing."""
        self.folder = folder
        self._counter = itertools.count(1)

    def send(self, message: EmailMessage) -> Delivery:
        """Write the message; SENT with the .eml path, or REJECTED if it could not be written.

        A failed write is known not to have happened, so REJECTED (never UNKNOWN) is honest.
        """
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _sweep_leftovers(self.folder)
            eml = self._publish_eml(self._stem(message), message.as_bytes())
        except OSError as exc:
            return Delivery(
                Outcome.REJECTED,
                detail=f"could not write the notice into {self.folder}: {exc.strerror or exc}",
            )
        html = message.get_body(preferencelist=("html",))
        try:
            if html is not None:
                _write_atomically(eml.with_suffix(".html"), _browser_html(html))
        except OSError as exc:
            # The .eml is the notice; the .html is only a preview of it.
            detail = f"wrote {eml.name} but not its HTML preview: {exc.strerror or exc}"
            return Delivery(Outcome.SENT, detail=detail, provider_id=str(eml))
        return Delivery(Outcome.SENT, provider_id=str(eml))

    def _stem(self, message: EmailMessage) -> str:
        ref = _UNSAFE_NAME.sub("-", str(message.get(REF_HEADER, ""))).strip(".-")[:_MAX_STEM]
        if ref:
            return ref
        return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{next(self._counter)}"

    def _publish_eml(self, stem: str, data: bytes) -> Path:
        """The first free `<stem>[-n].eml`; the same message written again reuses its file."""
        temporary = _write_temporary(self.folder, data)
        try:
            target, number = self.folder / f"{stem}.eml", 1
            while not _link_if_absent(temporary, target):
                if target.read_bytes() == data:
                    return target
                number += 1
                target = self.folder / f"{stem}-{number}.eml"
            _sync_folder(self.folder)
            return target
        finally:
            temporary.unlink(missing_ok=True)


LEFTOVER_AGE = 600


def _sweep_leftovers(folder: Path) -> None:
    """Remove temporary copies a killed worker left behind: each holds a client's notice."""
    cutoff = time.time() - LEFTOVER_AGE
    for leftover in folder.glob(".notice-*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def _write_temporary(folder: Path, data: bytes) -> Path:
    """A fully written, fsynced hidden file in `folder` (mode 0600, from mkstemp)."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".notice-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _link_if_absent(source: Path, target: Path) -> bool:
    """Publish `source` as `target` unless `target` exists; False if it does.

    A hard link fails atomically when the name is taken, so two writers can never replace
    each other's notice; where links are unsupported, check then os.replace.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError:
        if target.exists():
            return False
        os.replace(source, target)
    return True


def _write_atomically(target: Path, data: bytes) -> None:
    temporary = _write_temporary(target.parent, data)
    try:
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the new directory entry durable (not possible on every platform)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _browser_html(part: MIMEPart) -> bytes:
    """The HTML part as a file a browser reads as UTF-8, whatever the template declared."""
    html = str(part.get_content())
    if "charset" not in html[:1024].lower():
        html = '<meta charset="utf-8">\n' + html
    return html.encode("utf-8")
