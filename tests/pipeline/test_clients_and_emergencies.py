"""Who is a client and what is an emergency, whole cycles on a memory calendar and mailbox.

Dana's client list has Sam and Lucía (Spanish-speaking). Noor is a colleague at the clinic who
sometimes organises joint sessions; Tom is a prospect booked for a free intro call.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.practice import SAM, Practice

HOUR = timedelta(hours=1)
HOLD = timedelta(minutes=11)
LUCIA = "lucia@example.org"
NOOR = "noor@clinic.example"
TOM = "tom@prospect.example"


def history(practice: Practice) -> list[tuple[str, str, list[str]]]:
    """What `fairwarning history` lists: each case's client, verdict and reasons."""
    rows = practice.query("SELECT client_email, verdict, reasons FROM decisions ORDER BY id")
    return [(r["client_email"], r["verdict"], json.loads(r["reasons"])) for r in rows]


def open_cases(practice: Practice) -> list[object]:
    return practice.query("SELECT id FROM decisions WHERE status = 'open'")


def test_a_joint_session_the_colleague_cancels_is_nobodys_late_cancellation(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"colleagues": [NOOR]})
    practice.book("joint", SAM, 5 * HOUR, title="Joint session with Noor", organiser=NOOR)
    practice.baseline()
    practice.calendar.cancel("joint")

    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert history(practice) == [
        (
            SAM,
            "ignore",
            [
                f"organised and cancelled by your colleague {NOOR}, not by a client: "
                "nobody's late cancellation"
            ],
        )
    ]
    assert open_cases(practice) == []
    assert practice.notices() == []


def test_a_session_from_dana_s_other_mailbox_cancelled_there_is_nobodys_late_cancellation(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path)
    practice.config = practice.config.model_copy(
        update={
            "practitioner": practice.config.practitioner.model_copy(
                update={"other_addresses": ("dana.rivera@personal.example",)}
            )
        }
    )
    practice.worker = practice.build_worker()
    practice.book("s1", SAM, 5 * HOUR, organiser="dana.rivera@personal.example")
    practice.baseline()
    practice.calendar.cancel("s1")

    practice.cycle()

    [(_, verdict, reasons)] = history(practice)
    assert verdict == "ignore"
    assert reasons[0].startswith("organised and cancelled by your other address")
    assert open_cases(practice) == []


def test_without_colleagues_listed_the_organiser_is_taken_for_a_client_who_cancelled(
    practice: Practice,
) -> None:
    practice.book("joint", SAM, 5 * HOUR, title="Joint session with Noor", organiser=NOOR)
    practice.baseline()
    practice.calendar.cancel("joint")

    practice.cycle()

    # Anyone but Dana who organises a session is taken for a client who organised it, so
    # Noor must be listed in policy.colleagues for her cancellations to be nobody's.
    [(who, verdict, _)] = history(practice)
    assert (who, verdict) == (NOOR, "reminder")


def test_with_judge_directory_a_prospect_declining_the_intro_call_is_only_recorded(
    tmp_path: Path,
) -> None:
    practice = Practice(tmp_path, policy={"judge": "directory"})
    practice.book("intro", TOM, 5 * HOUR, title="Free intro call")
    practice.book("s1", SAM, 6 * HOUR)
    practice.baseline()
    practice.calendar.decline("intro", TOM)
    practice.calendar.decline("s1", SAM)

    practice.cycle()
    practice.clock.advance(HOLD)
    practice.cycle()

    assert [(who, verdict) for who, verdict, _ in history(practice)] == [
        (TOM, "ignore"),
        (SAM, "reminder"),
    ]
    assert history(practice)[0][2] == ["not in your client list (policy.judge = directory)"]
    assert [m["To"].addresses[0].addr_spec for m in practice.notices()] == [SAM]
    assert open_cases(practice) == []


@pytest.mark.parametrize(
    ("client", "comment", "verdict"),
    [
        (SAM, "Stuck in Illinois, my flight was cancelled", "reminder"),
        (SAM, "I'm ill, so sorry", "review"),
        (SAM, "Dad was hospitalised last night", "review"),
        (LUCIA, "Perdona, estoy enferma desde ayer", "review"),
        (LUCIA, "Los niños están enfermos", "review"),
        (LUCIA, "Soy enfermera y me cambiaron el turno", "reminder"),
    ],
)
def test_an_emergency_word_is_a_whole_word_in_the_clients_note(
    practice: Practice, client: str, comment: str, verdict: str
) -> None:
    practice.book("s1", client, 5 * HOUR)
    practice.baseline()
    practice.calendar.decline("s1", client, comment)

    report = practice.cycle()

    assert report.sync is not None
    [decision] = report.sync.decisions
    assert decision.verdict == verdict
