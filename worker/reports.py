"""Tables for the terminal: what a cycle did, the history of cases, what needs the practitioner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from worker.cycle import AccountReport

_STYLE = {"reminder": "yellow", "forfeit": "red", "review": "magenta", "ignore": "dim"}


def _verdict(verdict: str) -> str:
    style = _STYLE.get(verdict, "")
    return f"[{style}]{verdict}[/]" if style else verdict


def cycle_table(reports: Iterable[AccountReport]) -> Table:
    """One row per decision made in this cycle, and one per notice delivered."""
    table = Table(title="This cycle", show_lines=True)
    for column in ("account", "client", "session", "decision", "why", "notice"):
        table.add_column(column, overflow="fold")
    for report in reports:
        if report.error:
            table.add_row(report.account, "", "", "[red]error[/]", report.error, "")
        sync = report.sync
        if sync is not None and sync.baseline:
            table.add_row(
                report.account,
                "",
                f"{sync.sessions} sessions",
                "baseline",
                "first look at this calendar: nothing is judged",
                "",
            )
        for decision in sync.decisions if sync else ():
            who = decision.client.email if decision.client else "-"
            table.add_row(
                report.account,
                who,
                decision.fact.session.title,
                _verdict(str(decision.verdict)),
                "\n".join(decision.reasons),
                "",
            )
        for sent in report.sent:
            table.add_row(
                report.account,
                sent.client_email,
                sent.ref,
                sent.kind,
                sent.detail,
                f"{sent.outcome}\n{sent.written_to}".strip(),
            )
        for ref in report.interrupted:
            table.add_row(
                report.account,
                "",
                ref,
                "[red]unknown[/]",
                "the worker stopped while sending this notice",
                "check Sent folder",
            )
    return table


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
            case["client_email"] or "-",
            f"{case['title']}\n{(case['start'] or '')[:16].replace('T', ' ')} UTC",
            _verdict(case["verdict"]) + status,
            "\n".join(case["reasons"]),
            notice,
        )
    return table


def print_table(table: Table) -> None:
    Console(width=160).print(table)
