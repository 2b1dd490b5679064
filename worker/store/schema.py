"""The numbered migrations, and which version a database is at, on either database.

Every migration is `NNN_name.sql`; where PostgreSQL needs other SQL for the same change
(identity columns, JSON functions, dropping a NOT NULL) it sits beside it as
`NNN_name.postgres.sql`. SQLite keeps its version in `PRAGMA user_version`, PostgreSQL in a
one-row `schema_version` table (the only table the two schemas do not share).
"""

from __future__ import annotations

from importlib import resources

from worker.errors import StateError
from worker.store.connection import Connection, is_postgres
from worker.store.transactions import transaction

POSTGRES_SUFFIX = ".postgres.sql"


def migration_files() -> dict[int, dict[str, str]]:
    """Every migration's files by number: {"sqlite": name, "postgres": name}, where the
    PostgreSQL one is the shared file unless a `.postgres.sql` variant exists."""
    folder = resources.files("worker.store") / "migrations"
    found: dict[int, dict[str, str]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        files = found.setdefault(int(entry.name.split("_", 1)[0]), {})
        if entry.name.endswith(POSTGRES_SUFFIX):
            files["postgres"] = entry.name
        else:
            files["sqlite"] = entry.name
            files.setdefault("postgres", entry.name)
    return found


def migrations(*, postgres: bool) -> list[tuple[int, str]]:
    """(version, script) in order, in this database's dialect."""
    folder = resources.files("worker.store") / "migrations"
    dialect = "postgres" if postgres else "sqlite"
    return [
        (number, (folder / files[dialect]).read_text(encoding="utf-8"))
        for number, files in sorted(migration_files().items())
    ]


def newest() -> int:
    numbers = migration_files()
    return max(numbers) if numbers else 0


def refuse_newer(current: int) -> None:
    latest = newest()
    if current > latest:
        raise StateError(
            f"the state database is at schema version {current}, newer than this release "
            f"understands ({latest}); upgrade Fair Warning rather than downgrading it"
        )


def version(connection: Connection) -> int:
    """The schema version the database is at (0: nothing yet)."""
    if not is_postgres(connection):
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
    exists = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists[0]:
        return 0
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    return 0 if row is None else int(row[0])


def set_version(connection: Connection, number: int) -> None:
    if not is_postgres(connection):
        connection.execute(f"PRAGMA user_version = {int(number)}")
        return
    connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    if connection.execute("UPDATE schema_version SET version = ?", (number,)).rowcount == 0:
        connection.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))


def migrate(connection: Connection) -> None:
    """Apply every migration newer than the database, each in its own transaction.

    The version is read inside the first transaction, under the write lock: two workers
    starting together on PostgreSQL never apply the same migration twice.
    """
    current = version(connection)
    refuse_newer(current)
    if current == newest():
        return
    for number, script in migrations(postgres=is_postgres(connection)):
        with transaction(connection):
            current = version(connection)
            refuse_newer(current)
            if number <= current:
                continue
            for statement in statements(script):
                connection.execute(statement)
            set_version(connection, number)


def statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
