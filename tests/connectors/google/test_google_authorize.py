"""`fairwarning auth google` against the fake Google: pasted back over SSH, or redirected here."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.google import authorize, describe_credentials
from connectors.google.credentials import CALENDAR_EVENTS, CALENDAR_LIST, GMAIL_COMPOSE, GMAIL_SEND
from tests.connectors.google.fake_google import DATA, FakeGoogle, Fault
from worker.errors import AccountNeedsPractitioner, ConfigError


@pytest.fixture
def client_secrets(tmp_path: Path, fake: FakeGoogle) -> Path:
    """The Desktop client's JSON as downloaded, with its token endpoint at the fake."""
    config = json.loads((DATA / "client_secret.json").read_text())
    config["installed"]["token_uri"] = fake.token_uri
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def tokens(tmp_path: Path) -> Path:
    return tmp_path / "state" / "tokens" / "main.google.json"


class Terminal:
    """What the practitioner sees (`say`) and pastes (`ask`) during the flow."""

    def __init__(self, answer: Callable[[str], str] | None = None) -> None:
        self.lines: list[str] = []
        self._answer = answer
        self.done = threading.Event()

    def say(self, text: str) -> None:
        self.lines.append(text)

    def ask(self) -> str:
        if self._answer is None:
            self.done.wait(5)  # nobody pastes anything: the listener must answer
            raise EOFError
        return self._answer(self.consent_url)

    @property
    def consent_url(self) -> str:
        return next(
            word
            for line in self.lines
            for word in line.split()
            if word.startswith("https://accounts.google.com/")
        )


@pytest.fixture
def terminal_cleanup() -> Iterator[list[Terminal]]:
    made: list[Terminal] = []
    yield made
    for terminal in made:
        terminal.done.set()


def run(terminal: Terminal, client_secrets: Path, tokens: Path, **kwargs: object) -> list[str]:
    settings: dict[str, object] = {
        "account": "main",
        "client_secrets": client_secrets,
        "token_path": tokens,
        "say": terminal.say,
        "ask": terminal.ask,
        **kwargs,
    }
    return authorize(**settings)  # type: ignore[arg-type]


def test_the_address_pasted_back_from_a_laptop_authorises_the_account(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    terminal = Terminal(lambda url: f"  {fake.consent(url)}  \n")

    granted = run(terminal, client_secrets, tokens)

    assert granted == [CALENDAR_EVENTS, GMAIL_SEND]
    assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o600
    stored = json.loads(tokens.read_text())
    assert stored["type"] == "authorized_user"
    assert stored["refresh_token"].startswith("1//fake-refresh-")
    assert stored["token_uri"] == fake.token_uri
    assert stored["scopes"] == [CALENDAR_EVENTS, GMAIL_SEND]
    exchange = fake.calls("token")[-1]
    form = urllib.parse.parse_qs(exchange.body.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["code_verifier"][0]  # and the fake checked it against the challenge
    printed = "\n".join(terminal.lines)
    assert "paste it here" in printed
    assert stored["refresh_token"] not in printed


def test_the_consent_page_asks_for_offline_access_with_pkce_and_only_these_scopes(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    terminal = Terminal(fake.consent)

    run(terminal, client_secrets, tokens)

    query = urllib.parse.parse_qs(urllib.parse.urlsplit(terminal.consent_url).query)
    assert query["scope"] == [f"{CALENDAR_EVENTS} {GMAIL_SEND}"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")


def test_the_browser_redirect_to_the_local_listener_authorises_the_account(
    fake: FakeGoogle,
    client_secrets: Path,
    tokens: Path,
    terminal_cleanup: list[Terminal],
) -> None:
    terminal = Terminal()
    terminal_cleanup.append(terminal)
    pages: list[bytes] = []

    def browser(text: str) -> None:
        terminal.lines.append(text)
        if "Open this address" in text:
            with urllib.request.urlopen(fake.consent(terminal.consent_url), timeout=5) as page:
                pages.append(page.read())

    granted = run(terminal, client_secrets, tokens, say=browser)

    assert GMAIL_SEND in granted
    assert b"You can close this tab" in pages[0]
    assert json.loads(tokens.read_text())["refresh_token"]


def test_a_chosen_port_is_the_one_in_the_redirect(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    terminal = Terminal(fake.consent)

    run(terminal, client_secrets, tokens, port=port)

    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2F" in terminal.consent_url


def test_an_address_from_another_attempt_is_refused(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    def stale(url: str) -> str:
        return fake.consent(url).replace("state=", "state=x")

    with pytest.raises(AccountNeedsPractitioner, match="state differs"):
        run(Terminal(stale), client_secrets, tokens)
    assert not tokens.exists()


def test_a_consent_without_the_send_permission_is_refused_and_nothing_is_stored(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    fake.granted_scopes = [CALENDAR_EVENTS]

    with pytest.raises(AccountNeedsPractitioner, match=r"did not grant .*gmail\.send"):
        run(Terminal(fake.consent), client_secrets, tokens)
    assert not tokens.exists()


def test_listing_calendars_asks_for_that_scope_too(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    terminal = Terminal(fake.consent)

    with pytest.raises(AccountNeedsPractitioner, match=r"calendar\.readonly"):
        run(terminal, client_secrets, tokens, list_calendars=True)
    fake.granted_scopes = [CALENDAR_EVENTS, GMAIL_SEND, CALENDAR_LIST]
    granted = run(Terminal(fake.consent), client_secrets, tokens, list_calendars=True)

    assert CALENDAR_LIST in granted
    assert CALENDAR_LIST in urllib.parse.unquote(terminal.consent_url)


def test_a_refused_consent_is_reported(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    with pytest.raises(AccountNeedsPractitioner, match="access_denied"):
        run(Terminal(lambda url: fake.consent(url, allow=False)), client_secrets, tokens)


def test_a_code_the_token_endpoint_refuses_stores_nothing(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    fake.fail("token", Fault(400, "token_invalid_grant"))

    with pytest.raises(AccountNeedsPractitioner, match="Token has been expired or revoked"):
        run(Terminal(fake.consent), client_secrets, tokens)
    assert not tokens.exists()


def test_a_web_client_is_refused_with_what_to_create_instead(tmp_path: Path, tokens: Path) -> None:
    web = tmp_path / "web.json"
    web.write_text(json.dumps({"web": {"client_id": "x", "client_secret": "y"}}))

    with pytest.raises(ConfigError, match="Desktop app"):
        run(Terminal(), web, tokens)


def test_status_describes_the_grant_without_its_secrets(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    assert describe_credentials(tokens).startswith("not authorised")
    run(Terminal(fake.consent), client_secrets, tokens)
    stored = json.loads(tokens.read_text())

    line = describe_credentials(tokens)

    assert line == (
        "scopes: calendar.events.readonly, gmail.send; refresh token: yes; "
        f"token endpoint: {fake.token_uri}"
    )
    assert stored["refresh_token"] not in line
    assert stored["client_secret"] not in line
    os.chmod(tokens, 0o644)
    assert "should be 0600" in describe_credentials(tokens)


def test_drafts_mode_adds_gmail_compose_and_only_then(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    fake.granted_scopes = [CALENDAR_EVENTS, GMAIL_SEND, GMAIL_COMPOSE]
    drafts = Terminal(fake.consent)
    granted = run(drafts, client_secrets, tokens, drafts=True)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(drafts.consent_url).query)
    assert query["scope"] == [f"{CALENDAR_EVENTS} {GMAIL_SEND} {GMAIL_COMPOSE}"]
    assert GMAIL_COMPOSE in granted
    sends = Terminal(fake.consent)
    run(sends, client_secrets, tokens)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(sends.consent_url).query)
    assert GMAIL_COMPOSE not in query["scope"][0]


def test_drafts_mode_without_compose_granted_is_refused(
    fake: FakeGoogle, client_secrets: Path, tokens: Path
) -> None:
    fake.granted_scopes = [CALENDAR_EVENTS, GMAIL_SEND]
    with pytest.raises(AccountNeedsPractitioner) as caught:
        run(Terminal(fake.consent), client_secrets, tokens, drafts=True)
    assert GMAIL_COMPOSE in caught.value.message
