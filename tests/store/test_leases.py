"""Account leases on a real PostgreSQL: how several workers share the accounts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from worker.config.state import StateSettings
from worker.store import leases, outbox
from worker.store.connection import Connection
from worker.store.db import open_database, transaction, utc_text
from worker.store.postgres import connect

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
ACCOUNTS = ["anna", "ben", "cleo"]
ANNA_WORKER = "host-a:101:aaaa"
BEN_WORKER = "host-b:202:bbbb"


@pytest.fixture
def db(tmp_path: Path, postgres_url: str) -> Iterator[Connection]:
    """The migrated state database, every account enrolled and due at NOW."""
    connection = open_database(tmp_path / "state", StateSettings(database=postgres_url))
    leases.enrol(connection, ACCOUNTS, NOW)
    try:
        yield connection
    finally:
        connection.close()


def _claim(db: Connection, holder: str, most: int = 10, at: datetime = NOW) -> list[str]:
    claimed = leases.claim(db, holder, ACCOUNTS, at, length=LEASE, most=most)
    return [lease.account for lease in claimed]


def test_two_workers_never_claim_the_same_account(db: Connection) -> None:
    assert _claim(db, ANNA_WORKER, most=2) == ["anna", "ben"]
    assert _claim(db, BEN_WORKER) == ["cleo"]
    assert _claim(db, BEN_WORKER) == []


def test_a_claim_skips_an_account_another_worker_is_claiming_at_that_moment(
    db: Connection, postgres_url: str
) -> None:
    other = connect(postgres_url)
    try:
        other.execute("BEGIN")
        other.execute("SELECT * FROM account_leases WHERE account = 'anna' FOR UPDATE")
        began = time.monotonic()
        assert _claim(db, BEN_WORKER) == ["ben", "cleo"]
        assert time.monotonic() - began < 1, "a locked row is skipped, not waited for"
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert _claim(db, BEN_WORKER) == ["anna"]


def test_claims_racing_from_many_connections_share_out_every_account_once(
    tmp_path: Path, postgres_url: str
) -> None:
    names = [f"account-{n:03d}" for n in range(200)]
    setup = connect(postgres_url)
    open_database(tmp_path / "state", StateSettings(database=postgres_url)).close()
    leases.enrol(setup, names, NOW)
    setup.close()
    taken: dict[str, list[str]] = {}

    def worker(number: int, connection: Connection) -> None:
        mine = taken.setdefault(f"w{number}", [])
        while claimed := leases.claim(connection, f"w{number}", names, NOW, length=LEASE, most=3):
            mine += [lease.account for lease in claimed]

    _at_once(worker, postgres_url)
    everything = [name for mine in taken.values() for name in mine]
    assert sorted(everything) == names


def test_an_expired_lease_is_taken_over_and_a_current_one_is_not(db: Connection) -> None:
    assert _claim(db, ANNA_WORKER) == ACCOUNTS
    assert _claim(db, BEN_WORKER, at=NOW + LEASE) == [], "still Anna's at its last moment"
    later = NOW + LEASE + timedelta(milliseconds=1)
    assert _claim(db, BEN_WORKER, at=later) == ACCOUNTS
    assert not leases.holds(db, ANNA_WORKER, "anna", later)
    assert leases.holds(db, BEN_WORKER, "anna", later)


def test_the_heartbeat_keeps_a_lease_and_never_renews_one_taken_over(db: Connection) -> None:
    _claim(db, ANNA_WORKER, most=2)
    kept = leases.renew(db, ANNA_WORKER, ACCOUNTS, NOW + LEASE / 2, length=LEASE)
    assert kept == ["anna", "ben"]
    assert _claim(db, BEN_WORKER, at=NOW + LEASE + LEASE / 4) == ["cleo"], "renewed: still held"
    gone = NOW + 2 * LEASE
    assert _claim(db, BEN_WORKER, most=1, at=gone) == ["anna"]
    assert leases.renew(db, ANNA_WORKER, ACCOUNTS, gone, length=LEASE) == ["ben"]
    assert leases.holds(db, BEN_WORKER, "anna", gone)


def test_a_released_account_is_due_again_at_its_next_time_with_its_back_off(
    db: Connection,
) -> None:
    _claim(db, ANNA_WORKER, most=1)
    next_due = NOW + timedelta(minutes=2)
    assert leases.release(db, ANNA_WORKER, "anna", next_due=next_due, failures=2)
    early = leases.claim(
        db, BEN_WORKER, ["anna"], next_due - timedelta(seconds=1), length=LEASE, most=5
    )
    assert early == []
    [lease] = leases.claim(db, BEN_WORKER, ["anna"], next_due, length=LEASE, most=5)
    assert (lease.account, lease.failures) == ("anna", 2)


def test_a_worker_that_lost_the_lease_cannot_release_or_reschedule_it(db: Connection) -> None:
    _claim(db, ANNA_WORKER, most=1)
    later = NOW + 2 * LEASE
    assert _claim(db, BEN_WORKER, most=1, at=later) == ["anna"]
    assert not leases.release(db, ANNA_WORKER, "anna", next_due=later + LEASE, failures=0)
    assert leases.holds(db, BEN_WORKER, "anna", later)


def test_a_clean_stop_frees_every_account_it_held_at_once(db: Connection) -> None:
    _claim(db, ANNA_WORKER)
    assert leases.release_all(db, ANNA_WORKER) == 3
    assert _claim(db, BEN_WORKER, at=NOW + timedelta(seconds=1)) == ACCOUNTS


def test_accounts_no_longer_configured_are_left_alone_and_new_ones_enrolled(
    db: Connection,
) -> None:
    leases.enrol(db, ["anna", "dora"], NOW + timedelta(hours=1))
    claimed = leases.claim(db, ANNA_WORKER, ["anna", "dora"], NOW, length=LEASE, most=10)
    assert [lease.account for lease in claimed] == ["anna"], "dora is due in an hour"
    assert _claim(db, BEN_WORKER) == ["ben", "cleo"]
    assert leases.next_free(db, ["dora"]) == NOW + timedelta(hours=1)


def test_the_next_free_moment_of_a_held_account_is_when_its_lease_runs_out(
    db: Connection,
) -> None:
    _claim(db, ANNA_WORKER)
    assert leases.next_free(db, ACCOUNTS) == NOW + LEASE


def _sending(db: Connection, account: str, key: str) -> str:
    with transaction(db):
        db.execute(
            "INSERT INTO facts (account, session_key, kind, cancelled_at, cancel_source, session,"
            " observed_at) VALUES (?, ?, 'declined', ?, 'response', '{}', ?)",
            (account, key, utc_text(NOW), utc_text(NOW)),
        )
        db.execute(
            "INSERT INTO decisions (fact_id, account, verdict, reasons, status, decided_at)"
            " VALUES ((SELECT MAX(id) FROM facts), ?, 'reminder', '[]', 'final', ?)",
            (account, utc_text(NOW)),
        )
        ref = outbox.enqueue(
            db,
            account=account,
            session_key=key,
            occurrence=NOW,
            client="sam@example.org",
            kind="reminder",
            decision_id=db.execute("SELECT MAX(id) FROM decisions").fetchone()[0],
            state="sending",
            not_before=NOW,
            facts={},
            simulated=False,
            now=NOW,
        )
    return ref


def _state(db: Connection, ref: str) -> str:
    return str(db.execute("SELECT state FROM outbox WHERE ref = ?", (ref,)).fetchone()[0])


def test_a_live_workers_sending_notice_is_never_recovered_by_another(db: Connection) -> None:
    _claim(db, ANNA_WORKER, most=1)  # anna's account is Anna's worker's, mid-send
    ref = _sending(db, "anna", "s1")
    assert outbox.recover_interrupted(db, "anna", NOW, holder=BEN_WORKER) == []
    assert _state(db, ref) == "sending"
    later = NOW + 2 * LEASE  # Anna's worker died; Ben's takes the account over
    assert _claim(db, BEN_WORKER, most=1, at=later) == ["anna"]
    assert outbox.recover_interrupted(db, "anna", later, holder=BEN_WORKER) == [ref]
    assert _state(db, ref) == "unknown"


def test_one_notice_is_claimed_for_sending_by_one_worker_only(
    db: Connection, postgres_url: str
) -> None:
    ref = _sending(db, "anna", "s1")
    with transaction(db):
        db.execute("UPDATE outbox SET state = 'queued' WHERE ref = ?", (ref,))
    notice_id = db.execute("SELECT id FROM outbox WHERE ref = ?", (ref,)).fetchone()[0]
    won: list[bool] = []
    _at_once(
        lambda _, connection: won.append(outbox.claim(connection, notice_id, NOW)), postgres_url
    )
    assert sorted(won) == [False, False, False, True]


def test_a_notice_enqueued_twice_at_once_is_one_row(db: Connection, postgres_url: str) -> None:
    ref = _sending(db, "anna", "s1")
    decision = db.execute("SELECT decision_id FROM outbox WHERE ref = ?", (ref,)).fetchone()[0]

    def enqueue(_: int, connection: Connection) -> None:
        with transaction(connection):
            outbox.enqueue(
                connection,
                account="anna",
                session_key="s2",
                occurrence=NOW,
                client="sam@example.org",
                kind="reminder",
                decision_id=decision,
                state="queued",
                not_before=NOW,
                facts={},
                simulated=False,
                now=NOW,
            )

    _at_once(enqueue, postgres_url)
    count = db.execute("SELECT COUNT(*) FROM outbox WHERE session_key = 's2'").fetchone()[0]
    assert count == 1


def _at_once(work: Callable[[int, Connection], object], url: str, workers: int = 4) -> None:
    """`work` on `workers` connections of their own, in threads started together; a failure
    in any of them fails the test (a thread's exception would otherwise pass unseen)."""
    connections = [connect(url) for _ in range(workers)]
    failures: list[BaseException] = []

    def run(number: int) -> None:
        try:
            work(number, connections[number])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.close()
    if failures:
        raise failures[0]
