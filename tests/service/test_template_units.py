"""`fairwarning --practices DIR service install`: template units for a folder of practices."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.folder import add_practice
from tests.cli.practice import environment, runner
from worker.config.folder import read_folder
from worker.service.template_units import template_for

HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "UMask=0077")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dana (her own state_dir, a templates folder) and eli (no state_dir: the default root)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    folder = tmp_path / "practices"
    folder.mkdir()
    run = runner(environment(tmp_path / "home"))
    now = datetime.now(UTC)
    add_practice(folder, "dana", now, run, top='templates_dir = "dana/notices"\n')
    add_practice(folder, "eli", now, run)
    eli = folder / "eli.toml"
    eli.write_text(eli.read_text().replace('state_dir = "eli/state"\n', ""), encoding="utf-8")
    return folder


def _verified(text: str, instance: Path) -> None:
    """systemd accepts the template as the instance it will run."""
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run .ci/system-deps"
    instance.write_text(text, encoding="utf-8")
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(instance)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [line for line in verified.stderr.splitlines() if instance.name in line]
    assert verified.returncode == 0, verified.stderr
    assert complaints == [], verified.stderr


def test_one_template_serves_every_practice_of_the_folder(folder: Path, tmp_path: Path) -> None:
    unit = template_for(folder, read_folder(folder), user=False, key_file=None, web=False)
    assert unit.name == "fairwarning@.service"
    assert "Description=Fair Warning worker %i: " in unit.text
    assert f" --practices {folder} run\n" in unit.text
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit.text, "SIGHUP rereads the folder"
    for setting in HARDENING:
        assert setting in unit.text
    default_root = tmp_path / "xdg-state" / "fairwarning" / "practices"
    for path in (folder / "dana" / "state", folder / "dana" / "outbox", default_root):
        assert f"ReadWritePaths=-{path}\n" in unit.text
    assert f"ReadWritePaths=-{folder / 'eli' / 'outbox'}\n" in unit.text
    assert f"{folder / 'dana' / 'notices'}" not in unit.text, "only the console saves notices"
    assert unit.commands[1] == "systemctl enable --now fairwarning@1.service"
    assert "PostgreSQL" in str(unit.note)
    _verified(unit.text, tmp_path / "fairwarning@1.service")


def test_each_practice_console_is_an_instance_of_the_web_template(
    folder: Path, tmp_path: Path
) -> None:
    unit = template_for(folder, read_folder(folder), user=True, key_file=None, web=True)
    assert unit.name == "fairwarning-web@.service"
    assert f" --practices {folder} --practice %i web\n" in unit.text
    assert "ExecReload" not in unit.text
    assert "StateDirectory" not in unit.text, "a user unit"
    for path in (folder / "dana" / "state", folder / "dana" / "notices"):
        assert f"ReadWritePaths=-{path}\n" in unit.text
    assert f"ReadWritePaths=-{tmp_path / 'xdg-state' / 'fairwarning' / 'practices'}" in unit.text
    assert unit.commands[1] == "systemctl --user enable --now fairwarning-web@dana.service"
    assert "--practice dana web set-password" in str(unit.note)
    _verified(unit.text, tmp_path / "fairwarning-web@dana.service")


def test_service_install_with_a_folder_prints_then_writes_the_template(
    folder: Path, tmp_path: Path
) -> None:
    env = environment(tmp_path / "home")
    run = runner(env)
    (folder / "Broken.toml").write_text("", encoding="utf-8")
    shown = run("--practices", folder, "service", "install", "--user", "--print")
    assert shown.returncode == 0, shown.stderr
    assert f"--practices {folder} run" in shown.stdout
    assert "practice Broken skipped" in shown.stderr
    units = Path(env["XDG_CONFIG_HOME"]) / "systemd" / "user"
    assert not units.exists()
    done = run("--practices", folder, "service", "install", "--user")
    assert done.returncode == 0, done.stderr
    assert (units / "fairwarning@.service").exists()
    assert "systemctl --user enable --now fairwarning@1.service" in done.stdout
    assert "PostgreSQL" in done.stdout
    web = run("--practices", folder, "service", "install", "--user", "--web")
    assert web.returncode == 0, web.stderr
    assert "--practice %i web" in (units / "fairwarning-web@.service").read_text()
    assert "enable --now fairwarning-web@dana.service" in web.stdout
    one = run("--practices", folder, "--practice", "dana", "service", "install", "--print")
    assert one.returncode == 2, "the templates serve the whole folder"
    assert "leave out --practice" in one.stderr
