"""`history --client EMAIL --export FILE` and `report`, through the installed script."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli.practice import SAM, Practice

SAM_EMAIL = "sam.taylor@example.org"


def test_history_export_writes_html_and_csv(practice: Practice, tmp_path: Path) -> None:
    practice.client_acts(SAM)
    practice.cycle()
    html, table = tmp_path / "sam.html", tmp_path / "sam.csv"

    done = practice("history", "--client", SAM_EMAIL, "--export", html)
    again = practice("history", "--client", SAM_EMAIL.upper(), "--export", table)

    assert done.returncode == 0, done.stderr
    assert again.returncode == 0, again.stderr
    assert "case file of" in done.stdout
    assert "1 cases, 2 notices" in done.stdout
    assert "as rendered from the stored facts" in html.read_text(encoding="utf-8")
    with table.open(newline="", encoding="utf-8") as stream:
        records = [row["record"] for row in csv.DictReader(stream)]
    assert "notice" in records
    assert "case" in records
    assert not list(tmp_path.glob(".*.tmp"))  # nothing half-written left behind


def test_history_export_refuses_other_extensions_and_unknown_clients(
    practice: Practice, tmp_path: Path
) -> None:
    wrong = practice("history", "--client", SAM_EMAIL, "--export", tmp_path / "sam.pdf")
    nobody = practice("history", "--client", "nobody@example.org", "--export", tmp_path / "n.html")

    assert wrong.returncode == 2
    assert ".html, .htm, .csv" in wrong.stderr
    assert nobody.returncode == 2
    assert "no client nobody@example.org" in nobody.stderr
    assert not (tmp_path / "n.html").exists()
    assert not (tmp_path / "sam.pdf").exists()


def test_report_fits_80_columns_and_json_is_stable(practice: Practice) -> None:
    practice.client_acts(SAM)
    practice.cycle()

    shown = practice("report")
    data = practice("report", "--since", "30d", "--json")
    bad = practice("report", "--since", "3 months")

    assert shown.returncode == 0, shown.stderr
    assert all(len(line) <= 80 for line in shown.stdout.splitlines())
    assert "late cancellations 1, on time 0" in shown.stdout
    found = json.loads(data.stdout)
    assert set(found) == {
        "since",
        "until",
        "time_zone",
        "late_window_seconds",
        "totals",
        "months",
        "clients",
        "rising",
    }
    assert found["totals"]["late"] == 1
    assert found["rising"] == [SAM_EMAIL]
    assert bad.returncode == 2
    assert "--since" in bad.stderr
