"""A practice in a box for pipeline tests: memory calendar, memory sender, real state
(SQLite, or PostgreSQL when given a database URL)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from worker.clients import load_directory
from worker.config import Config
from worker.model import Attendee, Response, Session
from worker.notices.templates import TemplateLibrary
from worker.pipeline.calendar import MemoryCalendar
from worker.pipeline.cycle import AccountReport, Mailroom, Worker
from worker.pipeline.sender import MemorySender
from worker.store.db import open_database

PRACTITIONER = "dana@riveracoaching.example"
SAM = "sam@example.org"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


def config_for(tmp_path: Path, database: str | None = None, **policy: Any) -> Config:
    settings: dict[str, Any] = {"mode": "auto", "hold": "10m", **policy}
    return Config.model_validate(
        {
            "practitioner": {
                "name": "Dana Rivera",
                "email": PRACTITIONER,
                "time_zone": "Europe/London",
                "booking_link": "https://riveracoaching.example/book",
            },
            "policy": settings,
            "accounts": [
                {
                    "name": "main",
                    "calendar": {"provider": "local", "path": str(tmp_path)},
                    "sender": {"provider": "file", "folder": str(tmp_path / "outbox")},
                }
            ],
            "clients": [
                {"email": SAM, "name": "Sam Taylor", "prepaid_balance": 5},
                {
                    "email": "lucia@example.org",
                    "name": "Lucía",
                    "language": "es",
                    "time_zone": "Europe/Madrid",
                },
                {"email": "vip@example.org", "name": "Val", "exempt": True},
            ],
            "state_dir": str(tmp_path / "state"),
            "state": {"database": database},
        }
    )


@dataclass
class Practice:
    """One practitioner, one calendar, one mailbox, and a clock the test moves."""

    tmp_path: Path
    policy: dict[str, Any] = field(default_factory=dict)
    templates_dir: Path | None = None
    database: str | None = None  # a PostgreSQL URL; None for SQLite in the state folder

    def __post_init__(self) -> None:
        self.clock = Clock()
        self.calendar = MemoryCalendar(clock=self.clock)
        self.sender = MemorySender()
        self.config = config_for(self.tmp_path, self.database, **self.policy)
        self.db = open_database(self.config.state_dir, self.config.state)
        self.worker = self.build_worker()

    def build_worker(self) -> Worker:
        return Worker(
            config=self.config,
            directory=load_directory(self.config),
            templates=TemplateLibrary(user_dir=self.templates_dir),
            db=self.db,
            mailrooms=[Mailroom("main", self.calendar, self.sender)],
            clock=self.clock,
        )

    def book(
        self, key: str, client: str, starts_in: timedelta, title: str = "", organiser: str = ""
    ) -> Session:
        """A 50-minute session with `client`, organised by Dana unless `organiser` is given."""
        start = self.clock.now + starts_in
        session = Session(
            key=key,
            title=title or f"Coaching with {client}",
            start=start,
            end=start + timedelta(minutes=50),
            organizer_email=organiser or PRACTITIONER,
            organizer_is_practitioner=not organiser,
            attendees=(
                Attendee(PRACTITIONER, "Dana Rivera", Response.ACCEPTED),
                Attendee(client, "", Response.ACCEPTED),
            ),
            updated=self.clock.now - timedelta(days=3),
        )
        self.calendar.add(session)
        return session

    def accept(self, key: str, client: str) -> None:
        """The client takes a decline back: the session is on again."""
        [session] = [s for s in self.calendar.poll(None).sessions if s.key == key]
        attendees = tuple(
            replace(a, response=Response.ACCEPTED, responded_at=self.clock.now)
            if a.address == client
            else a
            for a in session.attendees
        )
        self.calendar.add(replace(session, attendees=attendees, updated=self.clock.now))

    def late_decline(self, client: str = SAM, starts_in: timedelta = timedelta(hours=5)) -> None:
        """Book a session, take the baseline, and have the client decline it late."""
        self.book("s1", client, starts_in)
        self.baseline()
        self.calendar.decline("s1", client)
        self.cycle()

    def cycle(self) -> AccountReport:
        return self.worker.cycle()[0]

    def baseline(self) -> None:
        report = self.cycle()
        assert report.sync is not None
        assert report.sync.baseline

    def notices(self) -> list[EmailMessage]:
        """Messages to clients (alerts to the practitioner left out)."""
        return [m for m in self.sender.sent if PRACTITIONER not in str(m["To"])]

    def alerts(self) -> list[EmailMessage]:
        return self.sent_to(PRACTITIONER)

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sender.sent if address in str(m["To"])]

    def outbox_states(self) -> list[str]:
        return [r["state"] for r in self.db.execute("SELECT state FROM outbox ORDER BY id")]

    def query(self, sql: str, *args: object) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, args))
