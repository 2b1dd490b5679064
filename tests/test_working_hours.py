"""practitioner.working_hours: every malformed or overlapping range refused, naming the key,
the value and the right form; offers are on only when working hours are set."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from worker.config import Config, parse_config
from worker.config.hours import weekly
from worker.errors import ConfigError

BASE = """\
[practitioner]
name = "Dana Rivera"
email = "dana@example.com"
time_zone = "Europe/London"
{hours}

[[accounts]]
name = "main"
calendar = {{ provider = "local", path = "calendar" }}
sender = {{ provider = "file", folder = "outbox" }}
"""


def load(tmp_path: Path, hours: str) -> Config:
    return parse_config(BASE.format(hours=hours), tmp_path / "config.toml")[0]


def test_working_hours_are_read_per_weekday_with_the_offer_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, 'working_hours = { mon = ["14:00-18:00", "09:00-12:30"], Tue = [] }')

    assert weekly(config.practitioner.working_hours) == {
        0: ((time(9), time(12, 30)), (time(14), time(18))),
        1: (),
    }
    assert config.policy.offer_slots == 3
    assert config.policy.offer_within == timedelta(days=14)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('"9-5"', "'9-5' is not a time range"),
        ('"25:00-26:00"', "'25:00-26:00' is not a time range"),
        ('"09:00-09:60"', "'09:00-09:60' is not a time range"),
        ('"17:00-09:00"', "'17:00-09:00' ends before it starts"),
        ('"09:00-09:00"', "'09:00-09:00' ends before it starts"),
    ],
)
def test_a_malformed_range_names_the_key_the_value_and_the_right_form(
    tmp_path: Path, value: str, said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"working_hours = {{ wed = [{value}] }}")

    message = str(caught.value)
    assert "practitioner.working_hours" in message
    assert f"working_hours.wed = {said}" in message
    assert '"09:00-17:00"' in message


def test_overlapping_ranges_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'working_hours = { mon = ["09:00-13:00", "12:30-18:00"] }')

    message = str(caught.value)
    assert "working_hours.mon" in message
    assert "overlapping" in message
    assert "'09:00-13:00', '12:30-18:00'" in message


def test_touching_ranges_are_not_overlapping(tmp_path: Path) -> None:
    config = load(tmp_path, 'working_hours = { mon = ["09:00-12:00", "12:00-13:00"] }')
    assert len(weekly(config.practitioner.working_hours)[0]) == 2


def test_an_unknown_weekday_lists_the_weekdays(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'working_hours = { monday = ["09:00-17:00"] }')

    assert "'monday' is not a weekday; use mon, tue, wed, thu, fri, sat, sun" in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'working_hours = { mon = ["9-5"], funday = [], fri = ["18:00-17:00"] }')

    message = str(caught.value)
    assert "'9-5'" in message
    assert "'funday'" in message
    assert "'18:00-17:00'" in message
