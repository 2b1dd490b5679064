"""Tables for the terminal: what a cycle did, the history of cases, what needs the practitioner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from worker.pipeline.cycle import AccountReport
from worker.pipeline.delivery import Sent

_STYLE = {"reminder": "yellow", "forfeit": "red", "review": "magenta", "ignore": "dim"}


def _verdict(verdict: str) -> str:
    style = _STYLE.get(verdict, "")
    return f"[{style}]{verdict}[/]" if style else verdict


def cycle_table(reports: Iterable[AccountReport]) -> Table:
    """One row per decision made in this cycle, with the notice it produced if any."""
    table = Table(title="This cycle", show_lines=True)
    for column in ("account", "client", "session", "decision", "why", "notice"):
        table.add_column(column, overflow="fold")
    for report in reports:
        for row in _cycle_rows(report):
            table.add_row(report.account, *row)
    return table


def _cycle_rows(report: AccountReport) -> list[tuple[str, ...]]:
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
        key = (decision.fact.session.key, who, str(decision.verdict))
        notice = sent.pop(key, None)
        rows.append(
            (
                escape(who),
                escape(decision.fact.session.title),
                _verdict(str(decision.verdict)),
                escape("\n".join(decision.reasons)),
                _notice(notice) if notice else "",
            )
        )
    for notice in sent.values():
        rows.append(
            (escape(notice.client_email), "(decided earlier)", notice.kind, "", _notice(notice))
        )
    for ref in report.interrupted:
        why = "the worker stopped while sending; check your Sent folder"
        rows.append(("", ref, "[red]unknown[/]", why, ""))
    return rows


def _notice(sent: Sent) -> str:
    lines = [f"{sent.ref} {sent.outcome}", sent.detail, sent.written_to]
    if sent.prepaid_balance is not None:
        lines.insert(1, f"prepaid sessions left: {sent.prepaid_balance}")
    return escape("\n".join(line for line in lines if line))


def cases_table(cases: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for column in ("case", "when", "client", "session", "decision", "why", "notice"):
        table.add_column(column, overflow="fold")
    for case in cases:
        notice = ""
        if case["ref"]:
            notice = f"{case['notice']} {case['ref']}\n{case['notice_state']}"
            if case["notice_detail"]:
                notice += f"\n{case['notice_detail']}"
        status = "" if case["status"] in ("final",) else f"\n({case['status']})"
        table.add_row(
            str(case["id"]),
            case["cancelled_at"][:16].replace("T", " "),
            escape(case["client_email"] or "-"),
            escape(f"{case['title']}\n{(case['start'] or '')[:16].replace('T', ' ')} UTC"),
            _verdict(case["verdict"]) + escape(status),
            escape("\n".join(case["reasons"])),
            escape(notice),
        )
    return table


def print_table(table: Table) -> None:
    Console(width=160).print(table)
