"""The `[state]` table: SQLite by default, a PostgreSQL URL that never holds a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_config import GOOD
from worker.config import parse_config
from worker.errors import ConfigError


def test_without_a_state_table_the_state_is_the_sqlite_file_as_before(tmp_path: Path) -> None:
    config, warnings = parse_config(GOOD, tmp_path / "config.toml")
    assert warnings == []
    assert config.state.database is None


def test_a_postgresql_url_and_a_password_file_beside_the_config(tmp_path: Path) -> None:
    text = GOOD + (
        '\n[state]\ndatabase = "postgresql://fairwarning@db.example.org/fairwarning"\n'
        'password_file = "pg-password"\n'
    )
    config, _ = parse_config(text, tmp_path / "config.toml")
    assert config.state.database == "postgresql://fairwarning@db.example.org/fairwarning"
    assert config.state.password_file == tmp_path / "pg-password"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://fairwarning:hunter2-pw@db.example.org/fw",
        "postgres://db/fw?password=hunter2-pw",
    ],
)
def test_a_password_in_the_url_is_refused_and_never_repeated(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(GOOD + f'\n[state]\ndatabase = "{url}"\n', tmp_path / "config.toml")
    assert "state.database: the PostgreSQL URL must not contain a password" in refused.value.message
    assert "PGPASSWORD" in refused.value.message
    assert "hunter2-pw" not in refused.value.message


def test_another_kind_of_database_url_is_refused_with_the_right_form(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not a PostgreSQL URL; write postgresql://"):
        parse_config(GOOD + '\n[state]\ndatabase = "mysql://db/fw"\n', tmp_path / "config.toml")
