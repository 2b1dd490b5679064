"""The prepaid package ledger over a month: sessions held, declines, forfeits, top-ups, an
outage, and the fee a forfeit states when no prepaid session pays for it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.practice import SAM, Practice
from worker.clients import load_directory
from worker.errors import FairWarningError
from worker.pipeline import packages
from worker.pipeline.casework import waive
from worker.store import packages as ledger
from worker.wiring import desk_for

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LUCIA = "lucia@example.org"


def _body(practice: Practice, index: int = -1) -> str:
    message = practice.sent_to(SAM)[index]
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _reasons(practice: Practice, email: str = SAM) -> list[tuple[str, int, int]]:
    return [(e.reason, e.change, e.balance_after) for e in ledger.entries(practice.db, email)]


def _top_up(practice: Practice, count: int, note: str = "") -> None:
    directory = load_directory(practice.config)
    packages.top_up(practice.db, directory, SAM, count, note=note, now=practice.clock.now)


def test_a_month_of_sessions_declines_forfeits_top_ups_and_an_outage(tmp_path: Path) -> None:
    practice = Practice(tmp_path)
    for week in range(5):
        practice.book(f"w{week}", SAM, 2 * DAY + week * 7 * DAY)
    practice.baseline()
    assert _reasons(practice) == [("opening", 5, 5)]

    # Week 0 takes place: one session spent, once, however often the worker looks.
    practice.clock.advance(2 * DAY + HOUR)
    practice.cycle()
    practice.cycle()
    assert _reasons(practice)[-1] == ("session", -1, 4)

    # Week 1: declined late, first time: a reminder, nothing spent, the balance stated.
    practice.clock.advance(7 * DAY - 6 * HOUR)
    practice.calendar.decline("w1", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert "4 prepaid sessions" in _body(practice)
    practice.clock.advance(6 * HOUR)
    practice.cycle()  # w1 has ended, but Sam declined it: not spent
    assert [r for r, _, _ in _reasons(practice)] == ["opening", "session"]

    # Week 2: declined late again, after the reminder: forfeited, one session spent.
    practice.clock.advance(7 * DAY - 6 * HOUR)
    practice.calendar.decline("w2", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert "3 prepaid sessions" in _body(practice)
    assert _reasons(practice)[-1] == ("forfeit", -1, 3)

    # A top-up of 2.
    _top_up(practice, 2, "package of 2, paid in cash")
    assert _reasons(practice)[-1] == ("topup", 2, 5)

    # An outage over week 3: it ended while nobody watched, and is spent once, when seen.
    practice.clock.advance(9 * DAY)
    practice.cycle()
    practice.cycle()
    spent = [e for e in ledger.entries(practice.db, SAM) if e.reason == "session"]
    assert [e.session_key for e in spent] == ["w0", "w3"]
    assert ledger.current(practice.db, SAM) == 4

    # Week 4: cancelled on time (two days ahead): nothing sent, nothing spent.
    practice.calendar.decline("w4", SAM)
    practice.cycle()
    practice.clock.advance(3 * DAY)
    practice.cycle()
    assert ledger.current(practice.db, SAM) == 4

    # Every entry says why and links to its session or case.
    for entry in ledger.entries(practice.db, SAM):
        assert entry.note
        if entry.reason in ("session", "forfeit"):
            assert entry.session_key
        if entry.reason == "forfeit":
            assert entry.decision_id is not None


def test_the_config_balance_is_only_the_opening_balance(tmp_path: Path) -> None:
    practice = Practice(tmp_path)
    practice.book("s1", SAM, DAY)
    practice.baseline()
    practice.clock.advance(2 * DAY)
    practice.cycle()
    assert ledger.current(practice.db, SAM) == 4
    practice.worker = practice.build_worker()  # a restart re-reads prepaid_balance = 5
    practice.cycle()
    assert ledger.current(practice.db, SAM) == 4


def test_a_session_that_ended_before_the_first_look_is_in_the_opening_balance(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path)
    practice.book("past", SAM, -3 * HOUR)
    practice.baseline()
    practice.cycle()
    assert _reasons(practice) == [("opening", 5, 5)]


def test_a_waived_forfeit_gives_its_session_back(tmp_path: Path) -> None:
    practice = Practice(tmp_path, policy={"steps": ["forfeit"]})
    practice.late_decline()
    assert ledger.current(practice.db, SAM) == 4
    [decision] = practice.query("SELECT id FROM decisions WHERE verdict = 'forfeit'")
    desk = desk_for(practice.config, practice.db, "main", practice.clock.now)
    waive(desk, decision["id"], "the train strike")
    waive_again = ledger.entries(practice.db, SAM)[-1]
    assert (waive_again.reason, waive_again.change, waive_again.balance_after) == (
        "forfeit_undone",
        1,
        5,
    )


def test_the_last_prepaid_session_is_mentioned(tmp_path: Path) -> None:
    practice = Practice(tmp_path)
    practice.book("s1", SAM, 2 * DAY)
    practice.baseline()
    packages.adjust(
        practice.db,
        load_directory(practice.config),
        SAM,
        -4,
        note="sessions used before Fair Warning",
        now=practice.clock.now,
    )
    practice.clock.advance(2 * DAY - 5 * HOUR)
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    assert "you still have 1 prepaid session, your last one" in " ".join(_body(practice).split())


def _forfeit_with_fee(tmp_path: Path, client: str, **practitioner: str) -> Practice:
    practice = Practice(
        tmp_path, policy={"steps": ["forfeit"], "fee": {"amount": "60.00", "currency": "GBP"}}
    )
    config = practice.config
    practice.config = config.model_copy(
        update={"practitioner": config.practitioner.model_copy(update=practitioner)}
    )
    practice.worker = practice.build_worker()
    practice.book("s1", client, 5 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", client)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    return practice


def test_a_forfeit_without_a_package_states_the_fee_and_the_payment_link(tmp_path: Path) -> None:
    practice = _forfeit_with_fee(tmp_path, LUCIA, payment_link="https://pay.example/dana")
    [message] = practice.sent_to(LUCIA)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text = " ".join(str(part.get_content()).split())
    assert "La tarifa de una sesión perdida es de 60,00 GBP; puedes pagarla aquí:" in text
    assert "https://pay.example/dana" in text
    assert ledger.entries(practice.db, LUCIA) == []


def test_a_forfeit_paid_from_the_package_states_no_fee(tmp_path: Path) -> None:
    practice = _forfeit_with_fee(tmp_path, SAM, payment_link="https://pay.example/dana")
    text = _body(practice)
    assert "£60.00" not in text
    assert "https://pay.example/dana" not in text
    assert ledger.current(practice.db, SAM) == 4


def test_an_empty_package_states_the_fee(tmp_path: Path) -> None:
    practice = Practice(
        tmp_path, policy={"steps": ["forfeit"], "fee": {"amount": "60.00", "currency": "GBP"}}
    )
    practice.book("s1", SAM, 5 * HOUR)
    practice.baseline()
    packages.adjust(
        practice.db,
        load_directory(practice.config),
        SAM,
        -5,
        note="used up",
        now=practice.clock.now,
    )
    practice.calendar.decline("s1", SAM)
    practice.cycle()
    practice.clock.advance(HOUR)
    practice.cycle()
    text = " ".join(_body(practice).split())
    assert "no prepaid sessions left" in text
    assert "The fee for a forfeited session is £60.00; I'll send you the details" in text
    assert _reasons(practice)[-1] == ("forfeit", 0, 0)


def test_top_ups_and_adjustments_refuse_bad_input_and_write_nothing(tmp_path: Path) -> None:
    practice = Practice(tmp_path)
    practice.baseline()
    directory = load_directory(practice.config)
    now = practice.clock.now
    before = _reasons(practice)
    with pytest.raises(FairWarningError, match="not one of your clients"):
        packages.top_up(practice.db, directory, "nobody@example.org", 3, note="", now=now)
    with pytest.raises(FairWarningError, match="at least 1"):
        packages.top_up(practice.db, directory, SAM, 0, note="", now=now)
    with pytest.raises(FairWarningError, match="--note"):
        packages.adjust(practice.db, directory, SAM, -1, note=" ", now=now)
    with pytest.raises(FairWarningError, match="fewer than none"):
        packages.adjust(practice.db, directory, SAM, -6, note="typo", now=now)
    assert _reasons(practice) == before
