"""Tables for the terminal: what a cycle did, the history of cases, what needs the practitioner.

Each is a list of records that fits the terminal: a table where there is room, and one block
per record on a narrow one (a phone over SSH). Rich takes the width from the terminal, or from
COLUMNS, or 80 when the output is not a terminal. Times are in the practitioner's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from worker.pipeline.cycle import AccountReport
from worker.pipeline.delivery import Sent
from worker.service.times import local_time
from worker.store.db import from_utc_text

# Below this width a table of six or seven columns folds every cell: one block per record reads
# better.
TABLE_WIDTH = 120

_ONE_LINE = ("case", "when", "decision")
_STYLE = {"reminder": "yellow", "forfeit": "red", "review": "magenta", "ignore": "dim"}


@dataclass(frozen=True)
class Reader:
    """Who reads the tables: the practitioner's zone, now, and where dry-run notices go."""

    zone: str
    now: datetime
    dry_run: tuple[Path, ...] = ()

    def time(self, moment: datetime) -> str:
        return local_time(moment, self.zone, now=self.now)

    def simulated(self, written_to: Path) -> bool:
        return any(written_to.is_relative_to(folder) for folder in self.dry_run)


@dataclass
class Records:
    """Rows of rich markup under named columns, printed as a table or as blocks."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)


# Notices that answer no cancellation, in words for the cycle table.
_COURTESY = {
    "welcome": "a new client: your policy, sent once",
    "session_reminder": "the note before their session",
    "closure": "the formal close you sent",
}


def _verdict(verdict: str) -> str:
    style = _STYLE.get(verdict, "")
    return f"[{style}]{verdict}[/]" if style else verdict


def notice_words(sent: Sent) -> str:
    """What happened to a notice in true words: only a mailed notice is "sent"."""
    if sent.outcome == "sent" and sent.simulated:
        where = f": written to {sent.written_to}" if sent.written_to else ""
        return f"{sent.ref} would send (dry-run){where}"
    if sent.outcome == "sent" and sent.written_to:
        return f"{sent.ref} written to {sent.written_to}"
    return f"{sent.ref} {sent.outcome}"


def cycle_table(reports: Iterable[AccountReport], reader: Reader) -> Records:
    """One row per decision made in this cycle, with the notice it produced if any."""
    records = Records("This cycle", ("account", "client", "session", "decision", "why", "notice"))
    for report in reports:
        for row in _cycle_rows(report, reader):
            records.rows.append((report.account, *row))
    return records


def _cycle_rows(report: AccountReport, reader: Reader) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    if report.error:
        rows.append(("", "", "[red]error[/]", escape(report.error), ""))
    sync = report.sync
    if sync is not None and sync.baseline:
        why = "first look at this calendar: nothing is judged"
        rows.append(("", f"{sync.sessions} sessions", "baseline", why, ""))
    sent = {(s.session_key, s.client_email, s.kind): s for s in report.sent}
    for decision in sync.decisions if sync else ():
        who = decision.client.email if decision.client else "-"
        session = decision.fact.session
        notice = sent.pop((session.key, who, str(decision.verdict)), None)
        rows.append(
            (
                escape(who),
                escape(f"{session.title}\n{reader.time(session.start)}"),
                _verdict(str(decision.verdict)),
                escape("\n".join(decision.reasons)),
                _notice(notice) if notice else "",
            )
        )
    for notice in sent.values():
        what = _COURTESY.get(notice.kind)
        earlier, why = ("", what) if what else ("(decided earlier)", "")
        rows.append((escape(notice.client_email), earlier, notice.kind, why, _notice(notice)))
    for ref in report.interrupted:
        why = "the worker stopped while sending; check your Sent folder"
        rows.append(("", ref, "[red]unknown[/]", why, ""))
    return rows


def _notice(sent: Sent) -> str:
    lines = [notice_words(sent), sent.detail]
    if sent.prepaid_balance is not None:
        lines.insert(1, f"prepaid sessions left: {sent.prepaid_balance}")
    return escape("\n".join(line for line in lines if line))


def cases_table(cases: list[dict[str, Any]], title: str, reader: Reader) -> Records:
    """One row per case, newest first, with its reasons and what became of its notice."""
    records = Records(title, ("case", "when", "client", "session", "decision", "why", "notice"))
    for case in cases:
        status = "" if case["status"] in ("final",) else f"\n({case['status']})"
        start = reader.time(from_utc_text(case["start"])) if case["start"] else ""
        records.rows.append(
            (
                str(case["id"]),
                reader.time(from_utc_text(case["cancelled_at"])),
                escape(case["client_email"] or "-"),
                escape(f"{case['title']}\n{start}".strip()),
                _verdict(case["verdict"]) + escape(status),
                escape("\n".join(case["reasons"])),
                escape(_case_notice(case, reader)),
            )
        )
    return records


def _case_notice(case: dict[str, Any], reader: Reader) -> str:
    if not case["ref"]:
        return ""
    state = case["notice_state"]
    written = case["written_to"] or ""
    # Only a file sender records a path (older rows may hold a provider's message id).
    if state == "sent" and Path(written).is_absolute():
        dry_run = "dry-run, not sent: " if reader.simulated(Path(written)) else ""
        state = f"{dry_run}written to {written}"
    lines = [f"{case['notice']} {case['ref']}", state, case["notice_detail"] or ""]
    return "\n".join(line for line in lines if line)


def print_records(records: Records, console: Console | None = None) -> None:
    """A table when the terminal is wide enough, else one block per record."""
    console = console or Console()
    if console.width >= TABLE_WIDTH:
        table = Table(title=records.title, show_lines=True)
        for column in records.columns:
            # Short values (a case number, a time, a verdict) stay on one line; prose folds.
            table.add_column(column, overflow="fold", no_wrap=column in _ONE_LINE)
        for row in records.rows:
            table.add_row(*row)
        console.print(table)
        return
    console.print(f"[bold]{escape(records.title)}[/]")
    for row in records.rows:
        block = Table.grid(padding=(0, 1))
        block.add_column(style="bold", no_wrap=True)
        block.add_column(overflow="fold")
        for label, value in zip(records.columns, row, strict=True):
            if value:
                block.add_row(label, value)
        console.rule(style="dim")
        console.print(block)
