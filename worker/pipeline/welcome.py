"""Rules up front: a welcome with the policy in full, once per client, ever (opt-in).

Every client a calendar shows with an upcoming session is recorded the first time, on any
account (`store.clients_seen`). With `policy.welcome = true`, a client first seen after the
calendar's baseline gets one `welcome` notice: the policy in full, and the practitioner's
policy document attached if one is configured. Clients on the calendar at its first look are
recorded as known without one, so day one greets nobody; exempt clients get none.
`fairwarning welcome EMAIL --send` sends one by hand (still once per client).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from worker.addresses import client_address
from worker.config import Config
from worker.errors import FairWarningError
from worker.model import Client, Session
from worker.notices.courtesy import CourtesyFacts
from worker.notices.templates import TemplateLibrary
from worker.pipeline import courtesy as notes
from worker.pipeline.casework import Desk
from worker.pipeline.ladder import describe_span
from worker.store import clients_seen, courtesy
from worker.store.audit import audit
from worker.store.db import from_utc_text


def greet_new_clients(desk: Desk, sessions: Iterable[Session], *, baseline: bool) -> list[str]:
    """Record the clients of these sessions; welcome those never seen before (if enabled).

    Returns the references of the welcomes queued.
    """
    queued = []
    for session in sessions:
        if session.cancelled or session.start <= desk.now:
            continue
        for client in notes.clients_in(session, desk.practice):
            seen_as = clients_seen.BASELINE if baseline else clients_seen.NEW
            first = clients_seen.record_seen(desk.db, client.email, desk.account, desk.now, seen_as)
            if first and not baseline and desk.practice.policy.welcome and not client.exempt:
                ref = _queue(desk, client, session, by_hand=False)
                queued += [ref] if ref else []
    return queued


def _queue(desk: Desk, client: Client, session: Session | None, *, by_hand: bool) -> str:
    facts = notes.facts_for(desk, client, "welcome", session)
    ref = notes.once_ref(client.email, "welcome", simulated=desk.simulated)
    state = notes.state_for(desk, by_hand=by_hand)
    not_before = desk.now + desk.practice.policy.hold
    if notes.queue(desk, facts, ref=ref, state=state, not_before=not_before):
        return ref
    if by_hand and courtesy.requeue(
        desk.db,
        ref,
        account=desk.account,
        state=state,
        not_before=not_before,
        facts=facts.to_json(),
        now=desk.now,
    ):
        audit(desk.db, desk.now, desk.account, "queued welcome", f"{ref} to {client.email}, again")
        return ref
    return ""


@dataclass(frozen=True)
class WelcomePlan:
    """A welcome the practitioner asked for: to whom, about which session, its reference."""

    client: Client
    facts: CourtesyFacts
    ref: str
    session: Session | None


def plan_welcome(desk: Desk, email: str) -> WelcomePlan:
    """The welcome `fairwarning welcome EMAIL` would send, or FairWarningError saying why not."""
    address = client_address(email)
    note = clients_seen.note(desk.db, address)
    if note is not None and note.closed_for(simulated=desk.simulated):
        raise FairWarningError(
            f"you ended the working relationship with {address} on {note.closed_effective} "
            f"({note.closure_ref}); `fairwarning reopen-client {address}` first if you work "
            "with them again"
        )
    client = desk.practice.directory.by_email(address) or Client(email=address)
    session = courtesy.next_session_of(desk.db, address, desk.now)
    facts = notes.facts_for(desk, client, "welcome", session)
    return WelcomePlan(
        client, facts, notes.once_ref(address, "welcome", simulated=desk.simulated), session
    )


def preview_welcome(
    desk: Desk, config: Config, templates: TemplateLibrary, email: str
) -> tuple[WelcomePlan, EmailMessage]:
    """The welcome as the client would get it, attachment and all; nothing is queued."""
    plan = plan_welcome(desk, email)
    message = notes.render(
        templates, config.practitioner, config.policy, plan.facts, ref=plan.ref, now=desk.now
    )
    return plan, message


def send_welcome(desk: Desk, email: str) -> str:
    """Queue the welcome by hand (approved by asking); refuses a second one. Says what next."""
    plan = plan_welcome(desk, email)
    address = plan.client.email
    existing = courtesy.once_per_client(desk.db, address, "welcome", simulated=desk.simulated)
    if existing is not None:
        _refuse_second(existing["state"], existing["ref"], address, existing["updated_at"])
    clients_seen.record_seen(desk.db, address, desk.account, desk.now, clients_seen.BY_HAND)
    ref = _queue(desk, plan.client, plan.session, by_hand=True)
    hold = desk.practice.policy.hold
    after = f"after the {describe_span(hold)} hold, " if hold else ""
    return (
        f"the welcome to {address} ({ref}) will be sent {after}on the worker's next cycle; "
        f"`fairwarning waive {ref}` stops it"
    )


def _refuse_second(state: str, ref: str, address: str, updated_at: str) -> None:
    if state == "sent":
        day = from_utc_text(updated_at).date()
        why = f"the welcome was already sent to {address} on {day} ({ref}): a client gets it once"
    elif state == "review":
        why = f"a welcome to {address} already waits for you ({ref}): `fairwarning approve {ref}`"
    elif state in ("queued", "sending"):
        why = f"a welcome to {address} is already on its way ({ref})"
    elif state == "unknown":
        why = (
            f"the welcome to {address} ({ref}) may have been sent (its send ended unknown): "
            f"look in your Sent folder; if it is not there, `fairwarning approve {ref}`"
        )
    else:
        return  # dropped, waived or rejected: it may be queued again
    raise FairWarningError(why)
