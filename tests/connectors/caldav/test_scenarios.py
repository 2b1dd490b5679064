"""A practitioner on a CalDAV calendar, end to end: the worker the wiring builds from the
config (SQLite state, the real connector), Radicale as the calendar server and the test SMTP
server as the practitioner's mail server."""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading
import tomllib
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.caldav import CalDavCalendar
from tests.connectors.caldav.helpers import store_login
from tests.practice import PRACTITIONER, SAM, Clock
from tests.servers.radicale import PASSWORD, USER, RadicaleServer
from tests.servers.smtp import PASSWORD as SMTP_PASSWORD
from tests.servers.smtp import USER as SMTP_USER
from tests.servers.smtp import SmtpServer
from worker.cli.main import main
from worker.config import Config
from worker.pipeline.cycle import AccountReport, Mailroom
from worker.private_files import write_private
from worker.wiring import build_worker, caldav_login_path, smtp_password_path

HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


class Relay(socketserver.ThreadingTCPServer):
    """A TCP relay to Radicale that can be switched off: the server is down, or the network."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target: int) -> None:
        super().__init__(("127.0.0.1", 0), _Pipe)
        self.target = target
        self.down = False

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Pipe(socketserver.BaseRequestHandler):
    server: Relay

    def handle(self) -> None:
        if self.server.down:
            return  # the connection is closed unanswered
        with (
            socket.create_connection(("127.0.0.1", self.server.target)) as upstream,
            selectors.DefaultSelector() as selector,
        ):
            selector.register(self.request, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, self.request)
            while not self.server.down:
                for key, _ in selector.select(timeout=0.05):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)


@pytest.fixture
def relay(radicale_server: RadicaleServer) -> Iterator[Relay]:
    server = Relay(radicale_server.port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class CalDavPractice:
    """Dana's practice: calendar on a CalDAV server, notices through her SMTP server."""

    def __init__(
        self, tmp_path: Path, server: RadicaleServer, smtp: SmtpServer, calendar_root: str = ""
    ) -> None:
        self.server = server
        self.clock = Clock()
        self.url = server.new_calendar()
        url = self.url.replace(server.root, calendar_root) if calendar_root else self.url
        self.config_path = tmp_path / "config.toml"
        self.config_path.write_text(
            f"""
state_dir = "{tmp_path / "state"}"
[practitioner]
name = "Dana Rivera"
email = "{PRACTITIONER}"
time_zone = "Europe/London"
[policy]
mode = "auto"
hold = "10m"
[[clients]]
email = "{SAM}"
name = "Sam Taylor"
[[accounts]]
name = "main"
calendar = {{ provider = "caldav", url = "{url}", timeout = "5s" }}
[accounts.sender]
provider = "smtp"
host = "127.0.0.1"
port = {smtp.port}
username = "{SMTP_USER}"
timeout = "5s"
""",
            encoding="utf-8",
        )
        self.config = Config.model_validate(tomllib.loads(self.config_path.read_text("utf-8")))
        store_login(caldav_login_path(self.config, "main"), server)
        write_private(smtp_password_path(self.config, "main"), SMTP_PASSWORD.encode())
        self.worker = build_worker(self.config, clock=self.clock)

    def event(self, name: str, *lines: str, changed: datetime | None = None) -> None:
        stamp = f"{changed or self.clock.now - timedelta(days=3):%Y%m%dT%H%M%SZ}"
        body = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Apple Inc.//iCal//EN",
            "BEGIN:VEVENT", f"UID:{name}", f"DTSTAMP:{stamp}", f"LAST-MODIFIED:{stamp}",
            f"ORGANIZER;CN=Dana Rivera:mailto:{PRACTITIONER}", *lines,
            "END:VEVENT", "END:VCALENDAR", "",
        ]  # fmt: skip
        self.server.put(f"{self.url}{name}.ics", "\r\n".join(body).encode())

    def session(self, name: str, start: datetime, answer: str = "ACCEPTED", *more: str) -> None:
        self.event(
            name,
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(minutes=50):%Y%m%dT%H%M%SZ}",
            "SUMMARY:Coaching with Sam",
            f"ATTENDEE;CN=Sam Taylor;PARTSTAT={answer}:mailto:{SAM}",
            *more,
            changed=self.clock.now if answer == "DECLINED" else None,
        )

    def cycle(self) -> AccountReport:
        [report] = self.worker.cycle()
        return report

    def later(self, by: timedelta) -> AccountReport:
        self.clock.advance(by)
        return self.cycle()

    def outbox(self) -> list[tuple[str, str]]:
        rows = self.worker.db.execute("SELECT kind, state FROM outbox ORDER BY id")
        return [(r["kind"], r["state"]) for r in rows]


@pytest.fixture
def trusted(smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = tmp_path / "ca.pem"
    smtp_server.ca.cert_pem.write_to_path(str(ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))


@pytest.fixture
def dana(
    tmp_path: Path, radicale_server: RadicaleServer, smtp_server: SmtpServer, trusted: None
) -> CalDavPractice:
    return CalDavPractice(tmp_path, radicale_server, smtp_server)


def _to(server: SmtpServer, address: str) -> list[EmailMessage]:
    return [r.message for r in server.messages if address in r.recipients]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_late_decline_on_the_caldav_calendar_sends_the_reminder_through_smtp(
    dana: CalDavPractice, smtp_server: SmtpServer
) -> None:
    assert type(dana.worker.mailrooms[0].calendar).__name__ == "CalDavCalendar"
    start = dana.clock.now + 5 * HOUR
    dana.session("sam-monday", start)
    assert dana.cycle().sync.baseline  # type: ignore[union-attr]

    dana.clock.advance(MINUTE)
    dana.session("sam-monday", start, "DECLINED")
    [decision] = dana.cycle().sync.decisions  # type: ignore[union-attr]
    dana.later(11 * MINUTE)

    assert decision.verdict == "reminder"
    [notice] = _to(smtp_server, SAM)
    assert "policy" in _text(notice).lower()
    assert dana.outbox() == [("reminder", "sent")]


def test_a_deleted_occurrence_of_a_weekly_session_goes_to_review(
    dana: CalDavPractice, smtp_server: SmtpServer
) -> None:
    first = dana.clock.now + 5 * HOUR
    weekly = ("RRULE:FREQ=WEEKLY;COUNT=4",)
    dana.session("sam-weekly", first, "ACCEPTED", *weekly)
    dana.cycle()

    dana.clock.advance(MINUTE)
    dana.session("sam-weekly", first, "ACCEPTED", *weekly, f"EXDATE:{first:%Y%m%dT%H%M%SZ}")
    [decision] = dana.cycle().sync.decisions  # type: ignore[union-attr]
    dana.later(11 * MINUTE)

    assert decision.verdict == "review"
    assert decision.fact.session.key == f"sam-weekly.ics:sam-weekly/{first.isoformat()}"
    assert _to(smtp_server, SAM) == [], "nothing goes to the client before Dana decides"


def test_a_decline_made_while_the_sync_token_was_lost_is_still_judged(
    dana: CalDavPractice, smtp_server: SmtpServer
) -> None:
    start = dana.clock.now + 5 * HOUR
    dana.session("sam-monday", start)
    dana.cycle()
    name = dana.url.rstrip("/").rsplit("/", 1)[-1]
    for cache in dana.server.folder.glob(f"collections/collection-root/*/{name}/.Radicale.cache"):
        for token in (cache / "sync-token").iterdir():
            token.unlink()

    dana.clock.advance(MINUTE)
    dana.session("sam-monday", start, "DECLINED")
    report = dana.cycle()
    dana.later(11 * MINUTE)

    assert report.sync is not None
    assert "sync token" in report.sync.resync
    [decision] = report.sync.decisions
    assert decision.verdict == "reminder"
    assert len(_to(smtp_server, SAM)) == 1
    [audit] = dana.worker.db.execute("SELECT detail FROM audit WHERE event = 'resync'")
    assert "1 change found" in audit["detail"]


def test_a_wrong_password_pauses_the_account_until_auth_caldav_stores_the_right_one(
    dana: CalDavPractice,
) -> None:
    dana.session("sam-monday", dana.clock.now + 5 * HOUR)
    dana.cycle()
    store_login(caldav_login_path(dana.config, "main"), dana.server, password="revoked")

    refused = dana.later(MINUTE)
    paused = dana.later(5 * MINUTE)

    command = f"fairwarning auth caldav --account main --url {dana.server.root} --username {USER}"
    assert command in refused.error
    assert "HTTP 401" in refused.error
    assert paused.error.startswith("paused until")
    fixed = CliRunner().invoke(
        main, ["--config", str(dana.config_path), *command.split()[1:]], input=PASSWORD + "\n"
    )
    assert fixed.exit_code == 0, fixed.output
    assert dana.later(MINUTE).error == ""


def test_while_the_server_is_down_nothing_is_lost_and_the_decline_is_judged_after(
    tmp_path: Path,
    radicale_server: RadicaleServer,
    smtp_server: SmtpServer,
    trusted: None,
    relay: Relay,
) -> None:
    dana = CalDavPractice(
        tmp_path, radicale_server, smtp_server, calendar_root=f"http://127.0.0.1:{relay.port}"
    )
    waits: list[float] = []
    [room] = dana.worker.mailrooms
    calendar = CalDavCalendar(
        account="main",
        url=dana.url.replace(radicale_server.root, f"http://127.0.0.1:{relay.port}"),
        login_path=caldav_login_path(dana.config, "main"),
        practitioner_email=PRACTITIONER,
        time_zone="Europe/London",
        clock=dana.clock,
        sleep=waits.append,
        timeout=5,
    )
    dana.worker.mailrooms = [Mailroom("main", calendar, room.sender)]
    start = dana.clock.now + 5 * HOUR
    dana.session("sam-monday", start)
    dana.cycle()

    relay.down = True
    dana.clock.advance(MINUTE)
    dana.session("sam-monday", start, "DECLINED")
    outage = dana.later(MINUTE)
    relay.down = False
    back = dana.later(MINUTE)
    dana.later(11 * MINUTE)

    assert "could not be reached" in outage.error
    assert outage.sync is None
    assert len(waits) == 3, "tried again with back-off before giving up for this cycle"
    assert back.error == ""
    [decision] = back.sync.decisions  # type: ignore[union-attr]
    assert decision.verdict == "reminder"
    assert len(_to(smtp_server, SAM)) == 1
