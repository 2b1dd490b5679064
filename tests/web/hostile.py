"""A practice whose client names and session titles try to run script, and a console over it.

The names are written in the configuration (the directory the clients page lists) and in the
records the worker keeps (cases, the sessions' snapshot, the facts each notice is written
from), so every page that shows a name or a title meets one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from starlette.testclient import TestClient

from tests.cli.practice import Practice
from tests.web.conftest import PASSWORD, log_in
from worker.config import load_config
from worker.web.app import build_console
from worker.web.keys import set_password

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
SAM = "sam.taylor@example.org"


def make_hostile(practice: Practice) -> None:
    """Sam is called `SCRIPT`, and every session's title is `IMAGE`."""
    config = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(
        config.replace('name = "Sam Taylor"', f"name = '{SCRIPT}'"), encoding="utf-8"
    )
    with sqlite3.connect(practice.database) as db:
        db.execute("UPDATE decisions SET client_name = ? WHERE client_email = ?", (SCRIPT, SAM))
        db.execute("UPDATE facts SET session = json_set(session, '$.title', ?)", (IMAGE,))
        db.execute("UPDATE sessions SET body = json_set(body, '$.title', ?)", (IMAGE,))
        db.execute(
            "UPDATE outbox SET facts = json_set(facts, '$.session_title', ?)"
            " WHERE decision_id IS NOT NULL",
            (IMAGE,),
        )
        db.execute(
            "UPDATE outbox SET facts = json_set(facts, '$.client_name', ?)"
            " WHERE decision_id IS NOT NULL AND client_email = ?",
            (SCRIPT, SAM),
        )
    db.close()


def assert_escaped(page: str) -> None:
    """Neither name reaches the page as markup; both are there as text."""
    assert SCRIPT not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "&lt;img" in page


@contextmanager
def console_over(practice: Practice) -> Iterator[TestClient]:
    """A logged-in console over `practice`, which knows the file its configuration is in."""
    set_password(practice.state, PASSWORD)
    config, _ = load_config(practice.config)
    app = build_console(config, clock=lambda: datetime.now(UTC), config_path=practice.config)
    with TestClient(app, base_url="http://127.0.0.1:8465") as client:
        log_in(client)
        yield client
