"""`fairwarning auth caldav` against a real Radicale: the password is checked, the calendars
are found by discovery and listed, and the login is stored privately (encrypted with a key)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from connectors.caldav import DiscoveryError, authorize
from tests.servers.radicale import PASSWORD, USER, RadicaleServer
from tests.servers.smtp import free_port
from worker.cli.demo import write_config
from worker.cli.main import main
from worker.config import load_config
from worker.private_files import KEY_VARIABLE, is_encrypted, read_private
from worker.wiring import caldav_login_path

LOCAL = 'calendar = { provider = "local", path = "calendar" }'


def _config(tmp_path: Path, calendar_url: str = "") -> Path:
    path = write_config(tmp_path)
    if calendar_url:
        text = path.read_text(encoding="utf-8")
        assert LOCAL in text
        caldav = f'calendar = {{ provider = "caldav", url = "{calendar_url}" }}'
        path.write_text(text.replace(LOCAL, caldav), encoding="utf-8")
    return path


def _auth(config: Path, server: RadicaleServer, password: str, *more: str) -> tuple[int, str]:
    arguments = ["--config", str(config), "auth", "caldav", "--account", "main"]
    arguments += ["--url", server.root, "--username", USER, *more]
    done = CliRunner().invoke(main, arguments, input=password + "\n")
    return done.exit_code, done.output


def _stored(config: Path) -> Path:
    return caldav_login_path(load_config(config)[0], "main")


def test_the_login_is_checked_the_calendars_listed_and_the_password_stored_privately(
    tmp_path: Path, radicale_server: RadicaleServer
) -> None:
    calendar = radicale_server.new_calendar("sessions")
    config = _config(tmp_path)

    code, output = _auth(config, radicale_server, PASSWORD, "--list-calendars")

    assert code == 0, output
    assert PASSWORD not in output, "never echoed"
    assert calendar in output
    stored = _stored(config)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(read_private(stored)) == {
        "url": radicale_server.root,
        "username": USER,
        "password": PASSWORD,
    }


def test_with_a_key_the_stored_login_is_encrypted(
    tmp_path: Path, radicale_server: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    calendar = radicale_server.new_calendar()
    config = _config(tmp_path, calendar)

    code, output = _auth(config, radicale_server, PASSWORD)

    assert code == 0, output
    assert is_encrypted(_stored(config).read_bytes())
    assert PASSWORD.encode() not in _stored(config).read_bytes()
    status = CliRunner().invoke(main, ["--config", str(config), "auth", "status"])
    assert f"CalDAV {radicale_server.root} as {USER}: password stored" in status.output
    assert PASSWORD not in status.output


def test_a_wrong_password_says_what_to_use_and_stores_nothing(
    tmp_path: Path, radicale_server: RadicaleServer
) -> None:
    config = _config(tmp_path)

    code, output = _auth(config, radicale_server, "my Apple ID password")

    assert code != 0
    assert "refused the username" in output
    assert "app-specific password" in output
    assert not _stored(config).exists()


def test_a_configured_url_that_is_not_one_of_the_calendars_is_pointed_out(
    tmp_path: Path, radicale_server: RadicaleServer
) -> None:
    real = radicale_server.new_calendar()
    config = _config(tmp_path, f"{radicale_server.root}/{USER}/typo/")

    code, output = _auth(config, radicale_server, PASSWORD)

    assert code == 0, output
    assert "is not one of this login's calendars" in output
    assert real in output


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://caldav.example.com", "unencrypted"),
        ("caldav.icloud.com", "not a web address"),
    ],
)
def test_an_unusable_address_is_refused_before_any_password_is_sent(
    tmp_path: Path, url: str, words: str
) -> None:
    with pytest.raises(DiscoveryError, match=words):
        authorize(
            account="main",
            url=url,
            username=USER,
            password=PASSWORD,
            login_path=tmp_path / "login.json",
        )
    assert not (tmp_path / "login.json").exists()


def test_an_address_that_is_not_the_caldav_service_is_found_through_well_known(
    tmp_path: Path, radicale_server: RadicaleServer
) -> None:
    calendar = radicale_server.new_calendar()

    found = authorize(
        account="main",
        url=f"{radicale_server.root}/.web/",  # Radicale's web page, as a practitioner might paste
        username=USER,
        password=PASSWORD,
        login_path=tmp_path / "login.json",
    )

    assert calendar in {c.url for c in found}


def test_a_server_that_does_not_answer_is_tried_again_then_reported(tmp_path: Path) -> None:
    waits: list[float] = []
    with pytest.raises(DiscoveryError, match="could not be reached"):
        authorize(
            account="main",
            url=f"http://127.0.0.1:{free_port()}",
            username=USER,
            password=PASSWORD,
            login_path=tmp_path / "login.json",
            sleep=waits.append,
        )
    assert len(waits) == 3
    assert not (tmp_path / "login.json").exists()
