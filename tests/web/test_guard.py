"""The console's locks: password, sessions, CSRF, headers, the login brake."""

from __future__ import annotations

import json
import time
from base64 import b64encode
from datetime import UTC, datetime

import itsdangerous
import pytest
from starlette.testclient import TestClient

from tests.cli.practice import Practice
from tests.web.conftest import PASSWORD, csrf_of
from worker.config import Config
from worker.web.app import SESSION_COOKIE, build_console
from worker.web.guard import LoginThrottle
from worker.web.keys import (
    NoPassword,
    check_password,
    password_generation,
    password_path,
    session_key,
    set_password,
)


def test_without_a_session_every_page_leads_to_the_login(browser_client: TestClient) -> None:
    for path in ("/", "/review", "/clients", "/notices", "/history", "/settings"):
        answer = browser_client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")


def test_the_login_brings_the_practitioner_back_where_they_were_going(
    browser_client: TestClient,
) -> None:
    page = browser_client.get("/login?next=/history")
    answer = browser_client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "password": PASSWORD, "next": "/history"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/history"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_the_login_never_sends_anyone_off_the_console(
    browser_client: TestClient, target: str
) -> None:
    page = browser_client.get("/login")
    answer = browser_client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_the_session_cookie_is_httponly_and_samesite_strict(browser_client: TestClient) -> None:
    page = browser_client.get("/login")
    answer = browser_client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=1800" in cookie  # the default idle expiry, 30 minutes
    assert "secure" not in cookie  # plain http on 127.0.0.1 (an SSH tunnel)


def test_over_https_the_cookie_is_secure(config: Config) -> None:
    app = build_console(config, clock=lambda: datetime.now(UTC))
    with TestClient(app, base_url="https://console.example") as client:
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"csrf": csrf_of(page.text), "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
    assert "; secure" in answer.headers["set-cookie"].lower()


def test_a_public_https_address_makes_the_cookie_secure_even_behind_plain_http(
    config: Config,
) -> None:
    behind_proxy = config.model_copy(
        update={"web": config.web.model_copy(update={"public_url": "https://fw.example"})}
    )
    app = build_console(behind_proxy, clock=lambda: datetime.now(UTC))
    with TestClient(app, base_url="http://127.0.0.1:8465") as client:
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"csrf": csrf_of(page.text), "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
    assert "secure" in answer.headers["set-cookie"].lower()


def test_every_page_carries_the_security_headers(console: TestClient) -> None:
    for path in ("/login", "/"):
        headers = console.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"


def test_no_page_has_inline_script(console: TestClient) -> None:
    for path in ("/login", "/"):
        text = console.get(path).text
        assert "<script>" not in text
        assert "onclick" not in text
        assert "style=" not in text


def test_a_wrong_password_is_refused_and_does_not_log_in(browser_client: TestClient) -> None:
    page = browser_client.get("/login")
    answer = browser_client.post(
        "/login", data={"csrf": csrf_of(page.text), "password": "guess", "next": "/"}
    )
    assert answer.status_code == 401
    assert "That password is not right" in answer.text
    assert browser_client.get("/", follow_redirects=False).status_code == 303


def test_wrong_passwords_are_braked_per_address(browser_client: TestClient) -> None:
    token = csrf_of(browser_client.get("/login").text)
    for _ in range(5):
        browser_client.post("/login", data={"csrf": token, "password": "guess", "next": "/"})
    braked = browser_client.post(
        "/login", data={"csrf": token, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert braked.status_code == 429
    assert int(braked.headers["retry-after"]) > 0
    assert "Too many wrong passwords" in braked.text


def test_the_brake_lets_go_after_its_window() -> None:
    now = [0.0]
    throttle = LoginThrottle(attempts=2, window=60, clock=lambda: now[0])
    throttle.failed("198.51.100.7")
    throttle.failed("198.51.100.7")
    assert throttle.wait("198.51.100.7") > 0
    assert throttle.wait("203.0.113.9") == 0  # another address is not punished
    now[0] = 61.0
    assert throttle.wait("198.51.100.7") == 0


def test_a_post_without_its_csrf_token_is_refused(console: TestClient) -> None:
    assert console.post("/logout", data={}).status_code == 403
    assert console.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert console.get("/").status_code == 200, "a refused logout logs nobody out"


def test_logging_out_ends_the_session(console: TestClient) -> None:
    token = csrf_of(console.get("/").text)
    console.post("/logout", data={"csrf": token})
    assert console.get("/", follow_redirects=False).status_code == 303


def _session_signed(config: Config, minutes_ago: int) -> str:
    """A session cookie as the console signs one, signed `minutes_ago`."""

    class Then(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - minutes_ago * 60

    session = {
        "user": config.practitioner.email,
        "generation": password_generation(config.state_dir),
    }
    data = b64encode(json.dumps(session).encode())
    return Then(session_key(config.state_dir)).sign(data).decode()


def test_an_idle_session_expires(browser_client: TestClient, config: Config) -> None:
    browser_client.cookies.set(SESSION_COOKIE, _session_signed(config, minutes_ago=29))
    assert browser_client.get("/", follow_redirects=False).status_code == 200
    browser_client.cookies.clear()
    browser_client.cookies.set(SESSION_COOKIE, _session_signed(config, minutes_ago=31))
    assert browser_client.get("/", follow_redirects=False).status_code == 303


def test_a_new_password_ends_every_session(console: TestClient, config: Config) -> None:
    set_password(config.state_dir, "another long passphrase")
    assert console.get("/", follow_redirects=False).status_code == 303


def test_the_console_refuses_to_start_without_a_password(config: Config) -> None:
    password_path(config.state_dir).unlink()
    with pytest.raises(NoPassword, match="fairwarning web set-password"):
        build_console(config, clock=lambda: datetime.now(UTC))


def test_the_password_is_kept_as_an_argon2id_hash_readable_only_by_its_owner(
    config: Config,
) -> None:
    stored = password_path(config.state_dir)
    assert stored.read_text().startswith("$argon2id$")
    assert PASSWORD not in stored.read_text()
    assert stored.stat().st_mode & 0o777 == 0o600
    assert check_password(config.state_dir, PASSWORD)
    assert not check_password(config.state_dir, PASSWORD + "x")


def test_a_short_password_is_refused_with_the_rule(config: Config) -> None:
    with pytest.raises(Exception, match="at least 10"):
        set_password(config.state_dir, "short")


def test_the_web_command_without_a_password_names_the_command_that_sets_one(
    practice: Practice,
) -> None:
    done = practice("web", "--port", "1")
    assert done.returncode == 2
    assert "fairwarning web set-password" in done.stderr + done.stdout
