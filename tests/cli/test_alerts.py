"""`fairwarning alerts` and what `check` says about the route alerts take."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from worker.cli.demo import write_config
from worker.cli.main import main
from worker.private_files import read_private

RELAY = """
[alerts.via]
provider = "smtp"
host = "smtp.fastmail.com"
port = 465
security = "tls"
username = "dana@riveracoaching.example"
"""


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = write_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_check_warns_when_alerts_can_only_use_the_accounts_own_mailbox(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["--config", str(_config(tmp_path)), "check"])
    assert "alerts go to dana@riveracoaching.example through the account's own mailbox" in (
        done.output
    )
    assert "warning: alerts can only travel through account main's own mailbox" in done.output


def test_a_relay_without_a_stored_password_is_a_problem_with_the_command(
    tmp_path: Path,
) -> None:
    done = CliRunner().invoke(main, ["--config", str(_config(tmp_path, RELAY)), "check"])
    assert done.exit_code == 1
    assert "no password stored for dana@riveracoaching.example at smtp.fastmail.com" in (
        done.output
    )
    assert "fairwarning alerts set-password" in done.output
    assert "warning:" not in done.output


def test_set_password_stores_it_privately_and_never_echoes_it(tmp_path: Path) -> None:
    config = _config(tmp_path, RELAY)
    done = CliRunner().invoke(
        main, ["--config", str(config), "alerts", "set-password"], input="s3cret-app-pw\n"
    )
    assert done.exit_code == 0, done.output
    assert "s3cret-app-pw" not in done.output
    [stored] = (tmp_path / "state" / "tokens").glob("alerts.smtp-password")
    assert read_private(stored) == b"s3cret-app-pw"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    done = CliRunner().invoke(main, ["--config", str(config), "alerts", "route"])
    assert done.exit_code == 0
    assert "through smtp (smtp.fastmail.com)" in done.output


def test_set_password_without_a_relay_says_what_to_configure(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        main, ["--config", str(_config(tmp_path)), "alerts", "set-password"], input="x\n"
    )
    assert done.exit_code == 2
    assert 'set provider = "smtp" first' in done.output


def test_plaintext_smtp_is_refused_unless_asked_for(tmp_path: Path) -> None:
    plain = RELAY.replace('security = "tls"', 'security = "none"')
    done = CliRunner().invoke(main, ["--config", str(_config(tmp_path, plain)), "check"])
    assert done.exit_code == 2
    assert "set insecure_plaintext = true for a relay on this machine" in done.output


def test_an_smtp_account_named_alerts_cannot_share_the_relays_password(tmp_path: Path) -> None:
    path = _config(tmp_path, RELAY)
    text = path.read_text(encoding="utf-8")
    text = text.replace('name = "main"', 'name = "alerts"').replace(
        'sender = { provider = "file", folder = "outbox" }',
        'sender = { provider = "smtp", host = "smtp.fastmail.com", port = 465, '
        'security = "tls", username = "dana@riveracoaching.example" }',
    )
    path.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert done.exit_code == 1
    assert "account alerts: this name would share its stored SMTP password" in done.output
