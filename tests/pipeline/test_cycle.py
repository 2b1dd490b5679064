"""The whole pipeline, cycle by cycle: what a practitioner would see happen."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from connectors.file_sender import FileSender
from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.errors import AccountNeedsPractitioner, FairWarningError, Recoverable
from worker.model import Attendee, CalendarChanges, Response
from worker.pipeline.casework import approve, open_desk, waive
from worker.pipeline.cycle import Mailroom
from worker.pipeline.delivery import departure
from worker.pipeline.sender import Delivery, Outcome
from worker.service.health import describe, exit_code, health
from worker.store import sync_state
from worker.store.db import transaction

HOUR = timedelta(hours=1)


def _desk(practice: Practice):  # type: ignore[no-untyped-def]
    config = practice.config
    return open_desk(config, practice.db, "main", load_directory(config), practice.clock())


def _body(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.get_body(preferencelist=("plain",)).get_content())


def test_first_look_at_a_calendar_judges_nothing(practice: Practice) -> None:
    practice.book("s1", SAM, 5 * HOUR)
    practice.calendar.decline("s1", SAM)
    report = practice.cycle()
    assert report.sync is not None
    assert report.sync.baseline
    assert report.sync.decisions == ()
    assert practice.notices() == []


def test_late_decline_sends_a_reminder_to_the_client_after_the_undo_window(
    practice: Practice,
) -> None:
    practice.book("s1", SAM, 5 * HOUR)
    practice.baseline()
    practice.clock.advance(timedelta(minutes=1))
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    assert practice.notices() == [], "the undo window holds the notice"
    assert practice.outbox_states() == ["queued"]
    practice.clock.advance(timedelta(minutes=11))
    practice.cycle()
    [message] = practice.notices()
    assert message["To"].addresses[0].addr_spec == SAM
    assert "Dana Rivera" in str(message["From"])
    assert "about 5 hours before it was due to begin" in _body(message)
    assert practice.outbox_states() == ["sent"]


def test_session_restored_within_the_undo_window_sends_nothing_and_does_not_count(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"own_deletion": "client"})
    session = practice.book("s1", SAM, 5 * HOUR)
    practice.baseline()
    practice.calendar.delete("s1")
    practice.cycle()
    assert practice.outbox_states() == ["queued"]
    practice.clock.advance(timedelta(minutes=3))
    practice.calendar.add(session)
    practice.cycle()
    practice.clock.advance(timedelta(minutes=30))
    practice.cycle()
    assert practice.notices() == []
    assert practice.outbox_states() == ["dropped"]
    assert practice.query("SELECT * FROM ledger WHERE waived_at IS NULL") == []


def test_second_late_decline_forfeits_and_the_notice_shows_the_balance_left(
    practice: Practice,
) -> None:
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 29 * HOUR)
    practice.baseline()
    practice.clock.advance(HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()  # the reminder goes out: only then can a forfeit rest on it
    practice.clock.advance(6 * HOUR)
    practice.calendar.decline("s2", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    reminder, forfeit = practice.sent_to(SAM)
    assert "remind" in str(reminder["Subject"]).lower() or "policy" in _body(reminder)
    assert "forfeit" in _body(forfeit).lower()
    assert "4 prepaid sessions" in _body(forfeit)
    [spent] = practice.query(
        "SELECT change, balance_after FROM package_entries WHERE reason = 'forfeit'"
    )
    assert (spent["change"], spent["balance_after"]) == (-1, 4)


def test_on_time_cancellation_sends_nothing(practice: Practice) -> None:
    practice.book("s1", SAM, 48 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", SAM)
    report = practice.cycle()
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict == "ignore"
    practice.clock.advance(HOUR)
    practice.cycle()
    assert practice.notices() == []


def test_decline_withdrawn_and_repeated_after_the_notice_went_sends_no_second_notice(
    practice: Practice,
) -> None:
    practice.late_decline()
    practice.clock.advance(HOUR)
    practice.cycle()
    [session] = practice.calendar.poll(None).sessions
    accepted = tuple(replace(a, response=Response.ACCEPTED) for a in session.attendees)
    practice.calendar.add(replace(session, attendees=accepted))
    practice.cycle()
    practice.calendar.decline("s1", SAM)
    report = practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert len(practice.sent_to(SAM)) == 1
    assert report.sync is not None
    assert "already decided" in report.sync.decisions[0].reasons[-1]


def test_review_mode_waits_for_approval_then_sends(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    practice.late_decline()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert practice.notices() == []
    assert practice.outbox_states() == ["review"]
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    with transaction(practice.db):
        said = approve(_desk(practice), case["id"])
    assert SAM in said
    practice.cycle()
    assert len(practice.sent_to(SAM)) == 1


def test_waived_case_sends_nothing_and_the_next_one_is_only_a_reminder(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 50 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    with transaction(practice.db):
        waive(_desk(practice), case["id"], "she called me beforehand")
    practice.clock.advance(40 * HOUR)
    practice.calendar.decline("s2", SAM)
    report = practice.cycle()
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict == "reminder"
    assert decision.offence == 1


def test_practitioner_deletion_waits_for_review_and_approval_sends_the_ladder_step(
    practice: Practice,
) -> None:
    practice.book("s1", SAM, 5 * HOUR)
    practice.baseline()
    practice.clock.advance(timedelta(minutes=1))
    practice.calendar.delete("s1")
    report = practice.cycle()
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict == "review"
    assert any("deleted or cancelled this session yourself" in r for r in decision.reasons)
    [case] = practice.query("SELECT id FROM decisions WHERE status = 'open'")
    with transaction(practice.db):
        said = approve(_desk(practice), case["id"])
    assert "reminder" in said
    practice.cycle()
    assert len(practice.sent_to(SAM)) == 1


def test_quiet_hours_hold_the_notice_until_morning_in_the_clients_zone(tmp_path: Path) -> None:
    practice = Practice(
        tmp_path, policy={"quiet_hours": {"start": "21:00", "end": "08:00"}, "hold": "0m"}
    )
    practice.clock.now = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 22:30 in Madrid
    practice.book("s1", "lucia@example.org", 11 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", "lucia@example.org")
    practice.cycle()
    assert practice.notices() == []
    [row] = practice.query("SELECT not_before, detail FROM outbox")
    assert row["not_before"] == "2026-11-24T07:00:00+00:00"  # 08:00 Madrid
    assert "Europe/Madrid" in row["detail"]
    practice.clock.now = datetime(2026, 11, 24, 7, 1, tzinfo=UTC)
    practice.cycle()
    [message] = practice.notices()
    assert "Hola" in _body(message) or "sesión" in _body(message)


def test_a_send_that_timed_out_is_unknown_and_never_resent(practice: Practice) -> None:
    practice.late_decline()
    practice.sender.script = [Delivery(Outcome.UNKNOWN, detail="timed out after sending")]
    practice.clock.advance(HOUR)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert practice.notices() == []
    assert practice.outbox_states() == ["unknown"]


def test_a_sender_that_crashes_mid_send_leaves_unknown_not_queued(practice: Practice) -> None:
    class Exploding:
        def send(self, message: object) -> Delivery:
            raise ConnectionResetError("peer reset after the request was written")

    practice.late_decline()
    practice.worker.mailrooms[0] = practice.worker.mailrooms[0].__class__(
        "main", practice.calendar, Exploding()
    )
    practice.clock.advance(HOUR)
    report = practice.cycle()
    assert [s.outcome for s in report.sent] == ["unknown"]
    assert "ConnectionResetError" in report.sent[0].detail


def test_throttled_send_is_retried_after_the_providers_time_and_delivered_once(
    practice: Practice,
) -> None:
    practice.late_decline()
    retry_at = practice.clock.now + 2 * HOUR
    practice.sender.script = [Delivery(Outcome.DEFERRED, detail="429", retry_at=retry_at)]
    practice.clock.advance(HOUR)
    practice.cycle()
    assert practice.outbox_states() == ["queued"]
    practice.clock.advance(30 * timedelta(minutes=1))
    practice.cycle()
    assert practice.notices() == []
    practice.clock.advance(HOUR)
    practice.cycle()
    practice.cycle()
    assert len(practice.sent_to(SAM)) == 1


def test_rejected_notice_is_recorded_and_shown_for_review(practice: Practice) -> None:
    practice.late_decline()
    practice.sender.script = [Delivery(Outcome.REJECTED, detail="550 mailbox unavailable")]
    practice.clock.advance(HOUR)
    practice.cycle()
    [row] = practice.query("SELECT state, detail FROM outbox")
    assert (row["state"], row["detail"]) == ("rejected", "550 mailbox unavailable")


def test_a_send_interrupted_by_a_crash_becomes_unknown_on_restart(practice: Practice) -> None:
    practice.late_decline()
    practice.db.execute("UPDATE outbox SET state = 'sending'")
    practice.clock.advance(HOUR)
    report = practice.cycle()
    assert len(report.interrupted) == 1
    assert practice.outbox_states() == ["unknown"]
    assert practice.notices() == []


def test_a_broken_template_keeps_the_notice_queued_until_fixed(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "en").mkdir(parents=True)
    (templates / "en" / "reminder.txt.j2").write_text("Hi {{ client_first_name }\n")
    practice = Practice(tmp_path, templates_dir=templates)
    practice.late_decline()
    practice.clock.advance(HOUR)
    report = practice.cycle()
    assert practice.notices() == []
    assert "reminder.txt.j2" in report.sent[0].detail
    (templates / "en" / "reminder.txt.j2").write_text("Hi {{ client_first_name }}\n")
    practice.worker = practice.build_worker()
    practice.cycle()
    [message] = practice.notices()
    assert _body(message) == "Hi Sam\n"


def test_dry_run_cases_never_move_a_real_client_up_the_ladder(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "dry-run"})
    practice.book("s1", SAM, 5 * HOUR)
    practice.book("s2", SAM, 50 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.worker.config = practice.config.model_copy(
        update={"policy": practice.config.policy.model_copy(update={"mode": "auto"})}
    )
    practice.clock.advance(40 * HOUR)
    practice.calendar.decline("s2", SAM)
    report = practice.cycle()
    assert report.sync is not None
    assert [d.offence for d in report.sync.decisions] == [1]


def test_exempt_client_gets_nothing(practice: Practice) -> None:
    practice.book("s1", "vip@example.org", 5 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", "vip@example.org")
    report = practice.cycle()
    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict == "ignore"
    assert "exempt" in decision.reasons[0]


def test_a_failing_calendar_is_reported_and_delivery_still_runs(practice: Practice) -> None:
    practice.late_decline()

    class Down:
        def poll(self, cursor: str | None) -> CalendarChanges:
            raise Recoverable("calendar server answered 503")

    practice.worker.mailrooms[0] = practice.worker.mailrooms[0].__class__(
        "main", Down(), practice.sender
    )
    practice.clock.advance(HOUR)
    report = practice.cycle()
    assert report.error == "calendar server answered 503"
    assert len(practice.sent_to(SAM)) == 1


def test_a_name_with_header_syntax_cannot_add_a_recipient(practice: Practice) -> None:
    session = practice.book("s1", "new@example.org", 5 * HOUR)
    evil = Attendee("new@example.org", "Eve\r\nBcc: attacker@evil.example", Response.ACCEPTED)
    practice.calendar.add(replace(session, attendees=(evil,)))
    practice.baseline()
    practice.calendar.decline("s1", "new@example.org")
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    [message] = practice.notices()
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_all("Bcc") is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["new@example.org"]


def test_history_keeps_every_decision_with_its_reasons(practice: Practice) -> None:
    practice.book("s1", SAM, 5 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", SAM, comment="sorry!")
    practice.cycle()
    [row] = practice.query("SELECT verdict, reasons, client_email FROM decisions")
    assert row["verdict"] == "reminder"
    assert "before the session" in row["reasons"]
    assert row["client_email"] == SAM


def test_an_address_that_cannot_be_mailed_is_rejected_for_review_not_retried(
    practice: Practice,
) -> None:
    practice.late_decline("josé@example.org")
    practice.clock.advance(HOUR)
    report = practice.cycle()
    assert [s.outcome for s in report.sent] == ["rejected"]
    assert "not a single plain email address" in report.sent[0].detail
    practice.clock.advance(HOUR)
    assert practice.cycle().sent == []


def test_status_flags_a_notice_held_up_by_a_broken_template(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "en").mkdir(parents=True)
    (templates / "en" / "reminder.subject.j2").write_text("{{ no_such_variable }}")
    practice = Practice(tmp_path, templates_dir=templates)
    practice.late_decline()
    practice.clock.advance(HOUR)
    practice.cycle()
    report = health(practice.db, ["main"], practice.clock(), timedelta(minutes=1))
    assert report["needs_you"]
    [stuck] = report["stuck"]
    assert "no_such_variable" in stuck
    assert "waiting for a template fix" in describe(report)


class _Revoked:
    """A calendar or mailbox whose token was revoked: every call needs the practitioner."""

    def __init__(self) -> None:
        self.calls = 0

    def poll(self, cursor: str | None) -> CalendarChanges:
        self.calls += 1
        raise AccountNeedsPractitioner("run: fairwarning auth google --account main ...")

    def send(self, message: object) -> Delivery:
        self.calls += 1
        raise AccountNeedsPractitioner("run: fairwarning auth google --account main ...")


def test_a_revoked_calendar_pauses_the_account_and_is_retried_hourly_not_every_cycle(
    practice: Practice,
) -> None:
    practice.baseline()
    revoked = _Revoked()
    real = practice.worker.mailrooms[0]
    practice.worker.mailrooms[0] = replace(real, calendar=revoked)
    first = practice.cycle()
    practice.clock.advance(timedelta(minutes=5))
    second = practice.cycle()
    assert revoked.calls == 1
    assert "fairwarning auth google" in first.error
    assert second.error.startswith("paused until")
    practice.clock.advance(HOUR)
    practice.worker.mailrooms[0] = real
    assert practice.cycle().error == ""
    [account] = practice.query("SELECT paused_until FROM accounts")
    assert account["paused_until"] is None


def test_a_revoked_mailbox_keeps_the_notice_queued_and_sends_it_once_after_reauthorising(
    practice: Practice,
) -> None:
    practice.late_decline()
    revoked = _Revoked()
    real = practice.worker.mailrooms[0]
    practice.worker.mailrooms[0] = replace(real, sender=revoked)
    practice.clock.advance(HOUR)
    report = practice.cycle()
    assert [s.outcome for s in report.sent] == ["paused"]
    assert practice.outbox_states() == ["queued"]
    practice.clock.advance(timedelta(minutes=5))
    practice.cycle()
    assert revoked.calls == 1, "no send is attempted while sending is paused"
    with transaction(practice.db):
        sync_state.resume(practice.db, "main")
    practice.worker.mailrooms[0] = real
    practice.cycle()
    practice.cycle()
    assert len(practice.sent_to(SAM)) == 1


def test_a_daily_sending_limit_holds_every_notice_until_the_providers_time(
    practice: Practice,
) -> None:
    for number, client in enumerate((SAM, "lucia@example.org", "new@example.org")):
        practice.book(f"s{number}", client, 5 * HOUR)
    practice.baseline()
    for number, client in enumerate((SAM, "lucia@example.org", "new@example.org")):
        practice.calendar.decline(f"s{number}", client)
    practice.cycle()
    limit_ends = practice.clock.now + 10 * HOUR
    practice.sender.script = [
        Delivery(Outcome.DEFERRED, "Mail sending limit", retry_at=limit_ends, pause_sending=True)
    ]
    practice.clock.advance(HOUR)
    report = practice.cycle()
    assert [s.outcome for s in report.sent] == ["paused"]
    assert practice.notices() == []
    practice.clock.advance(HOUR)
    assert practice.cycle().sent == []
    practice.clock.now = limit_ends + timedelta(minutes=1)
    practice.cycle()
    assert len(practice.notices()) == 3


def test_status_reports_pauses_per_account_and_an_old_heartbeat_as_broken(
    practice: Practice, tmp_path: Path
) -> None:
    practice.baseline()
    heartbeat = tmp_path / "heartbeat"
    heartbeat.write_text(f"{practice.clock().isoformat()}\n")
    with transaction(practice.db):
        sync_state.pause_sending(
            practice.db, "main", practice.clock() + HOUR, "Gmail daily sending limit"
        )
    report = health(practice.db, ["main"], practice.clock(), timedelta(minutes=1), heartbeat)
    assert exit_code(report) == 1
    [account] = report["accounts"]
    assert account["sending_pause_reason"] == "Gmail daily sending limit"
    assert "SENDING PAUSED until" in describe(report)
    later = practice.clock() + 2 * HOUR
    report = health(practice.db, ["main"], later, timedelta(minutes=1), heartbeat)
    assert report["health"] == "broken"
    assert exit_code(report) == 2


def test_approving_or_waiving_a_case_that_does_not_wait_says_why(practice: Practice) -> None:
    practice.late_decline()
    [case] = practice.query("SELECT id FROM decisions")
    with pytest.raises(FairWarningError, match="not waiting for review"):
        approve(_desk(practice), case["id"])
    with transaction(practice.db):
        waive(_desk(practice), case["id"], "called me first")
    with pytest.raises(FairWarningError, match="already waived"):
        waive(_desk(practice), case["id"], "again")
    with pytest.raises(FairWarningError, match="fairwarning history"):
        approve(_desk(practice), 999)
    assert practice.outbox_states() == ["dropped"]


def test_a_state_database_error_while_syncing_reaches_the_service_loop(
    practice: Practice,
) -> None:
    practice.baseline()
    practice.db.execute("DROP TABLE sessions")  # what a damaged file looks like from here
    with pytest.raises(sqlite3.OperationalError, match="no such table: sessions"):
        practice.cycle()


# --- what the practitioner is told: when a notice leaves, and whether it reached anyone ------


def _approved_in_review_mode(practice: Practice, client: str = SAM) -> int:
    """A late decline in review mode, approved now; returns the case id."""
    practice.book("s1", client, 11 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", client)
    practice.cycle()
    [case] = practice.query("SELECT id FROM decisions")
    with transaction(practice.db):
        approve(_desk(practice), case["id"])
    return int(case["id"])


def test_an_approval_at_night_leaves_when_quiet_hours_end_and_not_before(tmp_path: Path) -> None:
    practice = Practice(
        tmp_path, policy={"mode": "review", "quiet_hours": {"start": "21:00", "end": "08:00"}}
    )
    practice.clock.now = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 22:30 in London
    case = _approved_in_review_mode(practice)

    leaves = departure(practice.db, case, practice.config.policy, practice.clock())

    assert leaves is not None
    assert leaves.at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 08:00 GMT
    assert leaves.waits_for == "quiet hours in Europe/London"
    assert (leaves.kind, leaves.client_email, leaves.account) == ("reminder", SAM, "main")
    practice.clock.now = leaves.at - timedelta(minutes=1)
    practice.cycle()
    assert practice.notices() == [], "not a minute before it said"
    practice.clock.now = leaves.at
    practice.cycle()
    assert len(practice.notices()) == 1, "and at the time it said"


def test_an_approval_in_summer_leaves_at_eight_british_summer_time(tmp_path: Path) -> None:
    practice = Practice(
        tmp_path, policy={"mode": "review", "quiet_hours": {"start": "21:00", "end": "08:00"}}
    )
    practice.clock.now = datetime(2027, 7, 5, 21, 30, tzinfo=UTC)  # 22:30 BST
    case = _approved_in_review_mode(practice)

    leaves = departure(practice.db, case, practice.config.policy, practice.clock())

    assert leaves is not None
    assert leaves.at == datetime(2027, 7, 6, 7, 0, tzinfo=UTC)  # 08:00 BST


def test_a_sending_pause_holds_an_approved_notice_and_quiet_hours_may_follow_it(
    tmp_path: Path,
) -> None:
    practice = Practice(
        tmp_path, policy={"mode": "review", "quiet_hours": {"start": "21:00", "end": "08:00"}}
    )
    practice.clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    case = _approved_in_review_mode(practice)
    policy, now = practice.config.policy, practice.clock()

    with transaction(practice.db):
        sync_state.pause_sending(practice.db, "main", now + HOUR, "Gmail daily sending limit")
    paused = departure(practice.db, case, policy, now)
    with transaction(practice.db):
        sync_state.pause_sending(practice.db, "main", now + 10 * HOUR, "Gmail daily sending limit")
    into_the_night = departure(practice.db, case, policy, now)

    assert paused is not None
    assert (paused.at, paused.waits_for) == (
        now + HOUR,
        "sending paused: Gmail daily sending limit",
    )
    assert into_the_night is not None
    assert into_the_night.at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert into_the_night.waits_for == "quiet hours in Europe/London"


def test_an_approved_notice_with_nothing_in_its_way_is_due_now(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"mode": "review"})
    case = _approved_in_review_mode(practice)

    leaves = departure(practice.db, case, practice.config.policy, practice.clock())

    assert leaves is not None
    assert (leaves.at, leaves.waits_for, leaves.simulated) == (practice.clock(), "", False)
    with transaction(practice.db):
        waive(_desk(practice), case, "she called")
    assert departure(practice.db, case, practice.config.policy, practice.clock()) is None


def test_a_notice_written_to_a_file_says_where_and_a_mailed_one_does_not(
    practice: Practice, tmp_path: Path
) -> None:
    files = FileSender(folder=tmp_path / "notices")
    practice.worker.mailrooms = [Mailroom("main", practice.calendar, files)]
    practice.late_decline()
    practice.clock.advance(HOUR)

    [written] = practice.cycle().sent

    assert written.outcome == "sent", "the outbox state stays `sent`"
    assert written.written_to == str(tmp_path / "notices" / f"{written.ref}.eml")
    assert Path(written.written_to).exists()
    assert written.simulated is False
    [row] = practice.query("SELECT written_to FROM outbox")
    assert row["written_to"] == written.written_to


def test_a_mailed_notice_records_no_file_and_a_dry_run_one_says_it_was_simulated(
    tmp_path: Path,
) -> None:
    mailed = Practice(tmp_path / "auto")
    mailed.late_decline()
    mailed.clock.advance(HOUR)
    [sent] = mailed.cycle().sent
    dry = Practice(tmp_path / "dry", policy={"mode": "dry-run"})
    dry.late_decline()
    dry.clock.advance(HOUR)
    [simulated] = dry.cycle().sent

    assert (sent.written_to, sent.simulated) == ("", False)
    [row] = mailed.query("SELECT written_to, provider_id FROM outbox")
    assert (row["written_to"], row["provider_id"]) == ("", "memory-1")
    assert simulated.simulated is True
