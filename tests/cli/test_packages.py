"""`fairwarning clients`, `clients topup` and `clients adjust`, through click's CliRunner."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from worker.cli.main import main
from worker.store.db import database_path, open_database

CONFIG = """
state_dir = "state"

[practitioner]
name = "Dana Rivera"
email = "dana@riveracoaching.example"
time_zone = "Europe/London"

[[accounts]]
name = "main"
calendar = { provider = "local", path = "calendar" }
sender = { provider = "file", folder = "outbox" }

[[clients]]
email = "sam@example.org"
name = "Sam Taylor"
prepaid_balance = 5

[[clients]]
email = "ana@example.org"
name = "Ana"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    (tmp_path / "calendar").mkdir()
    open_database(tmp_path / "state").close()
    return path


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "clients", *args])


def entries(config: Path) -> list[tuple[str, int, int, str]]:
    db = sqlite3.connect(database_path(config.parent / "state"))
    try:
        rows = db.execute(
            "SELECT client_email, change, balance_after, reason FROM package_entries ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    return [(str(a), int(b), int(c), str(d)) for a, b, c, d in rows]


def test_topup_opens_the_package_then_adds_and_the_list_shows_it(config: Path) -> None:
    done = run(config, "topup", "Sam@Example.org", "10", "--note", "package of 10")
    assert done.exit_code == 0, done.output
    assert "sam@example.org: +10 (package of 10); 15 prepaid sessions left" in done.output
    assert entries(config) == [
        ("sam@example.org", 5, 5, "opening"),
        ("sam@example.org", 10, 15, "topup"),
    ]
    shown = run(config)
    assert shown.exit_code == 0, shown.output
    assert "sam@example.org (Sam Taylor): 15 prepaid sessions left" in shown.output
    assert "+10 → 15  topup: package of 10" in shown.output


def test_a_client_without_a_package_can_start_one(config: Path) -> None:
    assert run(config, "topup", "ana@example.org", "3").exit_code == 0
    assert entries(config) == [("ana@example.org", 3, 3, "topup")]


def test_adjust_takes_sessions_off_with_a_note(config: Path) -> None:
    done = run(config, "adjust", "sam@example.org", "-2", "--note", "two used in October")
    assert done.exit_code == 0, done.output
    assert entries(config)[-1] == ("sam@example.org", -2, 3, "adjust")


def test_a_list_before_any_poll_says_what_will_open(config: Path) -> None:
    shown = run(config)
    assert shown.exit_code == 0, shown.output
    assert "sam@example.org: opens with 5 prepaid sessions at the next poll" in shown.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("topup", "nobody@example.org", "3"), "nobody@example.org is not one of your clients"),
        (("topup", "sam@example.org", "2.5"), "'2.5' is not a whole number of sessions"),
        (("topup", "sam@example.org", "ten"), "'ten' is not a whole number of sessions"),
        (("topup", "sam@example.org", "0"), "a top-up adds at least 1 session"),
        (("adjust", "sam@example.org", "-1"), "Missing option '--note'"),
        (("adjust", "sam@example.org", "-9", "--note", "oops"), "fewer than none"),
        (("adjust", "sam@example.org", "x", "--note", "oops"), "'x' is not a whole number"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    config: Path, args: tuple[str, ...], said: str
) -> None:
    done = run(config, *args)
    assert done.exit_code == 2
    assert said in done.output
    assert entries(config) == []
