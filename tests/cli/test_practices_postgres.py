"""Several practices on one PostgreSQL database: each practice's tables in its own schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from tests.cli.folder import add_practice
from tests.cli.practice import LUCIA, SAM, Practice, Run


def _on_postgres(folder: Path, name: str, url: str, fairwarning: Run) -> Practice:
    practice = add_practice(folder, name, datetime.now(UTC), fairwarning)
    with (folder / f"{name}.toml").open("a", encoding="utf-8") as file:
        file.write(f'\n[state]\ndatabase = "{url}"\n')
    return practice


def _two_on_postgres(
    tmp_path: Path, url: str, fairwarning: Run, second: str
) -> tuple[Path, Practice, Practice]:
    """A folder of dana and `second` on one PostgreSQL database, each having run once."""
    folder = tmp_path / "practices"
    folder.mkdir()
    dana = _on_postgres(folder, "dana", url, fairwarning)
    other = _on_postgres(folder, second, url, fairwarning)
    assert fairwarning("--practices", folder, "run", "--once").returncode == 0
    return folder, dana, other


def _cases(fairwarning: Run, folder: Path, name: str) -> list[dict[str, str]]:
    done = fairwarning("--practices", folder, "--practice", name, "history", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    cases: list[dict[str, str]] = json.loads(done.stdout)
    return cases


def test_two_practices_with_the_same_account_and_client_keep_separate_rows(
    tmp_path: Path, fairwarning: Run, postgres_url: str
) -> None:
    folder, dana, eli = _two_on_postgres(tmp_path, postgres_url, fairwarning, "eli-2")
    dana.client_acts(SAM)
    dana.client_acts(LUCIA)
    eli.client_acts(SAM)

    done = fairwarning("--practices", folder, "run", "--once")

    assert done.returncode == 0, done.stdout + done.stderr
    dana_cases = _cases(fairwarning, folder, "dana")
    eli_cases = _cases(fairwarning, folder, "eli-2")
    assert sorted(c["client_email"] for c in dana_cases) == sorted([SAM.client, LUCIA.client])
    assert [c["client_email"] for c in eli_cases] == [SAM.client]
    with psycopg.connect(postgres_url) as db:
        reminders = {
            schema: db.execute(
                f"SELECT client_email FROM {schema}.outbox WHERE kind = 'reminder' ORDER BY 1"
            ).fetchall()
            for schema in ("practice_dana", "practice_eli_2")
        }
        accounts = db.execute("SELECT name FROM practice_eli_2.accounts").fetchall()
        public = db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert reminders == {
        "practice_dana": sorted([(LUCIA.client,), (SAM.client,)]),
        "practice_eli_2": [(SAM.client,)],
    }
    assert accounts == [("main",)]
    assert public == (0,), "a practice's tables never land in public"
    status = fairwarning("--practices", folder, "--practice", "eli-2", "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr


def test_state_copy_with_practice_fills_that_practices_schema(
    tmp_path: Path, fairwarning: Run, postgres_url: str
) -> None:
    folder = tmp_path / "practices"
    folder.mkdir()
    dana = add_practice(folder, "dana", datetime.now(UTC), fairwarning)
    assert fairwarning("--practices", folder, "run", "--once").returncode == 0
    dana.client_acts(SAM)
    assert fairwarning("--practices", folder, "run", "--once").returncode == 0

    done = fairwarning(
        "--practices", folder, "--practice", "dana", "state", "copy", "--to", postgres_url
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "(schema practice_dana)" in done.stdout
    with psycopg.connect(postgres_url) as db:
        copied = db.execute(
            "SELECT client_email FROM practice_dana.outbox WHERE kind = 'reminder'"
        ).fetchall()
        public = db.execute("SELECT to_regclass('public.outbox')").fetchone()
    assert copied == [(SAM.client,)]
    assert public == (None,)


def test_a_practice_whose_shared_schedule_is_unreadable_is_reported_not_quiet(
    tmp_path: Path, fairwarning: Run, postgres_url: str
) -> None:
    folder, dana, eli = _two_on_postgres(tmp_path, postgres_url, fairwarning, "eli")
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("DROP TABLE practice_dana.account_leases")
    dana.client_acts(SAM)
    eli.client_acts(SAM)

    done = fairwarning("--practices", folder, "run", "--once")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "practice dana" in done.stdout + done.stderr
    assert "account_leases" in done.stdout + done.stderr
    assert [c["client_email"] for c in _cases(fairwarning, folder, "eli")] == [SAM.client]
