"""The built-in demo: a practice's week in a folder of .ics files, judged end to end.

The first run writes a configuration and a calendar dated around today, takes the silent
baseline look a real first run takes two days ago, plays that day's cancellations (so two
clients have had their reminder), then today's cancellations (and a new client's first
booking), and runs one cycle in automatic mode. Later runs just run another cycle: nothing
is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

PRACTITIONER = "dana@riveracoaching.example"

CONFIG = """\
# Fair Warning demo configuration: a coach in London with five clients.
# Every key is explained in README.md ("Configuration").
state_dir = "state"

[practitioner]
name = "Dana Rivera"
email = "{practitioner}"
time_zone = "Europe/London"
language = "en"
booking_link = "https://riveracoaching.example/book"
# A forfeit that spends no prepaid session states the fee and links here.
payment_link = "https://riveracoaching.example/pay"
signature = "Dana Rivera\\nRivera Coaching"
# Attached to the welcome a new client gets (see policy.welcome).
policy_document = "{document}"

# Reminders and forfeits offer the next free times inside these hours.
[practitioner.working_hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-13:00"]

[policy]
mode = "auto"
late_window = "24h"
steps = ["reminder", "forfeit"]
# The demo shows its notices at once; in real use keep an undo window such as "10m".
hold = "0m"
# A new client gets a welcome with the policy in full and the document attached.
welcome = true
# A note 48 hours before each session, saying until when it can be moved free of charge.
session_reminder = "48h"
# What a forfeited session costs a client with no prepaid sessions left.
fee = {{ amount = "60.00", currency = "GBP" }}

[policy.excerpt]
en = "Sessions cancelled or rescheduled with less than 24 hours' notice are forfeited."
es = "Las sesiones canceladas o cambiadas con menos de 24 horas de antelación se pierden."

[policy.full_text]
en = '''Sessions are prepaid and set aside for you alone.
Please move or cancel a session at least 24 hours before it begins.
With less notice the session is forfeited, whatever the reason.'''
es = '''Las sesiones son prepagadas y se reservan solo para ti.
Cambia o cancela una sesión con al menos 24 horas de antelación.
Con menos aviso la sesión se pierde, sea cual sea el motivo.'''

[[accounts]]
name = "main"
calendar = {{ provider = "local", path = "calendar" }}
sender = {{ provider = "file", folder = "outbox" }}

[[clients]]
email = "sam.taylor@example.org"
name = "Sam Taylor"
prepaid_balance = 5

[[clients]]
email = "lucia.fernandez@example.org"
name = "Lucía Fernández"
language = "es"
time_zone = "Europe/Madrid"

[[clients]]
email = "priya.shah@example.org"
name = "Priya Shah"

[[clients]]
email = "jordan.lee@example.org"
name = "Jordan Lee"

[[clients]]
email = "alex.morgan@example.org"
name = "Alex Morgan"

[[clients]]
email = "ben.okafor@example.org"
name = "Ben Okafor"

[[clients]]
email = "maya.cohen@example.org"
name = "Maya Cohen"
prepaid_balance = 3
"""
DOCUMENT = "cancellation-policy.pdf"
POLICY_LINES = (
    "Rivera Coaching - Cancellation policy agreement",
    "",
    "1. Sessions are prepaid and set aside for you alone.",
    "2. Move or cancel a session at least 24 hours before it begins.",
    "3. With less notice the session is forfeited, whatever the reason.",
    "4. The first late cancellation is let go, with a reminder.",
)


@dataclass(frozen=True)
class DemoSession:
    """One sample session and what the client (or Dana) does to it before the cycle.

    `action` is "decline", "delete" (Dana deletes it) or "book" (a new client books it: it
    is on the calendar only after the clients acted). `day` 1 is two days ago, 2 is today.
    """

    uid: str
    title: str
    client: str
    client_name: str
    starts_in: timedelta
    action: str = ""
    acted_ago: timedelta = timedelta(0)
    comment: str = ""
    day: int = 2


EARLIER = timedelta(days=2)  # when day 1's cancellations happened, before today's


def _earlier(uid: str, client: str, name: str, starts_in: timedelta) -> DemoSession:
    """A session of day 1, cancelled late that day: its reminder went out then."""
    return DemoSession(
        uid,
        f"Coaching: {name}",
        client,
        name,
        starts_in - EARLIER,
        "decline",
        EARLIER - timedelta(minutes=30),
        day=1,
    )


SESSIONS = (
    _earlier("ben-1", "ben.okafor@example.org", "Ben Okafor", timedelta(hours=5)),
    DemoSession(
        "ben-2",
        "Coaching: Ben Okafor",
        "ben.okafor@example.org",
        "Ben Okafor",
        timedelta(hours=10),
        "decline",
        timedelta(minutes=50),
    ),
    _earlier("maya-1", "maya.cohen@example.org", "Maya Cohen", timedelta(hours=7)),
    DemoSession(
        "maya-2",
        "Coaching: Maya Cohen",
        "maya.cohen@example.org",
        "Maya Cohen",
        timedelta(hours=12),
        "decline",
        timedelta(minutes=30),
    ),
    DemoSession(
        "sam-1",
        "Coaching: Sam Taylor",
        "sam.taylor@example.org",
        "Sam Taylor",
        timedelta(hours=6),
        "decline",
        timedelta(hours=2),
    ),
    DemoSession(
        "sam-2",
        "Coaching: Sam Taylor",
        "sam.taylor@example.org",
        "Sam Taylor",
        timedelta(hours=20),
        "decline",
        timedelta(minutes=40),
    ),
    DemoSession(
        "jordan-1",
        "Coaching: Jordan Lee",
        "jordan.lee@example.org",
        "Jordan Lee",
        timedelta(days=3),
        "decline",
        timedelta(hours=1),
    ),
    DemoSession(
        "alex-1",
        "Coaching: Alex Morgan",
        "alex.morgan@example.org",
        "Alex Morgan",
        timedelta(hours=9),
        "delete",
    ),
    DemoSession(
        "priya-1",
        "Coaching: Priya Shah",
        "priya.shah@example.org",
        "Priya Shah",
        timedelta(hours=4),
        "decline",
        timedelta(hours=1),
        "So sorry, I'm in hospital since last night.",
    ),
    DemoSession(
        "lucia-1",
        "Sesión: Lucía Fernández",
        "lucia.fernandez@example.org",
        "Lucía Fernández",
        timedelta(hours=8),
        "decline",
        timedelta(minutes=90),
    ),
    DemoSession(
        "sam-3", "Coaching: Sam Taylor", "sam.taylor@example.org", "Sam Taylor", timedelta(days=7)
    ),
    DemoSession(
        "noor-1",
        "Coaching: Noor Haddad",
        "noor.haddad@example.org",
        "Noor Haddad",
        timedelta(hours=30),
        "book",
        timedelta(minutes=20),
    ),
)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def session_ics(session: DemoSession, now: datetime, *, acted: bool) -> str:
    """The .ics a calendar app would write for this session, before or after the client acted.

    `now` is today's moment the demo is dated around, whichever day is being played.
    """
    start = (now + session.starts_in).replace(minute=0, second=0, microsecond=0)
    declined = acted and session.action == "decline"
    changed = declined or session.action == "book"
    modified = now - session.acted_ago if changed else now - timedelta(days=7)
    partstat = "DECLINED" if declined else "ACCEPTED"
    comment = f';X-RESPONSE-COMMENT="{session.comment}"' if declined and session.comment else ""
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Fair Warning//Demo//EN",
            "BEGIN:VEVENT",
            f"UID:{session.uid}@riveracoaching.example",
            f"DTSTAMP:{_stamp(modified)}",
            f"LAST-MODIFIED:{_stamp(modified)}",
            f"DTSTART:{_stamp(start)}",
            f"DTEND:{_stamp(start + timedelta(minutes=50))}",
            f"SUMMARY:{session.title}",
            f"ORGANIZER;CN=Dana Rivera:mailto:{PRACTITIONER}",
            f"ATTENDEE;CN=Dana Rivera;PARTSTAT=ACCEPTED:mailto:{PRACTITIONER}",
            f"ATTENDEE;CN={session.client_name};PARTSTAT={partstat}{comment}:"
            f"mailto:{session.client}",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def write_calendar(folder: Path, now: datetime, *, acted: bool, through_day: int = 2) -> None:
    """Write every sample session as it stands once the clients of days up to `through_day`
    acted (`acted`); after that, Dana's deleted one is gone."""
    folder.mkdir(parents=True, exist_ok=True)
    for session in SESSIONS:
        done = acted and session.day <= through_day  # a later day's clients have not acted yet
        path = folder / f"{session.uid}.ics"
        if (done and session.action == "delete") or (not done and session.action == "book"):
            path.unlink(missing_ok=True)
            continue
        path.write_text(session_ics(session, now, acted=done), encoding="utf-8")


def write_config(folder: Path) -> Path:
    """Dana's configuration, and the policy agreement her welcome notice attaches."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DOCUMENT).write_bytes(policy_pdf(POLICY_LINES))
    path = folder / "config.toml"
    path.write_text(CONFIG.format(practitioner=PRACTITIONER, document=DOCUMENT), encoding="utf-8")
    return path


def policy_pdf(lines: tuple[str, ...]) -> bytes:
    """A one-page PDF holding `lines` (plain ASCII, no parentheses) in Helvetica."""
    text = " ".join(f"({line}) Tj 0 -22 Td" for line in lines)
    content = f"BT /F1 13 Tf 72 770 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    size, xref = len(objects) + 1, len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n%s" % (size, table)
    return pdf + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
