"""One contract every state database keeps, SQLite and PostgreSQL alike: the store's own
functions, with the SQL each dialect needs, give the same answers on both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from worker.model import (
    Attendee,
    CancelTime,
    CancelTimeSource,
    Client,
    Decision,
    Fact,
    FactKind,
    Response,
    Session,
    Verdict,
)
from worker.store import (
    casefile,
    cases,
    clients_seen,
    courtesy,
    outbox,
    packages,
    report,
    sync_state,
    views,
)
from worker.store.audit import audit
from worker.store.connection import Connection
from worker.store.db import transaction, undone

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SAM = "sam@example.org"


def _session(key: str = "s1", starts_in: timedelta = timedelta(hours=5)) -> Session:
    start = NOW + starts_in
    return Session(
        key=key,
        title=f"Coaching {key}",
        start=start,
        end=start + timedelta(minutes=50),
        attendees=(
            Attendee("dana@riveracoaching.example", "Dana", Response.ACCEPTED),
            Attendee("Sam@Example.org", "Sam", Response.DECLINED, responded_at=NOW),
        ),
    )


def _late_decline(db: Connection, key: str = "s1") -> tuple[int, Decision]:
    """A recorded fact and a reminder decision for Sam, as casework files them."""
    session = _session(key)
    fact = Fact(
        FactKind.DECLINED,
        session,
        CancelTime(NOW, CancelTimeSource.RESPONSE_TIME),
        attendee=session.attendees[1],
    )
    decision = Decision(
        Verdict.REMINDER,
        fact,
        Client(SAM, "Sam Taylor"),
        ("you cancelled 5 h before the session",),
        offence=1,
    )
    fact_id = sync_state.record_fact(db, "main", fact, NOW)
    decision_id = cases.record_decision(db, "main", fact_id, decision, status="final", at=NOW)
    return decision_id, decision


def _queue_reminder(db: Connection, decision_id: int, key: str = "s1") -> str:
    return outbox.enqueue(
        db,
        account="main",
        session_key=key,
        occurrence=NOW + timedelta(hours=5),
        client=SAM,
        kind="reminder",
        decision_id=decision_id,
        state="queued",
        not_before=NOW,
        facts={"prepaid_balance": 4, "title": "Coaching"},
        simulated=False,
        now=NOW,
    )


def test_a_late_decline_is_filed_counted_and_its_notice_claimed_once(store: Connection) -> None:
    with transaction(store):
        decision_id, decision = _late_decline(store)
        cases.add_to_ledger(store, decision_id, decision, simulated=False)
        ref = _queue_reminder(store, decision_id)
    assert ref.startswith("FW-")
    [due] = outbox.due(store, "main", NOW)
    assert (due.ref, due.decision_id, due.facts["prepaid_balance"]) == (ref, decision_id, 4)
    assert outbox.claim(store, due.id, NOW) is True
    assert outbox.claim(store, due.id, NOW) is False  # someone (this worker) already took it
    assert outbox.recover_interrupted(store, "main", NOW) == [ref]
    with transaction(store):
        assert outbox.confirm_sent(store, due.id, "found in Sent") is True
    [counted] = cases.counted_cases(store, SAM, simulated=False)
    assert (counted.decision_id, counted.notice_ref, counted.sent_at) == (decision_id, ref, NOW)


def test_the_same_notice_key_never_makes_a_second_notice(store: Connection) -> None:
    with transaction(store):
        decision_id, _ = _late_decline(store)
        first = _queue_reminder(store, decision_id)
        again = _queue_reminder(store, decision_id)
    assert first == again
    assert views.notice_counts(store, "main") == {"queued": 1}
    assert views.notice_counts(store, None) == {"queued": 1}
    assert outbox.live_notice(store, "main", "s1", SAM) == (first, "reminder")


def test_a_waived_case_stops_counting_and_shows_in_history(store: Connection) -> None:
    with transaction(store):
        decision_id, decision = _late_decline(store)
        cases.add_to_ledger(store, decision_id, decision, simulated=False)
        _queue_reminder(store, decision_id)
        cases.set_decision_status(store, decision_id, "waived", "she called me")
        assert cases.waive_in_ledger(store, decision_id, NOW, "she called me") is True
        assert cases.waive_in_ledger(store, decision_id, NOW, "again") is False
    assert cases.counted_cases(store, SAM, simulated=False) == []
    [case] = views.cases(store, client=SAM)
    assert (case["status"], case["title"], case["reasons"]) == (
        "waived",
        "Coaching s1",
        ["you cancelled 5 h before the session"],
    )
    assert case["start"] == (NOW + timedelta(hours=5)).isoformat()
    found, total = views.search_cases(store, client_text="TAYLOR", since=NOW - timedelta(days=1))
    assert total == 1
    assert found[0]["id"] == decision_id
    assert views.search_cases(store, client_text="nobody") == ([], 0)
    [entry] = casefile.ledger_of(store, SAM)
    assert (entry["waive_reason"], entry["prepaid_balance"], entry["simulated"]) == (
        "she called me",
        4,
        False,
    )


def test_open_cases_wait_for_the_practitioner(store: Connection) -> None:
    with transaction(store):
        decision_id, _ = _late_decline(store)
        cases.set_decision_status(store, decision_id, "open", "")
    [case] = views.needing_practitioner(store)
    assert case["id"] == decision_id
    assert views.needs_practitioner(case)


def test_sync_state_snapshot_and_problems_are_kept_per_account(store: Connection) -> None:
    with transaction(store):
        first = sync_state.account_state(store, "main")
        sync_state.save_sessions(store, "main", (_session("s1"), _session("s2", timedelta(days=2))))
        sync_state.record_poll(store, "main", cursor="token-1", at=NOW)
        fresh = sync_state.new_problems(store, "main", ("no end time", "no title"), NOW)
        again = sync_state.new_problems(store, "main", ("no end time",), NOW)
        sync_state.retain_problems(store, "main", ("no title",))
        sync_state.pause_sending(store, "main", NOW + timedelta(hours=1), "daily limit")
    assert first.baselined is False
    state = sync_state.account_state(store, "main")
    assert (state.cursor, state.baselined, state.last_success_at) == ("token-1", True, NOW)
    assert state.sending_paused(NOW)
    assert not state.sync_paused(NOW)
    assert (fresh, again) == (["no end time", "no title"], [])
    assert [p["text"] for p in views.problems(store)] == ["no title"]
    assert set(sync_state.snapshot(store, "main")) == {"s1", "s2"}
    assert set(sync_state.snapshot(store, "main", keys=["s2", "gone"])) == {"s2"}
    assert sync_state.snapshot(store, "main")["s1"] == _session("s1")
    between = sync_state.sessions_between(store, NOW, NOW + timedelta(days=1))
    assert [s.key for s in between] == ["s1"]
    assert [row["name"] for row in views.accounts(store)] == ["main"]


def test_a_welcome_goes_to_a_client_once_whichever_account(store: Connection) -> None:
    def welcome(account: str) -> bool:
        return courtesy.enqueue(
            store,
            account=account,
            ref=f"FW-WELCOME-{account}",
            kind="welcome",
            client=SAM,
            session_key="s1",
            occurrence=NOW,
            state="review",
            not_before=NOW,
            facts={},
            simulated=False,
            now=NOW,
        )

    with transaction(store):
        assert clients_seen.record_seen(store, SAM, "main", NOW, clients_seen.NEW) is True
        assert clients_seen.record_seen(store, SAM, "other", NOW, clients_seen.NEW) is False
        assert welcome("main") is True
        assert welcome("other") is False
    row = courtesy.once_per_client(store, SAM, "welcome", simulated=False)
    assert row is not None
    assert row["account"] == "main"
    assert [n["kind"] for n in courtesy.waiting(store)] == ["welcome"]
    assert [n["ref"] for n in courtesy.of_client(store, SAM)] == ["FW-WELCOME-main"]
    note = clients_seen.note(store, SAM)
    assert note is not None
    assert (note.account, note.seen_as, note.closed_at) == ("main", "new", None)
    with transaction(store):
        clients_seen.record_closure(
            store,
            SAM,
            ref="FW-C",
            effective=date(2026, 12, 1),
            reason="moved",
            at=NOW,
            simulated=False,
        )
    assert [c.email for c in clients_seen.closed_clients(store)] == [SAM]


def test_session_notes_are_dropped_by_every_filter_given(store: Connection) -> None:
    with transaction(store):
        sync_state.save_sessions(store, "main", (_session("s1"),))
        for key in ("s1", "s2"):
            courtesy.enqueue(
                store,
                account="main",
                ref=f"FW-NOTE-{key}",
                kind=courtesy.SESSION_NOTE,
                client=SAM,
                session_key=key,
                occurrence=NOW + timedelta(hours=5),
                state="queued",
                not_before=NOW,
                facts={},
                simulated=False,
                now=NOW,
            )
        dropped = courtesy.drop_session_notes(
            store, "main", reason="restored", now=NOW, session_key="s1"
        )
    assert dropped == ["FW-NOTE-s1"]
    upcoming = courtesy.sessions_starting_between(store, "main", NOW, NOW + timedelta(days=1))
    assert [s.key for s in upcoming] == ["s1"]
    found = courtesy.next_session_of(store, "sam@example.org", NOW)
    assert found is not None


def test_the_package_ledger_spends_and_credits_once_per_key(store: Connection) -> None:
    with transaction(store):
        packages.record(store, SAM, 5, reason="opening", at=NOW, entry_key=f"opening:{SAM}")
        again = packages.record(store, SAM, 5, reason="opening", at=NOW, entry_key=f"opening:{SAM}")
        spent = packages.record(
            store,
            SAM,
            -1,
            reason="session",
            at=NOW + timedelta(hours=1),
            link=packages.Link("main", "s1", NOW),
            entry_key="session:main:s1",
        )
    assert again is None
    assert spent is not None
    assert spent.balance_after == 4
    assert packages.current(store, SAM) == 4
    assert packages.balances(store) == {SAM: 4}
    assert [e.reason for e in packages.entries(store, SAM)] == ["opening", "session"]
    assert [e.reason for e in packages.entries(store, SAM, last=1)] == ["session"]
    assert packages.clients(store) == [SAM]
    assert packages.opened_at(store, SAM) == NOW
    assert [e["reason"] for e in casefile.package_entries_of(store, SAM)] == ["opening", "session"]
    changes = report.package_changes(store, NOW)
    assert changes is not None
    assert [c.change for c in changes] == [5, -1]


def test_ended_sessions_are_found_by_time_or_by_key(store: Connection) -> None:
    with transaction(store):
        sync_state.save_sessions(
            store,
            "main",
            (_session("past", -timedelta(days=2)), _session("older", -timedelta(days=9))),
        )
    later = packages.ended_sessions(store, "main", NOW, since=NOW - timedelta(days=3))
    named = packages.ended_sessions(store, "main", NOW, since=NOW, also=("older",))
    assert [s.key for s in later] == ["past"]
    assert [s.key for s in named] == ["older"]
    assert [s.key for s in packages.ended_sessions(store, "main", NOW)] == ["older", "past"]


def test_a_clients_case_file_holds_their_sessions_notices_and_cancellations(
    store: Connection,
) -> None:
    with transaction(store):
        sync_state.save_sessions(store, "main", (_session("s2", timedelta(days=3)),))
        decision_id, _ = _late_decline(store)
        _queue_reminder(store, decision_id)
        audit(store, NOW, "main", "queued", "a reminder")
    assert casefile.client_known(store, SAM)
    assert not casefile.client_known(store, "nobody@example.org")
    sessions = casefile.sessions_of(store, SAM)
    assert [(s["session_key"], s["source"]) for s in sessions] == [
        ("s1", "cancellation record"),
        ("s2", "snapshot"),
    ]
    [notice] = casefile.notices_of(store, SAM)
    assert notice["facts"]["prepaid_balance"] == 4
    assert casefile.clients_in_records(store) == {SAM: "Sam Taylor"}


def test_the_report_reads_judged_cancellations(store: Connection) -> None:
    with transaction(store):
        decision_id, decision = _late_decline(store)
        cases.add_to_ledger(store, decision_id, decision, simulated=False)
        _queue_reminder(store, decision_id)
    [found] = report.cancellations(store, NOW - timedelta(days=1))
    assert (found.client, found.ledger_kind, found.prepaid) == (SAM, "warning", True)
    assert found.start == NOW + timedelta(hours=5)


def test_a_look_through_undone_leaves_nothing_behind(store: Connection) -> None:
    with undone(store):
        audit(store, NOW, "main", "looked", "a preview")
    assert store.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 0
    with transaction(store):
        audit(store, NOW, "main", "kept", "")
        with undone(store):
            audit(store, NOW, "main", "looked", "inside")
    assert [r["event"] for r in store.execute("SELECT event FROM audit")] == ["kept"]
    assert not store.in_transaction


def test_a_failed_transaction_is_rolled_back_and_the_connection_still_works(
    store: Connection,
) -> None:
    def twice() -> None:
        with transaction(store):
            sync_state.account_state(store, "main")
            store.execute("INSERT INTO accounts (name) VALUES (?)", ("main",))

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        twice()
    assert not store.in_transaction
    assert views.accounts(store) == []
    assert views.stuck_notices(store) == []
    assert views.notice_warnings(store) == []
    assert views.undelivered_alerts(store) == []
