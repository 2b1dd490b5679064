"""A client's case file as a document: HTML that prints on A4, or CSV for a spreadsheet.

The HTML is rendered in Jinja2's sandbox with autoescape on, so a session title holding
`<script>` stays text. It loads nothing from elsewhere (no fonts, scripts or images).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import SandboxedEnvironment

AS_RENDERED = (
    "as rendered from the stored facts with the current templates: the worker keeps the facts "
    "each notice was written from, not the sent message itself"
)

CSV_COLUMNS = (
    "record",
    "id",
    "at_utc",
    "session_start_utc",
    "title",
    "kind",
    "state",
    "detail",
    "reference",
)


@dataclass(frozen=True)
class NoticeCopy:
    """One notice to the client: its outbox record and its words."""

    ref: str
    kind: str
    state: str
    at: str  # UTC ISO: when it went out (or its state last changed)
    subject: str
    text: str
    provenance: str  # AS_RENDERED, or why there are no words
    simulated: bool = False
    case: int | None = None


@dataclass(frozen=True)
class CaseFile:
    """Everything the worker knows about one client, ready to be written down."""

    client_email: str
    client_name: str
    generated_at: datetime
    zone: str
    sessions: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    notices: list[NoticeCopy] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    packages: list[dict[str, Any]] = field(default_factory=list)


def _local(value: str | datetime | None, zone: str) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")


_ENV = SandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)

_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Case file: {{ file.client_email }}</title>
<style>
body { font: 11pt/1.4 Georgia, "Times New Roman", serif; color: #111; margin: 2em auto;
  max-width: 180mm; }
h1 { font-size: 17pt; margin-bottom: 0; } h2 { font-size: 13pt; margin-top: 1.6em;
  border-bottom: 1px solid #888; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
th, td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; }
.notice { border: 1px solid #bbb; padding: 6px 9px; margin: 0.8em 0; }
.notice pre { white-space: pre-wrap; font: 10pt/1.35 Georgia, serif; margin: 0.4em 0 0; }
.note { color: #444; font-size: 9pt; font-style: italic; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { margin: 0; max-width: none; }
  tr, .notice { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
}
</style></head><body>
<h1>Case file: {{ file.client_name or file.client_email }}</h1>
<p>{{ file.client_email }} · written {{ local(file.generated_at) }} · times in {{ file.zone }}</p>

<h2>Sessions ({{ file.sessions|length }})</h2>
{% if file.sessions %}<table><thead><tr><th>start</th><th>end</th><th>title</th>
<th>their answer</th><th>known from</th></tr></thead><tbody>
{% for s in file.sessions %}<tr><td>{{ local(s.start) }}</td><td>{{ local(s.end) }}</td>
<td>{{ s.title }}</td><td>{{ s.response }}</td><td>{{ s.source }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>None recorded.</p>{% endif %}

<h2>Cancellations and decisions ({{ file.cases|length }})</h2>
{% if file.cases %}<table><thead><tr><th>case</th><th>session</th><th>cancelled</th>
<th>evidence</th><th>decision</th><th>reasons</th><th>notice</th></tr></thead><tbody>
{% for c in file.cases %}<tr><td>{{ c.id }}</td><td>{{ c.title }}<br>{{ local(c.start) }}</td>
<td>{{ local(c.cancelled_at) }}</td><td>{{ c.fact }}; time from {{ c.cancel_source }}</td>
<td>{{ c.verdict }} ({{ c.status }}){% if c.note %}<br>{{ c.note }}{% endif %}</td>
<td>{% for r in c.reasons %}{{ r }}{% if not loop.last %}<br>{% endif %}{% endfor %}</td>
<td>{% if c.ref %}{{ c.notice }} {{ c.ref }}<br>{{ c.notice_state }}{% endif %}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>None recorded.</p>{% endif %}

<h2>Notices ({{ file.notices|length }})</h2>
{% for n in file.notices %}<div class="notice">
<strong>{{ n.kind }} {{ n.ref }}</strong>{% if n.case %} · case {{ n.case }}{% endif %}
· {{ n.state }}{% if n.simulated %} (dry-run, not sent){% endif %} · {{ local(n.at) }}
<br>Subject: {{ n.subject }}
<pre>{{ n.text }}</pre>
<p class="note">{{ n.provenance }}</p></div>
{% else %}<p>None.</p>{% endfor %}

<h2>Ledger ({{ file.ledger|length }})</h2>
{% if file.ledger %}<table><thead><tr><th>entry</th><th>case</th><th>kind</th>
<th>cancelled</th><th>prepaid sessions left after it</th><th>waived</th></tr></thead><tbody>
{% for e in file.ledger %}<tr><td>{{ e.id }}</td><td>{{ e.decision_id }}</td>
<td>{{ e.kind }}{% if e.simulated %} (dry-run){% endif %}</td><td>{{ local(e.cancelled_at) }}</td>
<td>{{ '' if e.prepaid_balance is none else e.prepaid_balance }}</td>
<td>{% if e.waived_at %}{{ local(e.waived_at) }}: {{ e.waive_reason }}{% endif %}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>No entries.</p>{% endif %}

<h2>Prepaid package ({{ file.packages|length }})</h2>
{% if file.packages %}<table><thead><tr><th>when</th><th>change</th><th>balance after</th>
<th>why</th><th>session or case</th></tr></thead><tbody>
{% for p in file.packages %}<tr><td>{{ local(p.at) }}</td><td>{{ p.change }}</td>
<td>{{ p.balance_after }}</td><td>{{ p.reason }}{% if p.note %}: {{ p.note }}{% endif %}</td>
<td>{% if p.decision_id %}case {{ p.decision_id }}{% endif %}
{% if p.occurrence_start %}{{ local(p.occurrence_start) }}{% endif %}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>No package entries.</p>{% endif %}
</body></html>
"""


def casefile_html(file: CaseFile) -> str:
    """The case file as one self-contained HTML page with a print stylesheet."""
    template = _ENV.from_string(_HTML)
    return template.render(file=file, local=lambda value: _local(value, file.zone))


def casefile_csv(file: CaseFile) -> str:
    """The case file as CSV, one row per record (`record`: session, case, notice, ledger);
    times in UTC ISO 8601."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for s in file.sessions:
        writer.writerow(
            {
                "record": "session",
                "id": s["session_key"],
                "at_utc": s["start"],
                "session_start_utc": s["start"],
                "title": s["title"],
                "kind": s["source"],
                "state": s["response"],
                "detail": f"ends {s['end']}",
            }
        )
    for c in file.cases:
        evidence = f"{c['fact']}; cancel time from {c['cancel_source']}"
        writer.writerow(
            {
                "record": "case",
                "id": c["id"],
                "at_utc": c["cancelled_at"],
                "session_start_utc": c["start"] or "",
                "title": c["title"] or "",
                "kind": c["verdict"],
                "state": c["status"],
                "detail": "\n".join([evidence, *c["reasons"], c["note"] or ""]).strip(),
                "reference": c["ref"] or "",
            }
        )
    for n in file.notices:
        writer.writerow(
            {
                "record": "notice",
                "id": n.case or "",
                "at_utc": n.at,
                "title": n.subject,
                "kind": n.kind,
                "state": n.state + (" (dry-run)" if n.simulated else ""),
                "detail": f"{n.text}\n[{n.provenance}]",
                "reference": n.ref,
            }
        )
    for e in file.ledger:
        waived = f"waived {e['waived_at']}: {e['waive_reason']}" if e["waived_at"] else ""
        left = "" if e["prepaid_balance"] is None else f"prepaid left {e['prepaid_balance']}"
        writer.writerow(
            {
                "record": "ledger",
                "id": e["decision_id"],
                "at_utc": e["cancelled_at"],
                "kind": e["kind"],
                "state": "waived" if e["waived_at"] else "counts",
                "detail": "; ".join(x for x in (left, waived) if x),
                "reference": e["ref"] or "",
            }
        )
    for p in file.packages:
        writer.writerow(
            {
                "record": "package",
                "id": p["id"],
                "at_utc": p["at"],
                "session_start_utc": p["occurrence_start"] or "",
                "kind": p["reason"],
                "state": f"{p['change']:+d} -> {p['balance_after']}",
                "detail": p["note"],
                "reference": f"case {p['decision_id']}" if p["decision_id"] else "",
            }
        )
    return out.getvalue()
