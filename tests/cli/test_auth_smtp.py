"""`fairwarning auth smtp`: the password is checked by a real login, then stored privately."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.servers.smtp import PASSWORD, USER, SmtpServer, free_port
from worker.cli.demo import write_config
from worker.cli.main import main
from worker.config import load_config
from worker.private_files import read_private
from worker.wiring import smtp_password_path

FILE_SENDER = 'sender = { provider = "file", folder = "outbox" }'


def _config(tmp_path: Path, port: int, security: str = "starttls") -> Path:
    path = write_config(tmp_path)
    smtp = (
        f'sender = {{ provider = "smtp", host = "127.0.0.1", port = {port}, '
        f'security = "{security}", username = "{USER}", timeout = "5s" }}'
    )
    text = path.read_text(encoding="utf-8")
    assert FILE_SENDER in text
    path.write_text(text.replace(FILE_SENDER, smtp), encoding="utf-8")
    return path


@pytest.fixture
def trusted(smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = tmp_path / "ca.pem"
    smtp_server.ca.cert_pem.write_to_path(str(ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))


def _auth(config: Path, password: str) -> tuple[int, str]:
    done = CliRunner().invoke(
        main, ["--config", str(config), "auth", "smtp", "--account", "main"], input=password + "\n"
    )
    return done.exit_code, done.output


def _stored(config: Path) -> Path:
    return smtp_password_path(load_config(config)[0], "main")


@pytest.mark.usefixtures("trusted")
def test_the_password_is_checked_by_logging_in_then_stored_privately(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = _config(tmp_path, smtp_server.port)
    code, output = _auth(config, PASSWORD)
    assert code == 0, output
    assert PASSWORD not in output, "never echoed"
    assert smtp_server.logins == [f"{USER}:ok"]
    assert smtp_server.messages == [], "a login, no message"
    path = _stored(config)
    assert read_private(path).decode() == PASSWORD
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    status = CliRunner().invoke(main, ["--config", str(config), "auth", "status"])
    assert f"main: SMTP 127.0.0.1:{smtp_server.port} (starttls) as {USER}" in status.output
    assert "password stored" in status.output


@pytest.mark.usefixtures("trusted")
def test_a_wrong_password_is_refused_and_not_stored(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = _config(tmp_path, smtp_server.port)
    code, output = _auth(config, "not-the-password")
    assert code != 0
    assert f"refused the login for {USER}" in output
    assert "fairwarning auth smtp --account main" in output
    assert not _stored(config).exists()
    status = CliRunner().invoke(main, ["--config", str(config), "auth", "status"])
    assert "no password stored; run fairwarning auth smtp --account main" in status.output
    check = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert check.exit_code == 1
    assert (
        f"account main: no password stored for {USER} at 127.0.0.1; "
        "run `fairwarning auth smtp --account main`"
    ) in check.output


def test_an_unreachable_server_is_said_plainly_and_nothing_is_stored(tmp_path: Path) -> None:
    config = _config(tmp_path, free_port())
    code, output = _auth(config, PASSWORD)
    assert code != 0
    assert "could not reach SMTP 127.0.0.1" in output
    assert "check host, port and security" in output
    assert not _stored(config).exists()


def test_a_server_without_starttls_is_refused_before_the_password_travels(
    tmp_path: Path,
) -> None:
    from aiosmtpd.controller import Controller

    class _Plain:
        pass

    port = free_port()
    controller = Controller(_Plain(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        code, output = _auth(_config(tmp_path, port), PASSWORD)
    finally:
        controller.stop()
    assert code != 0
    assert "does not offer STARTTLS" in output
    assert not _stored(_config(tmp_path, port)).exists()


def test_an_account_that_does_not_send_through_smtp_is_told_what_to_configure(
    tmp_path: Path,
) -> None:
    done = CliRunner().invoke(
        main,
        ["--config", str(write_config(tmp_path)), "auth", "smtp", "--account", "main"],
        input="x\n",
    )
    assert done.exit_code != 0
    assert 'set sender.provider = "smtp" first' in done.output
