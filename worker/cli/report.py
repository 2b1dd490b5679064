"""`report` (what the records say over a period) and `history --export` (a client's case file)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from worker.cli.common import existing_state, fail, load, utcnow
from worker.config import Config
from worker.durations import parse_duration
from worker.errors import FairWarningError
from worker.model import Money
from worker.notices.casefile import casefile_csv, casefile_html
from worker.notices.templates import TemplateLibrary
from worker.pipeline.casefile import gather_casefile
from worker.store import report as counting

EXPORTS = {".html": casefile_html, ".htm": casefile_html, ".csv": casefile_csv}
WIDTH = 80


def export_casefile(config: Config, client_email: str, target: Path) -> None:
    """Write the client's case file to `target`, HTML or CSV by its extension, atomically."""
    write = EXPORTS.get(target.suffix.lower())
    if write is None:
        fail(
            f"--export {target}: the case file is written as HTML or CSV; name the file "
            f"with one of {', '.join(EXPORTS)} (e.g. sam.html)"
        )
    with existing_state(config, read_only=True) as db:
        try:
            templates = TemplateLibrary(user_dir=config.templates_dir)
            casefile = gather_casefile(db, config, templates, client_email, utcnow())
        except FairWarningError as exc:
            fail(exc)
    try:
        write_atomically(target, write(casefile))
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    click.echo(
        f"case file of {casefile.client_email} written to {target}: {len(casefile.sessions)} "
        f"sessions, {len(casefile.cases)} cases, {len(casefile.notices)} notices, "
        f"{len(casefile.ledger)} ledger entries"
    )


def write_atomically(target: Path, text: str) -> None:
    """Replace `target` with `text` in one step (a reader never sees half a file); 0600,
    because a case file is about a person."""
    folder = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def build_report(config: Config, since_text: str) -> dict[str, Any]:
    """The report's data over the last `since_text` (a duration such as 90d)."""
    try:
        period = parse_duration(since_text)
    except ValueError as exc:
        fail(f"--since: {exc}")
    until = utcnow()
    since = until - period
    with existing_state(config, read_only=True) as db:
        found = counting.cancellations(db, since)
        packages = counting.package_changes(db, since)
    return counting.count(
        found,
        packages,
        since=since,
        until=until,
        late_window=config.policy.late_window,
        zone=config.practitioner.time_zone,
        fee_of=lambda email: _fee_of(config, email),
    )


def _fee_of(config: Config, email: str) -> Money | None:
    own = next((c.fee for c in config.clients if c.email.lower() == email), None)
    fee = own or config.policy.fee
    return None if fee is None else fee.money()


@click.command()
@click.option("--since", "since_text", default="90d", show_default=True, help="The period.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable (README, Reports).")
@click.pass_context
def report(ctx: click.Context, since_text: str, as_json: bool) -> None:
    """Late and on-time cancellations by month and client, warnings, forfeits, fees due,
    package sessions, and the clients whose late cancellations are rising."""
    data = build_report(load(ctx), since_text)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for line in report_lines(data):
        click.echo(line)


def report_lines(data: dict[str, Any]) -> list[str]:
    """The report for a terminal, no line over 80 columns."""
    totals = data["totals"]
    fees = totals["fees_due"]
    due = ", ".join(f"{amount} {code}" for code, amount in fees.items()) if fees else "none"
    spent, bought = totals["package_sessions_spent"], totals["package_sessions_bought"]
    lines = [
        f"Report {data['since'][:10]} to {data['until'][:10]} (times in {data['time_zone']})",
        f"late cancellations {totals['late']}, on time {totals['on_time']}",
        f"warnings {totals['warnings']}, forfeits {totals['forfeits']}, waived {totals['waived']}",
        f"fees due: {due}{_unpriced(totals['forfeits_without_fee'])}",
        "package sessions: "
        + ("no package ledger yet" if spent is None else f"spent {spent}, bought {bought}"),
        "",
        "By month        late  on time",
    ]
    lines += [f"  {m['month']:<12}{m['late']:>6}{m['on_time']:>9}" for m in data["months"]]
    lines += ["", "By client                          late  on time  warn  forfeit  waived"]
    for c in data["clients"]:
        name = c["client"]
        if len(name) > 32:  # a long address gets a line of its own, whole, to paste
            lines.append(f"  {name}")
            name = ""
        lines.append(
            f"  {name:<32}{c['late']:>5}{c['on_time']:>9}{c['warnings']:>6}"
            f"{c['forfeits']:>9}{c['waived']:>8}"
        )
    rising = data["rising"]
    lines += ["", "Late cancellations rising (more in the second half of the period):"]
    lines += [f"  {email}" for email in rising] or ["  nobody"]
    return [line[:WIDTH] for line in lines]


def _unpriced(forfeits: int) -> str:
    return f" (and {forfeits} forfeits with no fee set)" if forfeits else ""
