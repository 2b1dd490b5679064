"""The `[state]` table: which database holds the state (SQLite by default, or PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from worker.config.fields import Section

PRACTICE_NAME = re.compile(r"[a-z0-9-]{1,40}")
PRACTICE_RULE = "lowercase letters, digits and hyphens, 1 to 40 of them"


def practice_schema(practice: str) -> str:
    """The PostgreSQL schema holding a practice's tables: `practice_` and its name."""
    return "practice_" + practice.replace("-", "_")


class StateSettings(Section):
    """Where the worker keeps its state. Leave it out for the SQLite file in `state_dir`."""

    database: str | None = Field(
        None,
        description="A PostgreSQL URL such as 'postgresql://fairwarning@db.example.org/"
        "fairwarning' (no password in it); empty for the SQLite file in state_dir.",
    )
    password_file: Path | None = Field(
        None,
        description="A file holding the PostgreSQL password (mode 0600), if it is not in "
        "PGPASSWORD or ~/.pgpass.",
    )

    practice: str | None = Field(
        None,
        description="Set from the file's name when the file is in a --practices folder (leave "
        "it out): on PostgreSQL this practice's tables live in the schema practice_<name>.",
    )

    @field_validator("practice")
    @classmethod
    def _a_practice_name(cls, value: str | None) -> str | None:
        if value is not None and not PRACTICE_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a practice name: use {PRACTICE_RULE}")
        return value

    @field_validator("database")
    @classmethod
    def _a_postgres_url_without_password(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(
                f"{value!r} is not a PostgreSQL URL; write postgresql://user@host/dbname, or "
                "leave state.database out for the SQLite file in state_dir"
            )
        if parts.password is not None or "password=" in parts.query:
            raise ValueError(
                "the PostgreSQL URL must not contain a password (the config file is not a "
                "place for secrets); remove it and give the password in PGPASSWORD, "
                "~/.pgpass, or a file named by state.password_file"
            )
        return value
