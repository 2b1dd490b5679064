"""Fixtures shared by the scenario tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.practice import Practice


@pytest.fixture
def practice(tmp_path: Path) -> Practice:
    """A practitioner with a memory calendar and mailbox, in automatic mode, 10 min undo."""
    return Practice(tmp_path)
