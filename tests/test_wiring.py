"""The real wiring on a vdir: a malformed file is reported once and never read as a deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from worker.cli import demo
from worker.config import load_config
from worker.wiring import build_worker

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _practice(tmp_path: Path) -> Path:
    config_path = demo.write_config(tmp_path)
    demo.write_calendar(tmp_path / "calendar", NOW, acted=False)
    return config_path


def test_a_malformed_file_is_reported_once_and_its_sessions_are_not_deleted(
    tmp_path: Path,
) -> None:
    config, _ = load_config(_practice(tmp_path))
    clock = [NOW]
    worker = build_worker(config, clock=lambda: clock[0])
    worker.cycle()
    (tmp_path / "calendar" / "sam-1.ics").write_text("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMM")

    clock[0] += timedelta(minutes=1)
    [first] = worker.cycle()
    clock[0] += timedelta(minutes=1)
    [second] = worker.cycle()

    assert first.sync is not None
    assert second.sync is not None
    [problem] = first.sync.problems
    assert "sam-1.ics" in problem
    assert first.sync.decisions == ()
    assert second.sync.problems == ()
    assert second.sync.decisions == ()
    assert list((tmp_path / "outbox").glob("*.eml")) == []


def test_the_demo_week_decides_what_the_readme_promises(tmp_path: Path) -> None:
    config, _ = load_config(_practice(tmp_path))
    calendar = tmp_path / "calendar"
    build_worker(config, clock=lambda: NOW - demo.EARLIER - timedelta(hours=3)).cycle()
    demo.write_calendar(calendar, NOW, acted=True, through_day=1)  # Ben and Maya, two days ago
    build_worker(config, clock=lambda: NOW - demo.EARLIER).cycle()
    build_worker(config, clock=lambda: NOW - timedelta(hours=3)).cycle()
    demo.write_calendar(calendar, NOW, acted=True)
    [report] = build_worker(config, clock=lambda: NOW).cycle()

    assert report.sync is not None
    verdicts = {
        (d.client.email if d.client else "", d.fact.session.key.split(":")[0]): str(d.verdict)
        for d in report.sync.decisions
    }
    assert verdicts == {
        ("sam.taylor@example.org", "sam-1.ics"): "reminder",
        # Sam had not been warned yet: his second decline joins the first reminder.
        ("sam.taylor@example.org", "sam-2.ics"): "reminder",
        ("jordan.lee@example.org", "jordan-1.ics"): "ignore",
        ("alex.morgan@example.org", "alex-1.ics"): "review",
        ("priya.shah@example.org", "priya-1.ics"): "review",
        ("lucia.fernandez@example.org", "lucia-1.ics"): "reminder",
        # Warned two days ago, so today's late declines are forfeited.
        ("ben.okafor@example.org", "ben-2.ics"): "forfeit",
        ("maya.cohen@example.org", "maya-2.ics"): "forfeit",
    }
    sent = {s.client_email: s for s in report.sent}
    assert sent["sam.taylor@example.org"].outcome == "sent"
    assert [s.kind for s in report.sent if s.client_email == "sam.taylor@example.org"] == [
        "reminder"
    ]
    assert sent["sam.taylor@example.org"].prepaid_balance == 5
    sam = message_from_bytes(
        Path(sent["sam.taylor@example.org"].written_to).read_bytes(), policy=policy.default
    )
    sam_body = sam.get_body(preferencelist=("plain",))
    assert sam_body is not None
    assert ", and our session on " in sam_body.get_content(), "one reminder names both"
    assert "If one of these times suits you, reply and I'll book it for you:" in (
        sam_body.get_content()
    )
    assert sam_body.get_content().count("\n- ") == 3, "three free times offered"
    ben = _text(sent["ben.okafor@example.org"].written_to)
    assert "The fee for a forfeited session is £60.00" in ben
    assert "https://riveracoaching.example/pay" in ben
    maya = _text(sent["maya.cohen@example.org"].written_to)
    assert "this one counts as used and you have 2 prepaid sessions remaining" in maya
    eml = Path(sent["lucia.fernandez@example.org"].written_to).read_bytes()
    spanish = message_from_bytes(eml, policy=policy.default)
    assert "recordatorio" in str(spanish["Subject"])
    body = spanish.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Las sesiones canceladas" in body.get_content()
    # Noor books her first session: a welcome with the agreement, and the note before it.
    noor = [s for s in report.sent if s.client_email == "noor.haddad@example.org"]
    assert [(s.kind, s.outcome) for s in noor] == [
        ("welcome", "sent"),
        ("session_reminder", "sent"),
    ]
    welcome = message_from_bytes(Path(noor[0].written_to).read_bytes(), policy=policy.default)
    [agreement] = list(welcome.iter_attachments())
    assert agreement.get_filename() == "cancellation-policy.pdf"
    assert agreement.get_content().startswith(b"%PDF-1.4")
    note = message_from_bytes(Path(noor[1].written_to).read_bytes(), policy=policy.default)
    note_body = note.get_body(preferencelist=("plain",))
    assert note_body is not None
    assert "free of charge until Monday 23 November at 15:00" in note_body.get_content()


def _text(path: str) -> str:
    message = message_from_bytes(Path(path).read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())
