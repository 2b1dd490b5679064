"""A real IMAP server (Dovecot from Debian) on 127.0.0.1, started once per test session.

It runs unprivileged with a configuration of its own in a temporary folder (it ignores
/etc/dovecot). The Sent folder is called "Sent Messages" and flagged `\\Sent`, so a test
proves the folder is found by its SPECIAL-USE flag, not by the usual name. `reset` empties
the mailbox between tests; `messages` reads a folder back through imaplib.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.servers.smtp import PASSWORD, USER, free_port

# The SMTP server's login: an account's IMAP mailbox logs in with the stored SMTP password.
__all__ = ["PASSWORD", "USER", "ImapServer", "start_imap", "stop_imap"]
SENT_FOLDER, DRAFTS_FOLDER = "Sent Messages", "Drafts"
NOBODY = 65534  # Dovecot refuses UID 0 for a mail user

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
  mailbox "Sent Messages" {{
    special_use = \\Sent
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class ImapServer:
    """The running Dovecot: where it listens and whose mailbox it holds."""

    port: int
    root: Path

    def reset(self) -> None:
        """Empty every folder of the test mailbox (the folders come back on the next login)."""
        shutil.rmtree(self.root / "mail" / USER, ignore_errors=True)

    def messages(self, folder: str) -> list[EmailMessage]:
        """Every message in `folder`, as the server stored it."""
        with imaplib.IMAP4("127.0.0.1", self.port, timeout=10) as client:
            client.login(USER, PASSWORD)
            client.select(f'"{folder}"', readonly=True)
            _, found = client.uid("SEARCH", "ALL")
            found_messages = []
            for uid in found[0].split():
                _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = data[0][1] if isinstance(data[0], tuple) else b""
                parsed = message_from_bytes(raw, policy=policy.default)
                assert isinstance(parsed, EmailMessage)
                found_messages.append(parsed)
            return found_messages


def start_imap() -> tuple[ImapServer, subprocess.Popen[bytes]]:
    """Dovecot in the foreground, answering on a free port; the caller stops it.

    Its folder is made outside pytest's private temporary tree: Dovecot's auth process runs
    as the `dovecot` user and must reach the users file.
    """
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="fw-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir(parents=True)
    os.chown(root / "mail", NOBODY, NOBODY)
    (root / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{NOBODY}:{NOBODY}::{root}/mail/{USER}\n", encoding="utf-8"
    )
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port), encoding="utf-8")
    process = subprocess.Popen([dovecot, "-F", "-c", str(config)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            stderr = process.stderr.read().decode() if process.stderr else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"dovecot stopped at start: {stderr}{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    return ImapServer(port, root), process
        except OSError:
            time.sleep(0.1)
    stop_imap(process, ImapServer(port, root))
    raise RuntimeError(f"dovecot did not answer on port {port} within 15 s")


def stop_imap(process: subprocess.Popen[bytes], server: ImapServer) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr:
        process.stderr.close()
    shutil.rmtree(server.root, ignore_errors=True)
