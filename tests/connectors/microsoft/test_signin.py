"""`fairwarning auth microsoft`: device-code sign-in over SSH, and `auth status`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import responses

from connectors.microsoft import describe_credentials, sign_in
from tests.connectors.microsoft.helpers import CLIENT_ID, LOGIN_HOST, USERNAME, FakeLogin, load
from worker.errors import AccountNeedsPractitioner, Recoverable


def _sign_in(tokens_dir: Path, said: list[str] | None = None, **changes: str) -> str:
    """Sign in as `main` against the fake sign-in service; `changes` override arguments."""
    arguments = {
        "client_id": CLIENT_ID,
        "authority": "consumers",
        "authority_host": LOGIN_HOST,
        **changes,
    }
    return sign_in(
        account="main",
        tokens_dir=tokens_dir,
        say=(said if said is not None else []).append,
        **arguments,
    )


def test_sign_in_shows_the_code_and_keeps_the_tokens_private(
    login: FakeLogin, tokens_dir: Path
) -> None:
    said: list[str] = []

    who = _sign_in(tokens_dir, said)

    assert who == USERNAME
    assert said == [load("devicecode.json")["message"]]
    for name in ("main.msal.json", "main.microsoft.json"):
        mode = stat.S_IMODE(os.stat(tokens_dir / name).st_mode)
        assert mode == 0o600, f"{name} is {mode:o}"
    assert stat.S_IMODE(os.stat(tokens_dir).st_mode) == 0o700
    settings = json.loads((tokens_dir / "main.microsoft.json").read_text())
    assert settings == {
        "authority": "consumers",
        "authority_host": LOGIN_HOST,
        "client_id": CLIENT_ID,
        "scopes": [
            "https://graph.microsoft.com/Calendars.Read",
            "https://graph.microsoft.com/Mail.Send",
        ],
        "username": USERNAME,
    }
    cache = json.loads((tokens_dir / "main.msal.json").read_text())
    assert [rt["secret"] for rt in cache["RefreshToken"].values()] == ["refresh-1"]


def test_sign_in_asks_for_calendar_and_mail_and_lets_msal_add_offline_access(
    login: FakeLogin, tokens_dir: Path
) -> None:
    _sign_in(tokens_dir)

    [device] = login.device_requests
    scopes = set(device["scope"][0].split())
    assert {"Calendars.Read", "Mail.Send", "offline_access"} <= scopes
    [token] = login.token_requests
    assert token["grant_type"] == ["urn:ietf:params:oauth:grant-type:device_code"]


def test_an_app_without_public_client_flows_is_explained(
    login: FakeLogin, tokens_dir: Path
) -> None:
    login.refuse("token-invalid-client.json")

    with pytest.raises(AccountNeedsPractitioner) as raised:
        _sign_in(tokens_dir)

    assert "AADSTS7000218" in raised.value.message
    assert "Allow public client flows" in raised.value.message
    assert "Trace ID" not in raised.value.message
    assert not tokens_dir.exists() or not any(tokens_dir.iterdir())


def test_a_sign_in_without_mail_send_is_refused(login: FakeLogin, tokens_dir: Path) -> None:
    login.scope = "https://graph.microsoft.com/Calendars.Read"

    with pytest.raises(AccountNeedsPractitioner, match=r"not Mail\.Send"):
        _sign_in(tokens_dir)


def test_sign_in_without_network_says_to_try_again(
    mocked: responses.RequestsMock, tokens_dir: Path
) -> None:
    with pytest.raises(Recoverable, match="could not reach"):
        _sign_in(tokens_dir)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"client_id": " "}, "--client-id"),
        ({"authority": "https://login.microsoftonline.com/consumers"}, "--authority must"),
        ({"authority_host": "login.microsoftonline.com"}, "https://"),
    ],
)
def test_bad_arguments_are_named_before_any_request(
    mocked: responses.RequestsMock, tokens_dir: Path, changes: dict[str, str], complaint: str
) -> None:
    with pytest.raises(AccountNeedsPractitioner, match=complaint):
        _sign_in(tokens_dir, None, **changes)
    assert len(mocked.calls) == 0


def test_status_before_signing_in_names_the_command(tokens_dir: Path) -> None:
    line = describe_credentials(account="main", tokens_dir=tokens_dir)

    assert "not signed in" in line
    assert "fairwarning auth microsoft --account main --client-id" in line


def test_status_after_signing_in_names_the_account_and_shows_no_secret(
    signed_in: Path,
) -> None:
    line = describe_credentials(account="main", tokens_dir=signed_in)

    assert USERNAME in line
    assert "authority consumers" in line
    assert "\n" not in line
    for secret in ("refresh-1", "access-1", "secret"):
        assert secret not in line


def test_status_warns_about_a_cache_others_can_read(signed_in: Path) -> None:
    os.chmod(signed_in / "main.msal.json", 0o644)

    assert "readable by others" in describe_credentials(account="main", tokens_dir=signed_in)


def test_status_says_when_the_token_cache_is_gone(signed_in: Path) -> None:
    (signed_in / "main.msal.json").unlink()

    line = describe_credentials(account="main", tokens_dir=signed_in)

    assert "missing" in line
    assert f"--client-id {CLIENT_ID} --authority consumers" in line


def test_drafts_mode_also_asks_for_mail_readwrite_and_send_mode_never_does(
    login: FakeLogin, tokens_dir: Path
) -> None:
    login.scope += " https://graph.microsoft.com/Mail.ReadWrite"
    _sign_in(tokens_dir, drafts=True)
    _sign_in(tokens_dir)
    drafts, sends = (set(d["scope"][0].split()) for d in login.device_requests)
    assert {"Calendars.Read", "Mail.Send", "Mail.ReadWrite"} <= drafts
    assert "Mail.ReadWrite" not in sends
