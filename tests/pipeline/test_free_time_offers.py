"""A reminder offers real free times, found from the calendars when it is sent (seed 003)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.practice import SAM, Practice
from worker.model import Session

WEEKDAYS = {day: ["09:00-12:30", "14:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def with_working_hours(tmp_path: Path, **policy: object) -> Practice:
    practice = Practice(tmp_path, policy=dict(policy))
    practitioner = practice.config.practitioner.model_copy(update={"working_hours": WEEKDAYS})
    practice.config = practice.config.model_copy(update={"practitioner": practitioner})
    practice.worker = practice.build_worker()
    return practice


def plain(practice: Practice, index: int = 0) -> str:
    body = practice.notices()[index].get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_reminder_offers_three_free_times_around_what_is_booked(tmp_path: Path) -> None:
    practice = with_working_hours(tmp_path)  # Monday 23 November 2026, 09:00 in London
    practice.book("busy", "kim@example.org", timedelta(days=1, minutes=30))  # Tue 09:30-10:20
    day = practice.clock.now.replace(hour=0) + timedelta(days=2)
    practice.calendar.add(
        Session("off", "Training day", day, day + timedelta(days=1), all_day=True)
    )
    practice.late_decline(SAM, starts_in=timedelta(hours=5))
    practice.clock.advance(timedelta(minutes=11))
    practice.cycle()

    text = plain(practice)
    assert "If one of these times suits you, reply and I'll book it for you:" in text
    # Not before Tuesday 09:11 (the late window), not during the 09:30 session, one
    # 50-minute session apart, not on Wednesday's training day.
    offered = [line for line in text.splitlines() if line.startswith("- ")]
    assert offered == [
        "- Tuesday 24 November at 10:30",
        "- Tuesday 24 November at 11:30",
        "- Tuesday 24 November at 14:00",
    ]
    assert "Or choose another time here:" in text
    assert "https://riveracoaching.example/book" in text


def test_free_times_are_shown_on_the_clients_clock_in_their_language(tmp_path: Path) -> None:
    practice = with_working_hours(tmp_path, offer_slots=2)
    practice.late_decline("lucia@example.org", starts_in=timedelta(hours=5))
    practice.clock.advance(timedelta(minutes=11))
    practice.cycle()

    text = plain(practice)
    assert "Si alguno de estos horarios te viene bien, respóndeme y te lo reservo:" in text
    offered = [line for line in text.splitlines() if line.startswith("- ")]
    assert offered == [
        "- martes 24 de noviembre a las 10:30 (hora de Madrid)",
        "- martes 24 de noviembre a las 11:30 (hora de Madrid)",
    ]


def test_the_times_are_found_when_the_notice_is_sent_not_when_the_case_is_decided(
    tmp_path: Path,
) -> None:
    practice = with_working_hours(tmp_path)
    practice.late_decline(SAM, starts_in=timedelta(hours=5))
    practice.clock.advance(timedelta(minutes=5))  # still inside the undo window
    practice.book("later", "kim@example.org", timedelta(days=1, minutes=25))  # Tue 09:30-10:20
    practice.cycle()
    practice.clock.advance(timedelta(minutes=6))
    practice.cycle()

    offered = [line for line in plain(practice).splitlines() if line.startswith("- ")]
    assert offered[0] == "- Tuesday 24 November at 10:30"


def test_without_a_free_time_the_notice_keeps_just_the_booking_link(tmp_path: Path) -> None:
    practice = with_working_hours(tmp_path, offer_within="1d")  # nothing after the late window
    practice.late_decline(SAM, starts_in=timedelta(hours=5))
    practice.clock.advance(timedelta(minutes=11))
    practice.cycle()

    text = plain(practice)
    assert "reply and I'll book it" not in text
    assert "If you'd like to find another time, you can choose one here:" in text
