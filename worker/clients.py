"""The client directory: who the practitioner's clients are, from the config and a CSV file."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from worker.config import ClientEntry, Config
from worker.errors import ConfigError
from worker.model import Attendee, Client


class ClientDirectory:
    """Look clients up by address, or find them named in a session title."""

    def __init__(self, clients: Iterable[Client]) -> None:
        self._by_email = {c.email.strip().lower(): c for c in clients}

    def all(self) -> list[Client]:
        """Every client in the directory, in the order they were listed."""
        return list(self._by_email.values())

    def by_email(self, email: str) -> Client | None:
        return self._by_email.get(email.strip().lower())

    def for_attendee(self, attendee: Attendee) -> Client:
        """The directory entry for an attendee, or a client known only from the calendar."""
        known = self.by_email(attendee.email)
        if known is not None:
            return known if known.name else _with_name(known, attendee.name)
        return Client(email=attendee.address, name=attendee.name)

    def named_in(self, title: str) -> list[Client]:
        """Clients whose name or alias appears as whole words in a session title."""
        found = []
        for client in self._by_email.values():
            names = [client.name, *client.aliases]
            if any(_mentions(title, name) for name in names if name.strip()):
                found.append(client)
        return found


def _with_name(client: Client, name: str) -> Client:
    return replace(client, name=name)


def _mentions(title: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name.strip())}(?!\w)", title, re.IGNORECASE) is not None


def _client(entry: ClientEntry) -> Client:
    return Client(
        email=entry.email.strip().lower(),
        name=entry.name,
        language=entry.language,
        time_zone=entry.time_zone,
        exempt=entry.exempt,
        prepaid_balance=entry.prepaid_balance,
        aliases=entry.aliases,
        fee=entry.fee.money() if entry.fee is not None else None,
    )


def load_directory(config: Config) -> ClientDirectory:
    """Clients from the config, then the CSV file (whose rows win for the same address)."""
    entries = list(config.clients)
    if config.clients_csv is not None:
        entries += read_clients_csv(config.clients_csv)
    return ClientDirectory(_client(e) for e in entries)


_TRUE = {"1", "true", "yes", "y"}


def read_clients_csv(path: Path) -> list[ClientEntry]:
    """Read a CSV with a header row; aliases are separated by ';'. All problems reported at once."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read the client list {path}: {exc}", path=str(path)) from None
    entries, problems = [], []
    for line, row in enumerate(rows, start=2):
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        fields: dict[str, object] = {k: v for k, v in values.items() if v}
        if "aliases" in fields:
            fields["aliases"] = tuple(a.strip() for a in values["aliases"].split(";") if a)
        if "exempt" in fields:
            fields["exempt"] = values["exempt"].lower() in _TRUE
        try:
            entries.append(ClientEntry.model_validate(fields))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"])
                problems.append(f"{path}:{line}: {where}: {error['msg']}")
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the client list:\n" + "\n".join(problems),
            path=str(path),
            problems=tuple(problems),
        )
    return entries
