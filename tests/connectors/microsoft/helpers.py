"""Helpers for the Microsoft connector tests: Microsoft's sign-in service faked offline.

Everything goes through `responses`, which intercepts `requests` — used by MSAL and by the
connector alike — so no test can reach Microsoft. The fake sign-in service lives on a
non-Microsoft host, which MSAL accepts with `instance_discovery=False`.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import responses
from requests import PreparedRequest

DATA = Path(__file__).parent / "data"
CLIENT_ID = "0c1f4f5e-2b8e-4a36-9d7c-6d0e2f1a7b11"
LOGIN_HOST = "https://login.test.example"
GRAPH = "https://graph.microsoft.com/v1.0"
USERNAME = "dana@outlook.com"


def sign_in_main(tokens_dir: Path) -> str:
    """`fairwarning auth microsoft --account main --authority consumers` against the fake."""
    from connectors.microsoft import sign_in

    return sign_in(
        account="main",
        tokens_dir=tokens_dir,
        client_id=CLIENT_ID,
        authority="consumers",
        authority_host=LOGIN_HOST,
        say=lambda line: None,
    )


def load(name: str) -> Any:
    """A payload from tests/connectors/microsoft/data."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class FakeLogin:
    """Microsoft's sign-in service as MSAL talks to it: discovery, device code, token.

    Token answers are queued with `answer`; with none queued, a fresh access token and a
    rotated refresh token are issued, valid for `expires_in` seconds.
    """

    def __init__(
        self, mock: responses.RequestsMock, *, host: str = LOGIN_HOST, authority: str = "consumers"
    ) -> None:
        self.host = host
        self.expires_in = 3600
        self.scope = (
            "https://graph.microsoft.com/Calendars.Read https://graph.microsoft.com/Mail.Send"
        )
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.revoked = False
        self.meanwhile: Callable[[], object] | None = None
        self.token_requests: list[dict[str, list[str]]] = []
        self.device_requests: list[dict[str, list[str]]] = []
        self._serial = itertools.count(1)
        base = f"{host}/{authority}"
        oidc = json.loads(
            (DATA / "openid-configuration.json")
            .read_text(encoding="utf-8")
            .replace(LOGIN_HOST, host)
            .replace("/consumers/", f"/{authority}/")
        )
        mock.add(responses.GET, f"{base}/v2.0/.well-known/openid-configuration", json=oidc)
        mock.add_callback(responses.POST, f"{base}/oauth2/v2.0/devicecode", self._device_code)
        mock.add_callback(responses.POST, f"{base}/oauth2/v2.0/token", self._token)

    def answer(self, status: int, body: dict[str, Any]) -> None:
        self.answers.append((status, body))

    def revoke(self) -> None:
        """The user revoked the app's access: every refresh fails until they sign in again."""
        self.revoked = True

    def refuse(self, payload: str) -> None:
        """The next token request fails with the error in `payload` (a data file)."""
        self.answer(400, load(payload))

    @property
    def refreshes(self) -> list[dict[str, list[str]]]:
        return [r for r in self.token_requests if r.get("grant_type") == ["refresh_token"]]

    def _device_code(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.device_requests.append(parse_qs(str(request.body)))
        return 200, {}, json.dumps(load("devicecode.json"))

    def _token(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        form = parse_qs(str(request.body))
        self.token_requests.append(form)
        if self.meanwhile is not None:
            self.meanwhile()
        if form.get("grant_type") != ["refresh_token"]:
            self.revoked = False
        elif self.revoked:
            return 400, {}, json.dumps(load("token-invalid-grant.json"))
        if self.answers:
            status, body = self.answers.pop(0)
            return status, {}, json.dumps(body)
        serial = next(self._serial)
        body = copy.deepcopy(load("token.json"))
        body.update(
            access_token=f"access-{serial}",
            refresh_token=f"refresh-{serial}",
            expires_in=self.expires_in,
            ext_expires_in=self.expires_in,
            scope=self.scope,
        )
        return 200, {}, json.dumps(body)


@dataclass
class StaticTokens:
    """An access-token source that always has a token; counts forced refreshes."""

    token: str = "access-static"
    forced: int = 0
    calls: int = 0

    def access_token(self, *, force_refresh: bool = False) -> str:
        self.calls += 1
        self.forced += force_refresh
        return self.token

    def sign_in_command(self) -> str:
        return "fairwarning auth microsoft --account main --client-id ID --authority consumers"


@dataclass
class Sleeps:
    """Records the pauses between retries instead of sleeping."""

    seconds: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
