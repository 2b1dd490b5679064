from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("10m", timedelta(minutes=10)),
        ("365d", timedelta(days=365)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("0m", timedelta()),
    ],
)
def test_practitioner_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["24", "a day", "24 hours", "", "-1h", "1.5h"])
def test_unreadable_duration_names_the_value_and_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="'24h'") as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)


@given(st.integers(min_value=0, max_value=10_000_000))
def test_formatting_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value
