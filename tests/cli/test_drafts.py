"""Drafts mode and Sent copies for an SMTP account, through the installed script, against a
real SMTP server (aiosmtpd) and a real IMAP server (Dovecot)."""

from __future__ import annotations

import re
import sqlite3

from tests.cli.practice import LUCIA, PRIYA, SAM, Practice
from tests.servers.imap import DRAFTS_FOLDER, PASSWORD, SENT_FOLDER, USER, ImapServer
from tests.servers.smtp import SmtpServer, free_port
from worker.config import load_config
from worker.model import REF_HEADER
from worker.private_files import write_private
from worker.wiring import smtp_password_path

FILE_SENDER = 'sender = { provider = "file", folder = "outbox" }'
FIX = "fairwarning auth smtp --account main"


def _use_smtp(
    practice: Practice,
    env: dict[str, str],
    smtp_server: SmtpServer,
    imap_port: int,
    *,
    mode: str,
    password: str = PASSWORD,
) -> None:
    """Dana's account sends through SMTP and keeps copies over IMAP; its password stored."""
    ca = practice.folder / "ca.pem"
    smtp_server.ca.cert_pem.write_to_path(str(ca))
    env["SSL_CERT_FILE"] = str(ca)
    sender = (
        f'sender = {{ provider = "smtp", host = "127.0.0.1", port = {smtp_server.port}, '
        f'username = "{USER}", timeout = "5s", save_to_sent = true, insecure_plaintext = true, '
        f'imap = {{ host = "127.0.0.1", port = {imap_port}, security = "none" }} }}'
    )
    text = practice.config.read_text(encoding="utf-8")
    assert FILE_SENDER in text or "save_to_sent" in text
    text = re.sub(r"(?m)^sender = .*$", lambda _: sender, text)
    text = re.sub(r'(?m)^mode = ".*"$', f'mode = "{mode}"', text)
    practice.config.write_text(text, encoding="utf-8")
    _store_password(practice, password)


def _store_password(practice: Practice, password: str) -> None:
    write_private(smtp_password_path(load_config(practice.config)[0], "main"), password.encode())


def _to_clients(smtp_server: SmtpServer) -> list[str]:
    return [r for m in smtp_server.messages for r in m.recipients if r != USER]


def _outbox(practice: Practice, columns: str) -> list[sqlite3.Row]:
    """The late-cancellation notices (welcomes aside), oldest first."""
    with sqlite3.connect(practice.database) as db:
        db.row_factory = sqlite3.Row
        sql = f"SELECT {columns} FROM outbox WHERE decision_id IS NOT NULL ORDER BY id"
        return list(db.execute(sql))


def test_a_notice_becomes_one_draft_and_nothing_is_sent(
    practice: Practice, env: dict[str, str], smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    _use_smtp(practice, env, smtp_server, imap_server.port, mode="drafts")
    practice.client_acts(SAM)
    practice.cycle()
    [draft] = imap_server.messages(DRAFTS_FOLDER)
    assert draft["To"].addresses[0].addr_spec == SAM.client
    assert _to_clients(smtp_server) == []
    assert practice.case_of(SAM.client)["notice_state"] == "drafted"
    status = " ".join(practice("status").stdout.split())
    assert "1 draft waiting in your mailbox: send them from your Drafts folder" in status
    assert "sent" not in status.split("notices:")[1].split("1 draft")[0]


def test_a_crash_between_the_draft_and_its_record_makes_no_second_draft(
    practice: Practice, env: dict[str, str], smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    _use_smtp(practice, env, smtp_server, imap_server.port, mode="drafts")
    practice.client_acts(SAM)
    practice.cycle()
    # The worker died after the APPEND, before writing `drafted`: the row is still `sending`.
    with sqlite3.connect(practice.database) as db:
        db.execute(
            "UPDATE outbox SET state = 'sending' WHERE state = 'drafted' AND decision_id NOT NULL"
        )
    after = practice.cycle(expect=1)
    assert "stopped while putting it in your Drafts folder" in after.stdout
    [row] = _outbox(practice, "ref, state")
    assert row["state"] == "unknown"
    approved = practice("approve", row["ref"])
    assert approved.returncode == 0, approved.stdout + approved.stderr
    practice.cycle()
    [draft] = imap_server.messages(DRAFTS_FOLDER)
    assert draft[REF_HEADER] == row["ref"]
    assert [r["state"] for r in _outbox(practice, "state")] == ["drafted"]


def test_a_wrong_password_pauses_drafting_and_names_the_fix(
    practice: Practice, env: dict[str, str], smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    _use_smtp(practice, env, smtp_server, imap_server.port, mode="drafts", password="old")
    practice.client_acts(LUCIA)
    done = practice.cycle(expect=1)
    assert f"refused the login for {USER}" in done.stdout
    assert FIX in done.stdout
    status = " ".join(practice("status").stdout.split())
    assert "SENDING PAUSED" in status
    assert f"store the right password with: {FIX}" in status
    assert imap_server.messages(DRAFTS_FOLDER) == []
    assert [r["state"] for r in _outbox(practice, "state")] == ["queued"]


def test_an_unreachable_mailbox_keeps_the_notice_until_it_answers(
    practice: Practice, env: dict[str, str], smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    _use_smtp(practice, env, smtp_server, free_port(), mode="drafts")
    practice.client_acts(SAM)
    practice.cycle()
    [row] = _outbox(practice, "ref, state, detail")
    assert row["state"] == "queued"
    assert "not drafted yet: could not reach IMAP 127.0.0.1" in row["detail"]
    _use_smtp(practice, env, smtp_server, imap_server.port, mode="drafts")
    with sqlite3.connect(practice.database) as db:  # its retry time has come
        db.execute("UPDATE outbox SET not_before = '2000-01-01T00:00:00+00:00'")
    practice.cycle()
    drafts = imap_server.messages(DRAFTS_FOLDER)
    assert [d[REF_HEADER] for d in drafts].count(row["ref"]) == 1
    assert [r["state"] for r in _outbox(practice, "state")] == ["drafted"]


def test_a_sent_notice_is_copied_to_sent_and_a_failed_copy_is_a_warning(
    practice: Practice, env: dict[str, str], smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    _use_smtp(practice, env, smtp_server, imap_server.port, mode="auto")
    practice.client_acts(SAM)
    practice.cycle()
    [sent] = [m for m in smtp_server.messages if SAM.client in m.recipients]
    [copy] = imap_server.messages(SENT_FOLDER)
    assert copy["Message-ID"] == sent.message["Message-ID"]
    assert copy[REF_HEADER] == sent.message[REF_HEADER]

    _use_smtp(practice, env, smtp_server, free_port(), mode="auto")  # IMAP goes away
    practice.client_acts(LUCIA)
    done = practice.cycle(expect=1)
    assert "sent, but no copy was saved in your Sent folder" in done.stdout
    assert len(imap_server.messages(SENT_FOLDER)) == 1
    states = [r["state"] for r in _outbox(practice, "state")]
    assert states == ["sent", "sent"]
    status = " ".join(practice("status").stdout.split())
    assert "warning: notice" in status
    assert "no copy was saved in your Sent folder" in status
    practice.cycle(expect=0)  # nothing resent
    assert len([m for m in smtp_server.messages if LUCIA.client in m.recipients]) == 1


def test_drafts_mode_with_a_file_sender_is_refused_with_the_fix(practice: Practice) -> None:
    text = practice.config.read_text(encoding="utf-8").replace('mode = "auto"', 'mode = "drafts"')
    practice.config.write_text(text, encoding="utf-8")
    done = practice("status")
    assert done.returncode != 0
    assert 'account main sends with provider = "file"' in done.stderr + done.stdout
    assert 'set policy.mode = "review"' in done.stderr + done.stdout


def test_approving_in_drafts_mode_says_the_notice_goes_to_drafts(
    practice: Practice, env: dict[str, str], smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    _use_smtp(practice, env, smtp_server, imap_server.port, mode="drafts")
    practice.client_acts(PRIYA)  # "in hospital": waits for Dana whatever the mode
    practice.cycle(expect=1)
    case = practice.case_of(PRIYA.client)["id"]
    approved = practice("approve", str(case))
    assert approved.returncode == 0, approved.stderr
    assert "will be put in your Drafts folder" in " ".join(approved.stdout.split())
    assert "will go out" not in approved.stdout


def test_waiving_a_drafted_case_says_to_delete_the_draft(
    practice: Practice, env: dict[str, str], smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    _use_smtp(practice, env, smtp_server, imap_server.port, mode="drafts")
    practice.client_acts(SAM)
    practice.cycle()
    case = practice.case_of(SAM.client)
    waived = practice("waive", str(case["id"]))
    said = " ".join(waived.stdout.split())
    assert f"its notice {case['ref']} is a draft in your mailbox: delete that draft" in said
    assert "nothing will be sent" not in said
