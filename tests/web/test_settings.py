from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.cli.practice import Practice
from tests.web.hostile import assert_escaped, console_over, make_hostile
from worker.web.keys import password_path

TOKEN = "T0KEN-never-shown"


def row_of(page: str, key: str) -> str:
    rows = [r for r in page.split("<tr>") if f'class="key">{key}</td>' in r]
    assert len(rows) == 1, f"no single row for {key}"
    return re.sub(r"\s+", " ", rows[0])


def line_number(text: str, written: str) -> int:
    return text.splitlines().index(written) + 1


def test_settings_need_a_session(browser_client: TestClient) -> None:
    answer = browser_client.get("/settings", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/settings"


def test_each_value_says_the_line_it_is_written_on_or_that_it_is_the_default(
    practice: Practice,
) -> None:
    text = practice.config.read_text(encoding="utf-8")
    with console_over(practice) as console:
        page = console.get("/settings")
    assert page.status_code == 200
    assert str(practice.config) in page.text
    mode = row_of(page.text, "policy.mode")
    assert "<pre>review</pre>" in mode
    written = 'mode = "review"'
    assert f"line {line_number(text, written)}" in mode
    sam = row_of(page.text, "clients.0.prepaid_balance")
    assert f"line {line_number(text, 'prepaid_balance = 5')}" in sam
    port = row_of(page.text, "web.port")
    assert "<pre>8465</pre>" in port
    assert ">default</td>" in port


def test_a_value_in_an_inline_table_is_traced_to_its_line(practice: Practice) -> None:
    text = practice.config.read_text(encoding="utf-8")
    with console_over(practice) as console:
        page = console.get("/settings")
    fee = row_of(page.text, "policy.fee.amount")
    assert "<pre>60.00</pre>" in fee
    written = next(line for line in text.splitlines() if line.startswith("fee = "))
    assert f"line {line_number(text, written)}" in fee


def test_without_the_file_the_values_still_show(console: TestClient) -> None:
    page = console.get("/settings")
    assert page.status_code == 200
    assert "<pre>review</pre>" in row_of(page.text, "policy.mode")
    assert "could not be read" in page.text


def test_no_secret_is_ever_shown(practice: Practice) -> None:
    text = practice.config.read_text(encoding="utf-8")
    text = text.replace(
        "[[accounts]]",
        f'[alerts.via]\nprovider = "webhook"\nurl = "https://hooks.example.org/{TOKEN}"\n\n'
        "[[accounts]]",
        1,
    )
    text = text.replace('name = "Ben Okafor"', 'name = "Ben Okafor"\npassword = "hunter2"')
    practice.config.write_text(text, encoding="utf-8")
    with console_over(practice) as console:
        page = console.get("/settings")
    assert page.status_code == 200
    assert TOKEN not in page.text
    assert "hunter2" not in page.text
    assert "(hidden)" in row_of(page.text, "alerts.via.url")
    assert "unknown key" in row_of(page.text, "clients.5.password")
    assert password_path(practice.state).read_text(encoding="utf-8") not in page.text
    assert str(practice.state / "console") in page.text  # where, at most


def test_hostile_names_are_escaped_in_settings(practice: Practice) -> None:
    make_hostile(practice)
    with console_over(practice) as console:
        page = console.get("/settings")
    assert page.status_code == 200
    assert_escaped(page.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
