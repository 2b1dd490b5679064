"""The same schema on both databases, from the same numbered migrations."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from tests.servers.smtp import free_port
from worker.config.state import StateSettings
from worker.errors import DatabaseFault
from worker.store import schema
from worker.store.connection import Connection, is_postgres
from worker.store.db import open_database, open_existing
from worker.store.postgres import connect, translate

# SQL that only SQLite understands: a migration that holds any needs a .postgres.sql variant.
SQLITE_ONLY = re.compile(
    r"INTEGER PRIMARY KEY|AUTOINCREMENT|strftime|json_extract|json_each|INSERT OR|PRAGMA",
    re.IGNORECASE,
)


def _columns(db: Connection) -> dict[str, list[str]]:
    if is_postgres(db):
        rows = db.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall()
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["table_name"], []).append(row["column_name"])
        found.pop("schema_version")  # PostgreSQL's PRAGMA user_version
        return found
    tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return {
        t["name"]: [c["name"] for c in db.execute(f"PRAGMA table_info({t['name']})")]
        for t in tables.fetchall()
    }


def _indexes(db: Connection) -> set[str]:
    if is_postgres(db):
        sql = "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
        names = {r["name"] for r in db.execute(sql)}
        return {n for n in names if not n.endswith(("_pkey", "_key"))}
    sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    return {r["name"] for r in db.execute(sql)}


def test_every_migration_has_what_each_database_needs() -> None:
    files = schema.migration_files()
    assert sorted(files) == list(range(1, schema.newest() + 1)), "numbers without a gap"
    folder = Path(schema.__file__).parent / "migrations"
    for number, names in files.items():
        assert "sqlite" in names, f"migration {number} has no SQLite file"
        script = (folder / names["postgres"]).read_text(encoding="utf-8")
        postgres_sql = "\n".join(schema.statements(script))  # comments may name SQLite's words
        assert not SQLITE_ONLY.search(postgres_sql), (
            f"migration {number} uses SQL only SQLite knows: give it "
            f"{names['sqlite'].removesuffix('.sql')}{schema.POSTGRES_SUFFIX}"
        )


def test_both_databases_have_the_same_tables_columns_and_indexes(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite_db = open_database(tmp_path / "state")
    postgres_db = open_database(tmp_path / "unused", StateSettings(database=postgres_url))
    try:
        assert _columns(postgres_db) == _columns(sqlite_db)
        assert _indexes(postgres_db) == _indexes(sqlite_db)
        assert schema.version(postgres_db) == schema.version(sqlite_db) == schema.newest()
    finally:
        sqlite_db.close()
        postgres_db.close()


def test_opening_again_applies_nothing_twice(tmp_path: Path, postgres_url: str) -> None:
    settings = StateSettings(database=postgres_url)
    open_database(tmp_path, settings).close()
    db = open_database(tmp_path, settings)
    try:
        assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1
    finally:
        db.close()


def test_an_upgrade_on_postgresql_knows_every_client_it_had_seen(postgres_url: str) -> None:
    db = connect(postgres_url)
    try:
        for number, script in schema.migrations(postgres=True):
            if number <= 3:
                for statement in schema.statements(script):
                    db.execute(statement)
        schema.set_version(db, 3)
        body = '{"attendees": [{"email": " Sam@Example.org "}, {"email": ""}]}'
        db.execute("INSERT INTO sessions VALUES ('main', 's1', 't', 't', ?)", (body,))
        schema.migrate(db)
        rows = db.execute("SELECT email, seen_as FROM clients_seen").fetchall()
        assert [(r["email"], r["seen_as"]) for r in rows] == [("sam@example.org", "upgrade")]
    finally:
        db.close()


def test_placeholders_become_psycopgs_and_percent_signs_stay_literal() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b LIKE 'x%'") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE 'x%%'"
    )
    # PostgreSQL cannot type a parameter it only tests for NULL: it is sent as text.
    assert translate("(? IS NULL OR a = ?)") == "(%s::text IS NULL OR a = %s)"


def test_a_question_mark_inside_a_string_literal_is_refused() -> None:
    with pytest.raises(AssertionError, match="inside a string literal"):
        translate("SELECT 'why?' FROM t WHERE a = ?")


def test_a_read_only_look_at_postgresql_refuses_to_write(tmp_path: Path, postgres_url: str) -> None:
    settings = StateSettings(database=postgres_url)
    open_database(tmp_path, settings).close()
    db = open_existing(tmp_path, read_only=True, state=settings)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            db.execute("INSERT INTO accounts (name) VALUES ('main')")
    finally:
        db.close()


def test_an_unreachable_server_is_one_fault_naming_the_fix(tmp_path: Path) -> None:
    url = f"postgresql://fairwarning@127.0.0.1:{free_port()}/fairwarning"
    with pytest.raises(DatabaseFault, match=r"PGPASSWORD, ~/\.pgpass") as caught:
        open_database(tmp_path, StateSettings(database=url))
    assert caught.value.kind == "cantopen"
    assert "\n" not in caught.value.message
