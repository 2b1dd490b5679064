"""Mistakes the schema cannot see: placeholders left from the starter, bad or repeated clients.

Each problem names its key path and line and says what to write instead, so `fairwarning
check` can report them all at once.
"""

from __future__ import annotations

from worker.addresses import is_address
from worker.config.file import Config
from worker.config.lines import at_line

# What `fairwarning init` writes for the practitioner to replace.
PLACEHOLDERS = {
    "practitioner.email": ("you@example.com",),
    "practitioner.name": ("Your Name",),
    "practitioner.signature": ("Your Name",),
    "clients.email": ("client@example.org",),
}


def mistakes(config: Config, text: str) -> list[str]:
    """Every mistake found, each as "line N, key: what is wrong; what to write"."""
    found = _placeholders(config, text)
    seen: dict[str, int] = {}
    for index, client in enumerate(config.clients):
        key = f"clients.{index}.email"
        if not is_address(client.email):
            found.append(
                at_line(
                    text,
                    key,
                    f"{client.email!r} is not an email address; write it as "
                    "name@domain, e.g. sam@example.org",
                )
            )
            continue
        address = client.email.strip().lower()
        if address in seen:
            found.append(
                at_line(
                    text,
                    key,
                    f"{client.email} is listed twice (also clients.{seen[address]}); "
                    "keep one entry per client",
                )
            )
        seen.setdefault(address, index)
    return found


def _placeholders(config: Config, text: str) -> list[str]:
    found = []
    practitioner = config.practitioner
    values = {
        "practitioner.name": practitioner.name,
        "practitioner.email": practitioner.email,
        "practitioner.signature": practitioner.signature,
    }
    for key, value in values.items():
        texts = value.values() if isinstance(value, dict) else [value]
        left = [p for p in PLACEHOLDERS[key] for written in texts if p in str(written)]
        if left:
            found.append(at_line(text, key, f"{left[0]!r} is the starter's placeholder; put yours"))
    for index, client in enumerate(config.clients):
        if client.email.strip().lower() in PLACEHOLDERS["clients.email"]:
            found.append(
                at_line(
                    text,
                    f"clients.{index}.email",
                    f"{client.email} is the starter's sample "
                    "client; replace it with a real client or remove the [[clients]] block",
                )
            )
    return found
