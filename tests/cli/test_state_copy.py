"""`fairwarning state copy --to postgresql://…`: the SQLite state moves to PostgreSQL whole."""

from __future__ import annotations

from tests.cli.practice import SAM, Practice


def _use_postgres(practice: Practice, url: str) -> None:
    text = practice.config.read_text(encoding="utf-8")
    practice.config.write_text(f'{text}\n[state]\ndatabase = "{url}"\n', encoding="utf-8")


def test_the_state_moves_to_postgresql_with_every_row_and_the_worker_carries_on_there(
    practice: Practice, postgres_url: str
) -> None:
    practice.client_acts(SAM)
    practice.cycle()
    before = practice.history()
    sent_before = sorted(practice.notices())

    done = practice("state", "copy", "--to", postgres_url)

    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:-1]}
    assert set(lines) >= {"accounts", "sessions", "decisions", "outbox", "audit"}
    for table, words in lines.items():
        assert words[1] == words[4], f"{table}: {words}"
    assert lines["decisions"][1] == str(len(before))
    assert "Every table matches" in done.stdout

    _use_postgres(practice, postgres_url)
    assert practice.history() == before
    practice.cycle()
    assert sorted(practice.notices()) == sent_before, "nothing is sent a second time"


def test_a_database_that_already_holds_state_is_refused_and_left_as_it_is(
    practice: Practice, postgres_url: str
) -> None:
    assert practice("state", "copy", "--to", postgres_url).returncode == 0

    again = practice("state", "copy", "--to", postgres_url)

    assert again.returncode == 2
    assert "already holds Fair Warning state" in again.stderr
    assert "nothing there is ever overwritten" in again.stderr


def test_a_password_in_the_url_is_refused_before_anything_is_read(practice: Practice) -> None:
    done = practice("state", "copy", "--to", "postgresql://fw:hunter2-pw@127.0.0.1/fw")

    assert done.returncode == 2
    assert "must not contain a password" in done.stderr
    assert "hunter2-pw" not in done.stderr + done.stdout
