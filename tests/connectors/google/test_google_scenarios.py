"""The whole worker on Google Calendar and Gmail: what a practitioner would see happen.

Each scenario runs the real core (`worker.pipeline.cycle.Worker`, SQLite state, templates) with the
Google connectors talking to the fake Google, and a clock the test moves.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from connectors.google import GmailSender, GoogleCalendar
from connectors.google.http import Backoff
from tests.connectors.google.fake_google import FakeGoogle, Fault
from tests.practice import PRACTITIONER, SAM, Clock, config_for
from worker.clients import load_directory
from worker.model import FactKind, Verdict
from worker.notices.templates import TemplateLibrary
from worker.pipeline.cycle import AccountReport, Mailroom, Worker
from worker.private_files import write_private
from worker.store.db import open_database

HOUR = timedelta(hours=1)
HOLD = timedelta(minutes=11)  # just past the 10-minute undo window


@dataclass
class GooglePractice:
    """Dana's practice on Google: the fake's calendar and mailbox, the real worker."""

    tmp_path: Path
    fake: FakeGoogle
    clock: Clock
    send_timeout: float = 5.0
    policy: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.config = config_for(self.tmp_path, **self.policy)
        self.token_path = self.config.state_dir / "tokens" / "main.google.json"
        write_private(self.token_path, json.dumps(self.fake.grant()).encode())
        self.db = open_database(self.config.state_dir)
        calendar = GoogleCalendar(
            account="main",
            token_path=self.token_path,
            practitioner_email=PRACTITIONER,
            time_zone="Europe/London",
            api_endpoint=self.fake.url,
            clock=self.clock,
            backoff=Backoff(attempts=2, first_wait=0.01, sleep=lambda _: None),
        )
        sender = GmailSender(
            account="main",
            token_path=self.token_path,
            api_endpoint=self.fake.url,
            clock=self.clock,
            timeout=self.send_timeout,
        )
        self.worker = Worker(
            config=self.config,
            directory=load_directory(self.config),
            templates=TemplateLibrary(user_dir=None),
            db=self.db,
            mailrooms=[Mailroom("main", calendar, sender)],
            clock=self.clock,
        )

    def book(self, client: str = SAM, starts_in: timedelta = 5 * HOUR) -> str:
        start = self.clock.now + starts_in
        return self.fake.add_event(
            summary=f"Coaching with {client}",
            start=start,
            end=start + timedelta(minutes=50),
            attendees=[{"email": client, "responseStatus": "accepted"}],
        )

    def cycle(self) -> AccountReport:
        return self.worker.cycle()[0]

    def baseline(self) -> None:
        report = self.cycle()
        assert report.sync is not None
        assert report.sync.baseline

    def notices(self) -> list[EmailMessage]:
        """What Gmail sent to clients (alerts to the practitioner left out)."""
        return [m for m in self.fake.messages() if PRACTITIONER not in str(m["To"])]

    def outbox(self) -> list[tuple[str, str]]:
        rows = self.db.execute("SELECT state, provider_id FROM outbox ORDER BY id")
        return [(r["state"], r["provider_id"]) for r in rows]


@pytest.fixture
def practice(tmp_path: Path, fake: FakeGoogle, clock: Clock) -> GooglePractice:
    return GooglePractice(tmp_path, fake, clock)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_late_decline_sends_the_client_a_reminder_through_gmail(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    session = practice.book()
    practice.baseline()
    clock.advance(timedelta(minutes=1))
    fake.decline(session, SAM, "Sorry, something came up")

    report = practice.cycle()
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict is Verdict.REMINDER
    clock.advance(HOLD)
    practice.cycle()

    [reminder] = practice.notices()
    assert [a.addr_spec for a in reminder["To"].addresses] == [SAM]
    assert "Dana Rivera" in str(reminder["From"])
    assert "about 5 hours before it was due to begin" in _body(reminder)
    assert practice.outbox() == [("sent", fake.sent[0]["id"])]


def test_a_second_late_decline_forfeits_the_session(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    first = practice.book(starts_in=5 * HOUR)
    second = practice.book(starts_in=29 * HOUR)
    practice.baseline()
    clock.advance(HOUR)
    fake.decline(first, SAM)
    practice.cycle()
    clock.advance(HOLD)
    practice.cycle()  # the reminder goes out: only then can a forfeit rest on it
    clock.advance(6 * HOUR)
    fake.decline(second, SAM)
    practice.cycle()
    clock.advance(HOUR)
    practice.cycle()

    reminder, forfeit = practice.notices()
    assert "forfeit" not in str(reminder["Subject"]).lower()
    assert "forfeit" in _body(forfeit).lower()
    assert "4 prepaid sessions" in _body(forfeit)


@pytest.mark.parametrize("keep_details", [True, False], ids=["details-kept", "id-only"])
def test_a_session_the_practitioner_deletes_waits_for_review(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock, keep_details: bool
) -> None:
    session = practice.book()
    practice.baseline()
    clock.advance(timedelta(minutes=1))
    fake.delete(session, keep_details=keep_details)

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert (decision.fact.kind, decision.verdict) == (FactKind.DELETED, Verdict.REVIEW)
    assert practice.notices() == []


def test_a_cancelled_occurrence_of_a_weekly_session_is_judged_alone(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    occurrences = fake.add_weekly(
        summary="Weekly coaching with Sam",
        first=clock.now + 5 * HOUR,
        length=timedelta(minutes=50),
        weeks=3,
        attendees=[{"email": SAM, "displayName": "Sam Taylor", "responseStatus": "accepted"}],
    )
    practice.baseline()
    clock.advance(timedelta(minutes=1))
    fake.cancel_occurrence(occurrences[0])

    report = practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.fact.kind is FactKind.INSTANCE_CANCELLED
    assert decision.fact.session.key == occurrences[0]
    assert decision.verdict is Verdict.REVIEW
    clock.advance(HOUR)
    quiet = practice.cycle()
    assert quiet.sync is not None
    assert quiet.sync.decisions == ()


def test_a_decline_made_while_google_dropped_the_sync_token_still_gets_its_reminder(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    declined = practice.book(starts_in=5 * HOUR)
    deleted = practice.book(starts_in=6 * HOUR)
    later = practice.book(starts_in=8 * HOUR)
    practice.baseline()
    clock.advance(HOUR)
    fake.decline(declined, SAM)
    fake.delete(deleted)
    fake.expire_sync_tokens()
    clock.advance(timedelta(minutes=20))

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    assert not report.sync.baseline
    assert "410 fullSyncRequired" in report.sync.resync
    verdicts = {(d.fact.session.key, d.fact.kind, d.verdict) for d in report.sync.decisions}
    assert verdicts == {
        (declined, FactKind.DECLINED, Verdict.REMINDER),
        (deleted, FactKind.DELETED, Verdict.REVIEW),
    }
    [reminder] = practice.notices()
    assert "4 hours before" in _body(reminder), "timed by Google's last change, not the re-sync"
    [resync] = practice.db.execute("SELECT detail FROM audit WHERE event = 'resync'")
    assert "410 fullSyncRequired" in resync["detail"]
    # Watching goes on from the new sync token: the next late decline is caught as usual.
    clock.advance(timedelta(minutes=1))
    fake.decline(later, SAM)
    practice.cycle()
    clock.advance(HOLD)
    practice.cycle()
    assert len(practice.notices()) == 2


def test_a_meeting_the_client_deleted_while_the_token_was_lost_waits_for_review_if_maybe_early(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    start = clock.now + 26 * HOUR
    theirs = fake.add_event(
        summary="Coaching with Dana",
        start=start,
        end=start + timedelta(minutes=50),
        organizer=SAM,
        attendees=[{"email": SAM, "organizer": True, "responseStatus": "accepted"}],
    )
    practice.baseline()
    clock.advance(3 * HOUR)  # 23 h before the session now, 26 h at the last good poll
    fake.delete(theirs)  # listed again as only {id, status}: no time of its own
    fake.expire_sync_tokens()

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.fact.kind is FactKind.CANCELLED_BY_CLIENT_ORGANIZER
    assert decision.verdict is Verdict.REVIEW
    assert "gap in watching" in decision.reasons[0]
    assert practice.notices() == []


def test_the_first_poll_sends_nothing_for_a_decline_made_before_it(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    session = practice.book()
    clock.advance(timedelta(minutes=1))
    fake.decline(session, SAM)

    report = practice.cycle()
    clock.advance(HOLD)
    practice.cycle()

    assert report.sync is not None
    assert report.sync.baseline
    assert report.sync.decisions == ()
    assert practice.notices() == []


def test_a_throttled_send_is_retried_once_and_delivered_once(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    session = practice.book()
    practice.baseline()
    fake.decline(session, SAM)
    practice.cycle()
    fake.fail("gmail", Fault(429, "error_429_too_many_requests", {"Retry-After": "60"}))
    clock.advance(HOLD)

    practice.cycle()
    assert practice.notices() == []
    assert practice.outbox()[0][0] == "queued"
    clock.advance(timedelta(seconds=30))
    practice.cycle()
    assert len(fake.calls("gmail")) == 1, "not before Gmail's retry time"
    clock.advance(timedelta(seconds=31))
    practice.cycle()
    clock.advance(HOUR)
    practice.cycle()

    assert len(practice.notices()) == 1
    assert len(fake.calls("gmail")) == 2
    assert practice.outbox()[0][0] == "sent"


def test_a_send_that_times_out_is_unknown_and_never_sent_again(
    tmp_path: Path, fake: FakeGoogle, clock: Clock
) -> None:
    practice = GooglePractice(tmp_path, fake, clock, send_timeout=0.3)
    session = practice.book()
    practice.baseline()
    fake.decline(session, SAM)
    practice.cycle()
    fake.fail("gmail", Fault(delay=0.8))
    clock.advance(HOLD)

    practice.cycle()
    for _ in range(3):
        clock.advance(HOUR)
        practice.cycle()

    assert practice.outbox()[0][0] == "unknown"
    to_sam = [c for c in fake.calls("gmail") if SAM in str(_message(c.body)["To"])]
    assert len(to_sam) == 1
    assert len(practice.notices()) == 1, "Gmail had it all along: the Sent folder will show it"


def test_the_daily_sending_limit_pauses_sending_until_gmails_time(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    session = practice.book()
    practice.baseline()
    fake.decline(session, SAM)
    practice.cycle()
    fake.fail("gmail", Fault(429, "error_429_mail_sending"))
    clock.advance(HOLD)

    practice.cycle()
    clock.advance(HOUR)
    practice.cycle()
    assert practice.notices() == []
    assert len(fake.calls("gmail")) == 1
    clock.now = clock.now.replace(day=24, hour=8, minute=1)
    practice.cycle()

    assert len(practice.notices()) == 1


def test_a_revoked_grant_pauses_the_account_with_the_fix_and_does_not_loop(
    practice: GooglePractice, fake: FakeGoogle, clock: Clock
) -> None:
    practice.book()
    practice.baseline()
    fake.revoke_everything()
    clock.advance(timedelta(minutes=1))

    report = practice.cycle()
    assert "fairwarning auth google --account main --client-secrets" in report.error
    calls = len(fake.calls("calendar"))
    clock.advance(timedelta(minutes=1))
    again = practice.cycle()

    assert "paused until" in again.error
    assert len(fake.calls("calendar")) == calls


def _message(body: bytes) -> EmailMessage:
    raw = base64.urlsafe_b64decode(json.loads(body)["raw"])
    return message_from_bytes(raw, policy=policy.default)
