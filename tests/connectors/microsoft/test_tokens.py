"""Access tokens after sign-in: lazy, refreshed and persisted, revocation explained."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import requests
import responses

from connectors.microsoft import MicrosoftTokens, sign_in
from tests.connectors.microsoft.helpers import CLIENT_ID, LOGIN_HOST, FakeLogin, load, sign_in_main
from worker.errors import AccountNeedsPractitioner, Recoverable

FIX = (
    f"fairwarning auth microsoft --account main --client-id {CLIENT_ID} --authority consumers "
    f"--authority-host {LOGIN_HOST}"
)


def _refresh_tokens(tokens_dir: Path) -> list[str]:
    cache = json.loads((tokens_dir / "main.msal.json").read_text())
    return [entry["secret"] for entry in cache["RefreshToken"].values()]


def test_building_the_token_source_touches_no_network(
    mocked: responses.RequestsMock, tokens_dir: Path
) -> None:
    MicrosoftTokens(account="main", tokens_dir=tokens_dir)

    assert len(mocked.calls) == 0


def test_a_fresh_token_comes_from_the_cache_without_asking_microsoft(
    signed_in: Path, login: FakeLogin
) -> None:
    tokens = MicrosoftTokens(account="main", tokens_dir=signed_in)

    assert tokens.access_token() == "access-1"
    assert tokens.access_token() == "access-1"
    assert login.token_requests == []


def test_work_accounts_granting_short_scope_names_also_hit_the_cache(
    mocked: responses.RequestsMock, tokens_dir: Path
) -> None:
    login = FakeLogin(mocked, authority="organizations")
    login.scope = "Calendars.Read Mail.Send openid profile email"
    sign_in(
        account="main",
        tokens_dir=tokens_dir,
        client_id=CLIENT_ID,
        authority="organizations",
        authority_host=LOGIN_HOST,
        say=lambda line: None,
    )
    login.token_requests.clear()

    assert MicrosoftTokens(account="main", tokens_dir=tokens_dir).access_token() == "access-1"
    assert login.token_requests == []


def test_an_expiring_token_is_refreshed_and_the_rotated_refresh_token_saved(
    login: FakeLogin, tokens_dir: Path
) -> None:
    login.expires_in = 120  # MSAL refreshes tokens with less than five minutes left
    sign_in_main(tokens_dir)
    tokens = MicrosoftTokens(account="main", tokens_dir=tokens_dir)

    assert tokens.access_token() == "access-2"

    [refresh] = login.refreshes
    assert refresh["refresh_token"] == ["refresh-1"]
    assert "offline_access" in refresh["scope"][0].split()
    assert _refresh_tokens(tokens_dir) == ["refresh-2"]
    assert stat.S_IMODE(os.stat(tokens_dir / "main.msal.json").st_mode) == 0o600


def test_a_revoked_refresh_token_names_the_command_that_fixes_it(
    login: FakeLogin, tokens_dir: Path
) -> None:
    login.expires_in = 120
    sign_in_main(tokens_dir)
    login.refuse("token-invalid-grant.json")
    tokens = MicrosoftTokens(account="main", tokens_dir=tokens_dir)

    with pytest.raises(AccountNeedsPractitioner) as raised:
        tokens.access_token()

    assert f"Run `{FIX}`" in raised.value.message
    assert "invalid_grant: AADSTS70000" in raised.value.message
    assert "Trace ID" not in raised.value.message


def test_multi_factor_required_needs_the_practitioner(login: FakeLogin, tokens_dir: Path) -> None:
    login.expires_in = 120
    sign_in_main(tokens_dir)
    login.refuse("token-interaction-required.json")

    with pytest.raises(AccountNeedsPractitioner, match="interaction_required: AADSTS50076"):
        MicrosoftTokens(account="main", tokens_dir=tokens_dir).access_token()


def test_signing_in_again_is_picked_up_by_a_running_worker(
    login: FakeLogin, tokens_dir: Path
) -> None:
    login.expires_in = 120
    arguments = {
        "account": "main",
        "tokens_dir": tokens_dir,
        "client_id": CLIENT_ID,
        "authority": "consumers",
        "authority_host": LOGIN_HOST,
        "say": lambda line: None,
    }
    sign_in(**arguments)  # type: ignore[arg-type]
    tokens = MicrosoftTokens(account="main", tokens_dir=tokens_dir)
    login.refuse("token-invalid-grant.json")
    with pytest.raises(AccountNeedsPractitioner):
        tokens.access_token()

    sign_in(**arguments)  # type: ignore[arg-type]  # `fairwarning auth microsoft`, elsewhere

    # MSAL replays the same token-endpoint error for 60 s; the new refresh token is a new
    # request, so the worker gets through at once.
    assert tokens.access_token().startswith("access-")
    assert login.refreshes[-1]["refresh_token"] == ["refresh-2"]


def test_the_token_endpoint_down_is_recoverable(login: FakeLogin, tokens_dir: Path) -> None:
    login.expires_in = 120
    sign_in_main(tokens_dir)
    login.answer(503, load("service-unavailable.json"))

    with pytest.raises(Recoverable) as raised:
        MicrosoftTokens(account="main", tokens_dir=tokens_dir).access_token()

    assert not isinstance(raised.value, AccountNeedsPractitioner)


def test_no_network_at_all_is_recoverable(signed_in: Path, mocked: responses.RequestsMock) -> None:
    mocked.reset()  # the sign-in service is unreachable from now on

    with pytest.raises(Recoverable, match="could not reach"):
        MicrosoftTokens(account="main", tokens_dir=signed_in).access_token()


def test_an_account_never_signed_in_names_the_command(tokens_dir: Path) -> None:
    with pytest.raises(AccountNeedsPractitioner, match="fairwarning auth microsoft --account main"):
        MicrosoftTokens(account="main", tokens_dir=tokens_dir).access_token()


def test_a_lost_token_cache_needs_signing_in_again(signed_in: Path) -> None:
    (signed_in / "main.msal.json").unlink()

    with pytest.raises(AccountNeedsPractitioner, match="no token cache"):
        MicrosoftTokens(account="main", tokens_dir=signed_in).access_token()


def test_a_microsoft_host_uses_msal_instance_discovery(
    mocked: responses.RequestsMock, tokens_dir: Path
) -> None:
    """On login.microsoftonline.com MSAL also asks for the host's aliases after a refusal."""
    host = "https://login.microsoftonline.com"
    login = FakeLogin(mocked, host=host)
    login.expires_in = 120
    discovery = mocked.add(
        responses.GET,
        f"{host}/common/discovery/instance",
        json=load("instance-discovery.json"),
    )
    sign_in(
        account="main",
        tokens_dir=tokens_dir,
        client_id=CLIENT_ID,
        authority="consumers",
        authority_host=host,
        say=lambda line: None,
    )
    login.refuse("token-invalid-grant.json")

    with pytest.raises(AccountNeedsPractitioner) as raised:
        MicrosoftTokens(account="main", tokens_dir=tokens_dir).access_token()

    assert raised.value.message.endswith(
        f"Run `fairwarning auth microsoft --account main --client-id {CLIENT_ID} "
        "--authority consumers`"
    )
    assert discovery.call_count >= 1


def test_an_unknown_tenant_is_explained(mocked: responses.RequestsMock, tokens_dir: Path) -> None:
    mocked.add(
        responses.GET,
        f"{LOGIN_HOST}/contoso.example/v2.0/.well-known/openid-configuration",
        status=400,
        json={"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."},
    )

    with pytest.raises(AccountNeedsPractitioner, match="does not accept the authority"):
        sign_in(
            account="main",
            tokens_dir=tokens_dir,
            client_id=CLIENT_ID,
            authority="contoso.example",
            authority_host=LOGIN_HOST,
            say=lambda line: None,
        )


def test_a_valid_cached_token_is_used_while_the_sign_in_service_is_down(
    signed_in: Path, login: FakeLogin, mocked: responses.RequestsMock
) -> None:
    mocked.replace(
        responses.POST,
        f"{LOGIN_HOST}/consumers/oauth2/v2.0/token",
        body=requests.ConnectionError("connection reset"),
    )
    tokens = MicrosoftTokens(account="main", tokens_dir=signed_in)

    assert tokens.access_token() == "access-1"  # still valid: no refresh needed


def test_a_sign_in_that_lands_during_a_refresh_is_not_overwritten(
    login: FakeLogin, tokens_dir: Path
) -> None:
    login.expires_in = 120
    sign_in_main(tokens_dir)
    tokens = MicrosoftTokens(account="main", tokens_dir=tokens_dir)
    tokens.access_token()
    newer = (tokens_dir / "main.msal.json").read_text().replace("refresh-2", "refresh-from-auth")
    # `fairwarning auth microsoft` replaces the cache while the worker is refreshing.
    login.meanwhile = lambda: (tokens_dir / "main.msal.json").write_text(newer)

    tokens.access_token()

    assert _refresh_tokens(tokens_dir) == ["refresh-from-auth"]
