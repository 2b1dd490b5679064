"""The judgement: was this a late cancellation by a client, and which notice does it earn?

`judge` is pure. It is given the fact, the policy, the client directory and each client's
earlier counted late cancellations (with the warnings they earned), and returns one decision
per client concerned, each with its reasons in words the practitioner (and the client) would
use. Which notice a late cancellation earns is the ladder's answer (pipeline/ladder.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from worker.clients import ClientDirectory
from worker.config import Policy
from worker.model import Attendee, Client, Decision, Fact, FactKind, Session, Verdict
from worker.pipeline.facts import has_marker
from worker.pipeline.ladder import Offence, climb_ladder, describe_notice, describe_span

_CLIENT_ACTS = {FactKind.DECLINED, FactKind.CANCELLED_BY_CLIENT_ORGANIZER, FactKind.MARKED}
_OWN_ACTS = {FactKind.DELETED, FactKind.INSTANCE_CANCELLED}
_MARKED_WORDS = "your calendar entry marks it as cancelled by the client"


@dataclass(frozen=True, slots=True)
class Practice:
    """What the rules need to know besides the fact: who the practitioner is, and the policy.

    `other_addresses` are the practitioner's other mailboxes: never clients.
    """

    practitioner_email: str
    policy: Policy
    directory: ClientDirectory
    other_addresses: tuple[str, ...] = ()


def judge(
    fact: Fact,
    practice: Practice,
    history: Mapping[str, Sequence[Offence]],
) -> list[Decision]:
    """Decide for every client concerned by `fact`.

    `history` maps a client's address to their earlier counted late cancellations (waived
    and exempt ones left out), each with when its notice reached them; only those inside the
    lookback count, and only those warned before this cancellation raise the step.
    """
    if fact.kind is FactKind.RESTORED:
        return []
    clients = clients_of(fact, practice)
    if not clients:
        return [_decide(Verdict.IGNORE, fact, None, "no client is invited to this session")]
    return [
        _judge_client(fact, client, practice, history.get(client.email, ())) for client in clients
    ]


def clients_of(fact: Fact, practice: Practice) -> list[Client]:
    """The clients a fact concerns: the one who declined, or everyone invited."""
    session = fact.session
    if fact.kind is FactKind.DECLINED:
        attendee = fact.attendee
        if attendee is None or not _is_client(attendee, practice):
            return []
        return [practice.directory.for_attendee(attendee)]
    if fact.kind is FactKind.CANCELLED_BY_CLIENT_ORGANIZER:
        organizer = Attendee(email=session.organizer_email)
        if _is_client(organizer, practice):
            return [practice.directory.for_attendee(session.attendee(organizer.email) or organizer)]
    invited = [
        practice.directory.for_attendee(a) for a in session.attendees if _is_client(a, practice)
    ]
    if invited:
        return invited
    # A title naming someone at an ignored domain (a colleague) names no client.
    named = practice.directory.named_in(session.title)
    return [c for c in named if _is_client(Attendee(email=c.email), practice)]


def _is_client(attendee: Attendee, practice: Practice) -> bool:
    return (
        bool(attendee.address)
        and attendee.address != practice.practitioner_email.strip().lower()
        and not attendee.is_resource
        and not _never_a_client(attendee.address, practice)
    )


def _never_a_client(address: str, practice: Practice) -> str:
    """Who the configuration says this address is, when it says it is not a client."""
    domain = address.rpartition("@")[2]
    if address in {a.strip().lower() for a in practice.other_addresses}:
        return f"your other address {address}"
    if address in {a.strip().lower() for a in practice.policy.colleagues}:
        return f"your colleague {address}"
    if domain and domain in {d.strip().lower() for d in practice.policy.ignored_domains}:
        return f"{address}, at an ignored domain"
    return ""


def _judge_client(
    fact: Fact, client: Client, practice: Practice, earlier: Sequence[Offence]
) -> Decision:
    policy = practice.policy
    session = fact.session
    if policy.judge == "directory" and practice.directory.by_email(client.email) is None:
        return _decide(
            Verdict.IGNORE, fact, client, "not in your client list (policy.judge = directory)"
        )
    reason = _not_a_session_to_judge(session, policy) or _organiser_cancelled(fact, practice)
    if reason:
        return _decide(Verdict.IGNORE, fact, client, reason)
    if client.exempt:
        return _decide(Verdict.IGNORE, fact, client, f"{_who(client)} is exempt from the policy")
    if fact.kind is FactKind.MOVED and not policy.late_moves_count:
        return _decide(Verdict.IGNORE, fact, client, "the session was rescheduled, not cancelled")
    when = fact.cancelled_at
    if (when.earliest or when.latest) >= session.end:
        return _decide(
            Verdict.IGNORE, fact, client, "removed after the session had ended (calendar clean-up)"
        )
    if when.latest >= session.end:
        return _decide(
            Verdict.REVIEW,
            fact,
            client,
            f"first seen after the session ended, following a gap in watching since "
            f"{when.earliest:%Y-%m-%d %H:%M} UTC: a late cancellation or a calendar clean-up",
        )
    least_notice = session.start - when.latest
    most_notice = session.start - (when.earliest or when.latest)
    window = policy.late_window
    notice_words = f"cancelled {describe_notice(least_notice)}"
    if least_notice >= window:
        return _decide(
            Verdict.IGNORE,
            fact,
            client,
            f"{notice_words}; the late window is {describe_span(window)}",
            notice=least_notice,
        )
    if most_notice >= window:
        return _decide(
            Verdict.REVIEW,
            fact,
            client,
            f"first seen at {when.latest:%Y-%m-%d %H:%M} UTC after a gap in watching since "
            f"{when.earliest:%Y-%m-%d %H:%M} UTC; whether it was late depends on when it happened",
            notice=least_notice,
        )
    return _judge_late(fact, client, practice, earlier, least_notice)


def _judge_late(
    fact: Fact,
    client: Client,
    practice: Practice,
    earlier: Sequence[Offence],
    notice: timedelta,
) -> Decision:
    policy = practice.policy
    late = (
        f"cancelled {describe_notice(notice)}, inside the {describe_span(policy.late_window)} "
        "late window"
    )
    whose = attribution_words(fact)
    if fact.kind is FactKind.CANCELLED_BY_CLIENT_ORGANIZER and not _is_client(
        Attendee(email=fact.session.organizer_email), practice
    ):
        whose = _MARKED_WORDS
        if not has_marker(fact.session, policy.markers):
            # An organiser the configuration cannot place (no address, or your own): ask.
            organiser = fact.session.organizer_email or "someone else"
            why = f"cancelled by its organiser {organiser}, who is not one of your clients"
            return _decide(Verdict.REVIEW, fact, client, late, why, notice=notice)
    attribution = _attribution(fact, policy)
    if attribution != "client":
        verdict = Verdict.REVIEW if attribution == "review" else Verdict.IGNORE
        return _decide(verdict, fact, client, late, _own_deletion_words(policy), notice=notice)
    emergency = _emergency_word(fact, policy)
    if emergency:
        return _decide(
            Verdict.REVIEW,
            fact,
            client,
            late,
            f"their note mentions '{emergency}', which may be an emergency",
            notice=notice,
        )
    return climb_ladder(fact, client, policy, earlier, notice, whose)


def _organiser_cancelled(fact: Fact, practice: Practice) -> str:
    """Why a session cancelled by a known non-client organiser is nobody's late cancellation.

    A colleague, the practitioner's other mailbox or an ignored domain organised it and called
    it off; a marker in the title or description still records it as the client's.
    """
    if fact.kind is not FactKind.CANCELLED_BY_CLIENT_ORGANIZER:
        return ""
    organiser = fact.session.organizer_email.strip().lower()
    who = _never_a_client(organiser, practice) if organiser else ""
    if not who or has_marker(fact.session, practice.policy.markers):
        return ""
    return f"organised and cancelled by {who}, not by a client: nobody's late cancellation"


def _attribution(fact: Fact, policy: Policy) -> str:
    """Whose cancellation this is: 'client', or for the practitioner's own, the policy's answer."""
    if fact.kind in _CLIENT_ACTS or fact.kind is FactKind.MOVED:
        return "client"
    if fact.kind in _OWN_ACTS and has_marker(fact.session, policy.markers):
        return "client"
    return policy.own_deletion


def attribution_words(fact: Fact) -> str:
    """Why the rules believe the client cancelled."""
    return {
        FactKind.DECLINED: "the client declined the invitation",
        FactKind.CANCELLED_BY_CLIENT_ORGANIZER: "the client cancelled a session they organised",
        FactKind.MARKED: _MARKED_WORDS,
        FactKind.MOVED: "moved late, and late moves count",
    }.get(fact.kind, "recorded as the client's cancellation")


def _own_deletion_words(policy: Policy) -> str:
    action = {
        "review": "it waits for your review",
        "ignore": "your own cancellations are ignored",
        "client": "it counts as the client's",
    }[policy.own_deletion]
    return f"you deleted or cancelled this session yourself, so {action}"


def _emergency_word(fact: Fact, policy: Policy) -> str:
    note = fact.attendee.comment if fact.attendee else ""
    if fact.kind is FactKind.MARKED:
        note = f"{note}\n{fact.session.description}"
    for words in policy.emergency_words.values():
        for word in words:
            if word.strip() and re.search(
                rf"(?<!\w){re.escape(word.strip())}(?!\w)", note, re.IGNORECASE
            ):
                return word
    return ""


def _not_a_session_to_judge(session: Session, policy: Policy) -> str:
    title = session.title.lower()
    if policy.title_include and not any(w.lower() in title for w in policy.title_include):
        return "the title matches none of the policy's title_include words"
    excluded = next((w for w in policy.title_exclude if w.lower() in title), None)
    if excluded:
        return f"the title contains '{excluded}', which title_exclude leaves out"
    return ""


def _decide(
    verdict: Verdict,
    fact: Fact,
    client: Client | None,
    *reasons: str,
    notice: timedelta | None = None,
) -> Decision:
    return Decision(verdict=verdict, fact=fact, client=client, reasons=reasons, notice=notice)


def _who(client: Client) -> str:
    return client.name or client.email
