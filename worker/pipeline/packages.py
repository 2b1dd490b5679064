"""Prepaid packages: what spends a session, what adds one, and the balance a notice states.

A session that took place (it ended, was not cancelled, and the client did not decline it)
spends one, once, at the first poll that sees it ended, however long the worker was away.
A forfeit spends one (none in a dry run); waiving it gives it back. Purchases and corrections
come from `fairwarning clients topup` and `adjust`. The config's `prepaid_balance` is only
the opening balance, entered the first time the client's package is looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from worker.clients import ClientDirectory
from worker.errors import FairWarningError
from worker.model import Client, Decision, Money, Response, Session
from worker.pipeline.facts import has_marker
from worker.store import packages
from worker.store.connection import Connection
from worker.store.db import utc_text
from worker.store.packages import Entry, Link

# A purchase or correction, as the CLI (and the console) asks for it.
LedgerChange = Callable[[Connection, ClientDirectory], Entry]


def open_package(db: Connection, client: Client, now: datetime) -> None:
    """Enter the configured `prepaid_balance` as the opening balance, the first time only."""
    if client.prepaid_balance is None or packages.current(db, client.email) is not None:
        return
    packages.record(
        db,
        client.email,
        client.prepaid_balance,
        reason="opening",
        at=now,
        note=f"opening balance from your configuration: prepaid_balance = {client.prepaid_balance}",
        entry_key=f"opening:{client.email}",
    )


def balance(db: Connection, client: Client, now: datetime) -> int | None:
    """The prepaid sessions the ledger holds for a client; None when they have no package."""
    open_package(db, client, now)
    return packages.current(db, client.email)


def open_packages(db: Connection, directory: ClientDirectory, now: datetime) -> None:
    """Open the package of every client whose configuration gives one (at each poll)."""
    for client in directory.all():
        open_package(db, client, now)


def spend_on_forfeit(
    db: Connection, decision_id: int, decision: Decision, now: datetime
) -> int | None:
    """A forfeit spends one prepaid session when there is one left. Returns the balance after
    (None: no package). With none left nothing is spent, and a fee applies instead."""
    client = decision.client
    assert client is not None
    left = balance(db, client, now)
    if left is None:
        return None
    session = decision.fact.session
    spend = -1 if left > 0 else 0
    why = f"forfeit of {session.title!r} on {_when(session.start)} (case {decision_id})"
    packages.record(
        db,
        client.email,
        spend,
        reason="forfeit",
        at=now,
        note=why if spend else f"{why}: no prepaid session left to spend",
        link=Link(None, session.key, session.start, decision_id),
        entry_key=f"forfeit:{decision_id}",
    )
    return left + spend


def give_back_forfeit(
    db: Connection, client_email: str, decision_id: int, reason: str, now: datetime
) -> None:
    """A waived or withdrawn forfeit gives back the session it spent, once."""
    if not packages.forfeit_spent(db, decision_id):
        return
    packages.record(
        db,
        client_email,
        +1,
        reason="forfeit_undone",
        at=now,
        note=f"case {decision_id} no longer counts: {reason}",
        link=Link(decision_id=decision_id),
        entry_key=f"undo:{decision_id}",
    )


def spend_sessions_held(
    db: Connection,
    account: str,
    directory: ClientDirectory,
    *,
    practitioner: str,
    markers: tuple[str, ...],
    now: datetime,
    since: datetime | None = None,
    first_seen: tuple[str, ...] = (),
) -> list[Entry]:
    """Spend one prepaid session for each client of each session that ended by `now` and took
    place; each (session, occurrence, client) once. Only sessions that ended after `since`
    (the last good poll) or were `first_seen` now are looked at: earlier ones were settled
    then. Sessions that ended before a client's package was opened were counted in its
    opening balance."""
    spent = []
    ended = packages.ended_sessions(db, account, now, since=since, also=first_seen)
    for session in ended:
        if session.cancelled or has_marker(session, markers):
            continue
        for client in _attending(session, directory, practitioner):
            opened = packages.opened_at(db, client.email)
            if opened is None or session.end <= opened:
                continue
            entry = _spend_session(db, account, session, client, now)
            if entry is not None:
                spent.append(entry)
    return spent


def _spend_session(
    db: Connection, account: str, session: Session, client: Client, now: datetime
) -> Entry | None:
    key = f"session:{account}:{session.key}:{utc_text(session.start)}:{client.email}"
    if packages.has_entry(db, key):
        return None
    left = packages.current(db, client.email) or 0
    why = f"session {session.title!r} on {_when(session.start)} took place"
    return packages.record(
        db,
        client.email,
        -1 if left > 0 else 0,
        reason="session",
        at=now,
        note=why if left > 0 else f"{why}; no prepaid session left to spend",
        link=Link(account, session.key, session.start),
        entry_key=key,
    )


def _attending(session: Session, directory: ClientDirectory, practitioner: str) -> list[Client]:
    """The clients in the directory who were invited and did not decline (or, with nobody
    invited, the clients the title names)."""
    me = practitioner.strip().lower()
    invited = [a for a in session.attendees if a.address != me and not a.is_resource]
    if not invited:
        return directory.named_in(session.title)
    found = []
    for attendee in invited:
        client = directory.by_email(attendee.address)
        if client is not None and attendee.response is not Response.DECLINED:
            found.append(client)
    return found


def top_up(
    db: Connection,
    directory: ClientDirectory,
    email: str,
    count: int,
    *,
    note: str,
    now: datetime,
) -> Entry:
    """Record a purchase of `count` sessions (at least 1)."""
    if count < 1:
        raise FairWarningError(
            f"a top-up adds at least 1 session, not {count}; to take sessions off, use "
            "`fairwarning clients adjust EMAIL -N --note WHY`"
        )
    client = _known(db, directory, email, now)
    entry = packages.record(
        db, client, count, reason="topup", at=now, note=note or f"{count} sessions bought"
    )
    assert entry is not None
    return entry


def adjust(
    db: Connection,
    directory: ClientDirectory,
    email: str,
    count: int,
    *,
    note: str,
    now: datetime,
) -> Entry:
    """Correct a balance by `count` (negative takes sessions off), saying why."""
    if not note.strip():
        raise FairWarningError("say why with --note: an adjustment is kept in the client's ledger")
    if count == 0:
        raise FairWarningError("an adjustment of 0 changes nothing; give a count such as 1 or -1")
    client = _known(db, directory, email, now)
    left = packages.current(db, client) or 0
    if left + count < 0:
        raise FairWarningError(
            f"{email} has {left} prepaid session(s); taking off {-count} would leave fewer "
            "than none"
        )
    entry = packages.record(db, client, count, reason="adjust", at=now, note=note.strip())
    assert entry is not None
    return entry


def _known(db: Connection, directory: ClientDirectory, email: str, now: datetime) -> str:
    """The address of a client in the directory or with a package; else a clear error."""
    address = email.strip().lower()
    client = directory.by_email(address)
    if client is not None:
        open_package(db, client, now)
        return client.email
    if packages.current(db, address) is None:
        raise FairWarningError(
            f"{email} is not one of your clients: add them under [[clients]] in your config "
            "(or to your clients CSV) first; `fairwarning clients` lists the packages"
        )
    return address


def forfeit_paid(db: Connection, decision_id: int, client: Client, *, simulated: bool) -> bool:
    """Whether a forfeit is paid from the package (a dry run only pretends to spend)."""
    if simulated:
        return bool(packages.current(db, client.email))
    return packages.forfeit_spent(db, decision_id)


def fee_for(client: Client, policy_fee: Money | None) -> Money | None:
    """What a forfeited session costs this client: their own fee, else the policy's."""
    return client.fee if client.fee is not None else policy_fee


def _when(moment: datetime) -> str:
    return utc_text(moment)[:16].replace("T", " ") + " UTC"
