"""`fairwarning auth google`: the one-time authorisation, made to work over SSH.

Google's installed-app flow with a loopback redirect, PKCE and a state check. The consent
page can be opened on any computer: the redirect either reaches the listener here (a desktop,
or the port tunnelled with `ssh -L`), or the browser shows an address that will not load,
which the practitioner pastes back. Whichever arrives first is used.
"""

from __future__ import annotations

import json
import queue
import threading
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow

from connectors.google.credentials import GOOGLE_TOKEN_ENDPOINT, needed_scopes, stored_json
from connectors.google.http import post_form
from worker.errors import AccountNeedsPractitioner, ConfigError
from worker.private_files import write_private

_EXCHANGE_TIMEOUT = 30.0


def authorize(
    *,
    account: str,
    client_secrets: Path,
    token_path: Path,
    list_calendars: bool = False,
    drafts: bool = False,
    port: int = 0,
    say: Callable[[str], None],
    ask: Callable[[], str],
    give_up_after: timedelta = timedelta(minutes=20),
) -> list[str]:
    """Authorise `account` and store its token file (mode 0600); return the granted scopes.

    `client_secrets` is the Desktop OAuth client's JSON downloaded from Google Cloud. `port`
    is the loopback listener's port (0: any free one; set it when tunnelling it over SSH).
    `say` shows a line to the practitioner; `ask` reads one pasted line (it runs in a thread
    and may block). Raises `AccountNeedsPractitioner` when consent was refused, the state does
    not match, or a needed scope was not granted; `ConfigError` for an unusable secrets file.
    `drafts` (policy.mode = "drafts") also asks for gmail.compose, to create drafts.
    """
    wanted = needed_scopes(list_calendars=list_calendars, drafts=drafts)
    client = _installed_client(client_secrets)
    arrivals: queue.Queue[tuple[str, str]] = queue.Queue()
    listener = _listen(port, arrivals)
    try:
        redirect = f"http://127.0.0.1:{listener.server_port}/"
        flow = Flow.from_client_config({"installed": client}, scopes=wanted, redirect_uri=redirect)
        url, state = flow.authorization_url(access_type="offline", prompt="consent")
        say(_instructions(url, redirect))
        threading.Thread(target=_read_pasted, args=(ask, arrivals), daemon=True).start()
        try:
            source, address = arrivals.get(timeout=give_up_after.total_seconds())
        except queue.Empty:
            raise AccountNeedsPractitioner(
                f"No answer from Google's consent page within {give_up_after}; run the "
                "command again.",
                account=account,
            ) from None
    finally:
        listener.shutdown()
        listener.server_close()
    code = _code_from(address, state, account)
    say(f"Received Google's answer ({source}); exchanging it for a token…")
    answer = _exchange(client, code, redirect, flow.code_verifier or "", account)
    granted = str(answer.get("scope", "")).split()
    missing = [s for s in wanted if s not in granted]
    if missing:
        raise AccountNeedsPractitioner(
            f"Google did not grant {', '.join(missing)}. Run the command again and leave "
            "every permission ticked on the consent page.",
            account=account,
            missing=missing,
        )
    extra = [s for s in granted if s not in wanted]
    if extra:
        say(f"Note: Google also granted {', '.join(extra)}, which Fair Warning does not use.")
    credentials = Credentials(  # type: ignore[no-untyped-call]
        token=answer.get("access_token"),
        refresh_token=answer["refresh_token"],
        token_uri=client["token_uri"],
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        scopes=granted,
        expiry=_expiry(answer.get("expires_in")),
    )
    write_private(token_path, stored_json(credentials))
    say(f"Account {account} is authorised; its token is stored in {token_path} (mode 0600).")
    return granted


def _installed_client(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"The client secrets file {path} cannot be read: {error}") from error
    if isinstance(config, dict) and "web" in config:
        raise ConfigError(
            f"{path} belongs to a 'Web application' OAuth client. Create a 'Desktop app' client "
            "in Google Cloud (APIs & Services → Credentials) and download its JSON."
        )
    client = config.get("installed") if isinstance(config, dict) else None
    if not isinstance(client, dict) or not all(
        isinstance(client.get(k), str) and client[k] for k in ("client_id", "client_secret")
    ):
        raise ConfigError(
            f"{path} is not a Desktop OAuth client's JSON (no 'installed' client id and "
            "secret); download it again from Google Cloud (APIs & Services → Credentials)."
        )
    return {
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": GOOGLE_TOKEN_ENDPOINT,
        **client,
    }


def _instructions(url: str, redirect: str) -> str:
    return (
        "Open this address in a browser where you can sign in to Google (your laptop is fine):\n"
        f"\n  {url}\n\n"
        "Choose the practitioner's Google account and allow every permission. Google then sends\n"
        f"the browser to an address starting with {redirect}\n"
        "On this computer (or with that port tunnelled over SSH) that finishes by itself.\n"
        "From another computer the page will not load: copy the whole address from the\n"
        "browser's address bar, paste it here and press Enter."
    )


def _read_pasted(ask: Callable[[], str], arrivals: queue.Queue[tuple[str, str]]) -> None:
    while True:
        try:
            line = ask().strip()
        except Exception:  # no terminal (EOF, click's Abort): only the listener can answer
            return
        if line:
            arrivals.put(("pasted address", line))
            return


class _Redirects(HTTPServer):
    arrivals: queue.Queue[tuple[str, str]]


class _RedirectHandler(BaseHTTPRequestHandler):
    server: _Redirects

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "code" not in query and "error" not in query:
            self.send_error(404)
            return
        self.server.arrivals.put(("browser redirect", self.path))
        page = (
            b"<!doctype html><meta charset=utf-8><title>Fair Warning</title>"
            b"<p>Fair Warning has Google's answer. You can close this tab and return to the "
            b"terminal.</p>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the code in the address must not end up in a log."""


def _listen(port: int, arrivals: queue.Queue[tuple[str, str]]) -> _Redirects:
    try:
        server = _Redirects(("127.0.0.1", port), _RedirectHandler)
    except OSError as error:
        raise ConfigError(
            f"Cannot listen on 127.0.0.1:{port} ({error.strerror or error}); choose another --port."
        ) from error
    server.arrivals = arrivals
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def _code_from(address: str, state: str, account: str) -> str:
    text = address.strip()
    query = urllib.parse.urlsplit(text).query if "?" in text else text
    fields = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
    if fields.get("error"):
        raise AccountNeedsPractitioner(
            f"Google did not authorise Fair Warning ({fields['error']}); run the command again "
            "and allow access.",
            account=account,
        )
    if fields.get("state") != state:
        raise AccountNeedsPractitioner(
            "That address does not belong to this authorisation (its state differs), so it "
            "was not used. Run the command again and paste the address from the newest link.",
            account=account,
        )
    if not fields.get("code"):
        raise AccountNeedsPractitioner(
            "That address holds no authorisation code; paste the whole address from the "
            "browser's address bar.",
            account=account,
        )
    return fields["code"]


def _exchange(
    client: dict[str, Any], code: str, redirect: str, verifier: str, account: str
) -> dict[str, Any]:
    """Trade the code (with the PKCE verifier) for tokens at the client's token endpoint."""
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "code_verifier": verifier,
    }
    status, answer = post_form(client["token_uri"], fields, timeout=_EXCHANGE_TIMEOUT)
    if status != 200 or not isinstance(answer, dict):
        said = "no readable answer"
        if isinstance(answer, dict):
            said = str(answer.get("error_description") or answer.get("error") or said)
        raise AccountNeedsPractitioner(
            f"Google refused the authorisation code (HTTP {status}: {said}); run the command "
            "again.",
            account=account,
        )
    if not answer.get("refresh_token"):
        raise AccountNeedsPractitioner(
            "Google sent no refresh token, so the worker could not keep working. Remove Fair "
            "Warning's access at https://myaccount.google.com/permissions and run the command "
            "again.",
            account=account,
        )
    return answer


def _expiry(seconds: object) -> datetime | None:
    if not isinstance(seconds, int):
        return None
    # google-auth keeps expiry as a naive UTC datetime.
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(tzinfo=None)
