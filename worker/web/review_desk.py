"""The review page's facts: each waiting case with the exact notice approval would send, and
the practitioner's actions on it, through the same functions as `fairwarning approve`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from worker.clients import load_directory
from worker.errors import FairWarningError
from worker.pipeline import choices, courtesy
from worker.pipeline.casework import Desk, approve, approve_notice, open_desk, waive, waive_notice
from worker.pipeline.closure import closure_suggestions
from worker.pipeline.delivery import departure
from worker.pipeline.foresight import Foreseen, foresee, foresee_notice
from worker.service.departures import departure_words
from worker.store import views
from worker.store.connection import Connection
from worker.store.courtesy import waiting as courtesy_waiting
from worker.web.console import Console


@dataclass
class Waiting:
    """One case (or courtesy notice) waiting for the practitioner, ready to show."""

    key: str  # the case number, or the notice's FW- reference
    path: str  # its page in the console
    facts: dict[str, Any]
    choices: tuple[str, ...]
    foreseen: Foreseen | None = None
    cannot: str = ""  # why no notice can be shown
    reasons: list[str] = field(default_factory=list)
    is_case: bool = True

    @property
    def subject(self) -> str:
        return (
            str(self.foreseen.message["Subject"]) if self.foreseen and self.foreseen.message else ""
        )

    @property
    def text(self) -> str:
        return _part(self.foreseen.message, "plain") if self.foreseen else ""

    @property
    def html(self) -> str:
        return _part(self.foreseen.message, "html") if self.foreseen else ""


def _part(message: EmailMessage | None, kind: str) -> str:
    body = message.get_body(preferencelist=(kind,)) if message is not None else None
    return str(body.get_content()) if body is not None else ""


class Desks:
    """One desk per account, the client directory read once per page."""

    def __init__(self, console: Console, db: Connection) -> None:
        self.console, self.db = console, db
        self.directory = load_directory(console.config)
        self.now = console.clock()
        self._desks: dict[str, Desk] = {}

    def __call__(self, account: str) -> Desk:
        if account not in self._desks:
            self._desks[account] = open_desk(
                self.console.config, self.db, account, self.directory, self.now
            )
        return self._desks[account]


def _foresee(console: Console, act: Callable[..., Foreseen], desk: Desk, key: Any) -> Waiting:
    config = console.config
    waiting = Waiting(key=str(key), path="", facts={}, choices=())
    try:
        waiting.foreseen = act(desk, key, console.templates(), config.practitioner, config.policy)
    except FairWarningError as exc:
        waiting.cannot = exc.message
    if waiting.foreseen is not None and waiting.foreseen.problem:
        waiting.cannot = waiting.foreseen.problem
    return waiting


def case_waiting(
    console: Console, desks: Desks, case: dict[str, Any], *, notice: bool = True
) -> Waiting:
    """The case as the page shows it; with `notice`, the exact notice approval would send."""
    desk = desks(case["account"])
    if notice:
        found = _foresee(console, foresee, desk, case["id"])
    else:
        found = Waiting(key=str(case["id"]), path="", facts={}, choices=())
    found.path, found.facts, found.reasons = f"/review/{case['id']}", case, case["reasons"]
    found.choices = choices.choices_for(desk, case["id"])
    return found


def notice_waiting(
    console: Console, desks: Desks, note: dict[str, Any], *, notice: bool = True
) -> Waiting:
    desk = desks(note["account"])
    if notice:
        found = _foresee(console, foresee_notice, desk, note["ref"])
    else:
        found = Waiting(key=note["ref"], path="", facts={}, choices=())
    found.path, found.facts = f"/review/notice/{note['ref']}", note
    found.is_case = False
    found.reasons = courtesy.as_case(note)["reasons"]
    found.choices = (
        ("approve", "went-out", "waive")
        if note["state"] == "unknown"
        else (
            "approve",
            "waive",
        )
    )
    return found


def everything_waiting(console: Console) -> dict[str, Any]:
    """Every case and courtesy notice waiting, and clients worth a thought: the index. Each
    notice is composed on its own page, where it can be approved, so the list stays quick
    however much waits (and nothing is approved without its notice in view)."""
    with console.reading() as db:
        if db is None:
            return {"cases": [], "notes": [], "advice": []}
        desks = Desks(console, db)
        waiting = views.needing_practitioner(db)
        cases = [case_waiting(console, desks, c, notice=False) for c in waiting]
        notes = [notice_waiting(console, desks, n, notice=False) for n in courtesy_waiting(db)]
        policy = console.config.policy
        advice = [
            {"client": s.client_email, "name": s.client_name, "reasons": s.reasons(policy)}
            for s in closure_suggestions(db, policy, desks.now)
        ]
    return {"cases": cases, "notes": notes, "advice": advice}


def one_case(console: Console, case_id: int) -> Waiting | None:
    with console.writing() as db:
        found = views.case(db, case_id)
        return case_waiting(console, Desks(console, db), found) if found else None


def one_notice(console: Console, ref: str) -> Waiting | None:
    with console.writing() as db:
        found = [n for n in courtesy_waiting(db) if n["ref"] == ref]
        return notice_waiting(console, Desks(console, db), found[0]) if found else None


CASE_ACTIONS: dict[str, Callable[[Desk, int, str], str]] = {
    "approve": lambda desk, case, _: approve(desk, case),
    "gentler": lambda desk, case, _: choices.approve_gentler(desk, case),
    "went-out": lambda desk, case, _: choices.confirm_sent(desk, case),
    "waive": lambda desk, case, reason: waive(desk, case, reason),
}
NOTICE_ACTIONS: dict[str, Callable[[Desk, str, str], str]] = {
    "approve": lambda desk, ref, _: approve_notice(desk, ref),
    "gentler": lambda desk, ref, _: choices.approve_gentler_notice(desk, ref),
    "went-out": lambda desk, ref, _: choices.confirm_sent(desk, ref),
    "waive": lambda desk, ref, reason: waive_notice(desk, ref, reason),
}


def act_on_case(console: Console, action: str, case_id: int, reason: str) -> str:
    """Do what the practitioner chose, in one transaction, and say what happens next."""
    config = console.config
    with console.writing() as db:
        account = views.account_of_case(db, case_id)
        if account is None:
            raise FairWarningError(f"there is no case {case_id}")
        desk = Desks(console, db)(account)
        said = CASE_ACTIONS[action](desk, case_id, reason)
    if action not in ("approve", "gentler"):
        return said
    with console.connected() as db:
        leaves = departure(db, case_id, config.policy, console.clock())
    return departure_words(config, leaves, console.clock()) if leaves else said


def act_on_notice(console: Console, action: str, ref: str, reason: str) -> str:
    with console.writing() as db:
        account = views.account_of_notice(db, ref)
        if account is None:
            raise FairWarningError(f"there is no notice {ref}")
        return NOTICE_ACTIONS[action](Desks(console, db)(account), ref, reason)
