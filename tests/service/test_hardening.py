"""The service unit, tokens at rest, and the checks that catch a careless install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from worker.cli import demo
from worker.cli.checks import check_tokens
from worker.config import load_config
from worker.errors import StateError
from worker.private_files import (
    KEY_VARIABLE,
    is_encrypted,
    new_key,
    read_private,
    tokens_dir,
    write_private,
)
from worker.service.systemd import unit_for

FAIRWARNING = str(Path(sys.executable).with_name("fairwarning"))


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = demo.write_config(tmp_path)
    (tmp_path / "calendar").mkdir()
    return path


@pytest.mark.parametrize("user", [True, False])
def test_the_unit_is_hardened_and_runs_this_configuration(config_path: Path, user: bool) -> None:
    config, _ = load_config(config_path)
    unit = unit_for(config, config_path, user=user, key_file=config_path)
    for setting in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "Restart=on-failure",
        f"ReadWritePaths=-{config.state_dir}",
        f"--config {config_path} run",
        f"LoadCredential=fairwarning-key:{config_path}",
    ):
        assert setting in unit.text
    assert ("StateDirectory=fairwarning" in unit.text) is not user
    assert unit.path.name == "fairwarning.service"


def test_systemd_accepts_the_generated_unit(config_path: Path, tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run .ci/system-deps"
    config, _ = load_config(config_path)
    unit = unit_for(config, config_path, user=False, key_file=None)
    path = tmp_path / "fairwarning.service"
    path.write_text(unit.text)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [line for line in verified.stderr.splitlines() if "fairwarning.service" in line]
    assert verified.returncode == 0, verified.stderr
    assert complaints == [], verified.stderr


def test_the_console_gets_its_own_hardened_unit(config_path: Path, tmp_path: Path) -> None:
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(f'templates_dir = "my-notices"\n{text}', encoding="utf-8")
    config, _ = load_config(config_path)
    unit = unit_for(config, config_path, user=False, key_file=None, web=True)
    assert unit.path.name == "fairwarning-web.service"
    assert f"--config {config_path} web" in unit.text
    assert "ProtectSystem=strict" in unit.text
    assert f"ReadWritePaths=-{config.state_dir}" in unit.text
    assert f"ReadWritePaths=-{config.templates_dir}" in unit.text, "saving a notice needs it"
    assert "ExecReload" not in unit.text
    assert unit.commands[1] == "systemctl enable --now fairwarning-web.service"
    path = tmp_path / "fairwarning-web.service"
    path.write_text(unit.text)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stderr


def test_service_install_print_writes_nothing(config_path: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    shown = subprocess.run(
        [FAIRWARNING, "--config", str(config_path), "service", "install", "--user", "--print"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert shown.returncode == 0
    assert "[Service]" in shown.stdout
    assert not (tmp_path / "xdg").exists()
    done = subprocess.run(
        [FAIRWARNING, "--config", str(config_path), "service", "install", "--user"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0
    assert (tmp_path / "xdg" / "systemd" / "user" / "fairwarning.service").exists()
    assert "systemctl --user enable --now fairwarning.service" in done.stdout


def test_tokens_are_private_and_encrypted_when_a_key_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tokens_dir(tmp_path) / "main.google.json"
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    write_private(token, b'{"refresh_token": "1//secret"}')
    assert token.stat().st_mode & 0o777 == 0o600
    assert token.parent.stat().st_mode & 0o777 == 0o700
    assert is_encrypted(token.read_bytes())
    assert b"secret" not in token.read_bytes()
    assert read_private(token) == b'{"refresh_token": "1//secret"}'
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    with pytest.raises(StateError, match="cannot be decrypted"):
        read_private(token)
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(StateError, match="encrypted but no key is set"):
        read_private(token)


def test_the_key_can_come_from_a_systemd_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "fairwarning-key").write_text(new_key() + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "creds"))
    token = tmp_path / "t.json"
    write_private(token, b"{}")
    assert is_encrypted(token.read_bytes())
    assert read_private(token) == b"{}"


def test_check_reports_readable_and_unencrypted_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    token = tokens_dir(tmp_path) / "main.google.json"
    write_private(token, b"{}")
    assert check_tokens(tmp_path) == []
    token.chmod(0o644)
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    problems = check_tokens(tmp_path)
    assert any("readable by other users" in p and "chmod 600" in p for p in problems)
    assert any("not encrypted" in p for p in problems)


def test_a_bad_key_is_named_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "not-a-key")
    with pytest.raises(StateError, match="service new-key"):
        write_private(tmp_path / "t.json", b"{}")


def test_encrypted_google_and_microsoft_tokens_are_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.google.credentials import describe_credentials
    from connectors.microsoft.settings import SignInSettings, encode_settings, read_settings

    monkeypatch.setenv(KEY_VARIABLE, new_key())
    google = tokens_dir(tmp_path) / "main.google.json"
    write_private(
        google,
        b'{"refresh_token": "1//r", "client_id": "c", "client_secret": "s",'
        b' "scopes": ["https://www.googleapis.com/auth/gmail.send"]}',
    )
    line = describe_credentials(google)
    assert "gmail.send" in line
    assert "encrypted at rest" in line
    microsoft = tokens_dir(tmp_path) / "main.microsoft.json"
    write_private(microsoft, encode_settings(SignInSettings("client-id", "consumers")))
    assert is_encrypted(microsoft.read_bytes())
    assert read_settings(microsoft, "main").client_id == "client-id"
    monkeypatch.delenv(KEY_VARIABLE)
    assert "encrypted but no key is set" in describe_credentials(google)


def test_a_database_from_a_newer_release_is_refused_not_damaged(tmp_path: Path) -> None:
    import sqlite3

    from worker.store.db import DATABASE_NAME, open_database

    open_database(tmp_path).close()
    with sqlite3.connect(tmp_path / DATABASE_NAME) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="newer than this release"):
        open_database(tmp_path)
    with sqlite3.connect(tmp_path / DATABASE_NAME) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 99
