"""Where each account's sessions are read from and its notices sent through."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from worker.config.fields import Duration, Section


class LocalCalendarSettings(Section):
    """A vdir folder (one .ics per event) or a single .ics file."""

    provider: Literal["local"]
    path: Path = Field(description="Folder of .ics files, or one .ics file.")


GRAPH_URL = "https://graph.microsoft.com/v1.0"


class GoogleCalendarSettings(Section):
    """A Google calendar, read through the Calendar API after `fairwarning auth google`."""

    provider: Literal["google"]
    calendar_id: str = Field("primary", description="Calendar to watch; 'primary' is yours.")
    api_endpoint: str | None = Field(
        None, description="Another Calendar API endpoint (testing or a private endpoint)."
    )
    timeout: Duration = Field(
        timedelta(seconds=30), description="Longest wait for one answer while reading the calendar."
    )


class MicrosoftCalendarSettings(Section):
    """A Microsoft 365 / Outlook.com calendar, after `fairwarning auth microsoft`."""

    provider: Literal["microsoft"]
    past: Duration = Field(timedelta(days=1), description="How far back the watched window goes.")
    ahead: Duration = Field(timedelta(days=60), description="How far ahead it goes.")
    graph_url: str = Field(GRAPH_URL, description="Graph endpoint (national clouds differ).")
    timeout: Duration = Field(
        timedelta(seconds=30), description="Longest wait for one answer while reading the calendar."
    )


class CalDavCalendarSettings(Section):
    """A CalDAV calendar (iCloud, Fastmail, Nextcloud…), after `fairwarning auth caldav`."""

    provider: Literal["caldav"]
    url: str = Field(
        description="The calendar's address, as `fairwarning auth caldav … --list-calendars` "
        "shows it."
    )
    past: Duration = Field(timedelta(days=7), description="How far back the watched window goes.")
    ahead: Duration = Field(timedelta(days=60), description="How far ahead it goes.")
    sync_collection: bool = Field(
        True,
        description="Ask only for changes (sync-collection) where the server offers it; false "
        "compares the calendar's ctag and etags instead (for a server whose sync is broken).",
    )
    timeout: Duration = Field(
        timedelta(seconds=30), description="Longest wait for one answer while reading the calendar."
    )

    @field_validator("url")
    @classmethod
    def _https(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                f"{url!r} is not a calendar address; copy one from `fairwarning auth caldav "
                "--account NAME --url URL --username USER --list-calendars`"
            )
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                f"{url!r} would send the password unencrypted; use https:// "
                "(plain http only for a server on this machine)"
            )
        return url.strip()


class FileSenderSettings(Section):
    """Writes each notice as an .eml (and .html) file instead of sending it."""

    provider: Literal["file"]
    folder: Path = Field(description="Where the .eml files are written.")


class GmailSenderSettings(Section):
    """Sends through the practitioner's Gmail, after `fairwarning auth google`."""

    provider: Literal["gmail"]
    api_endpoint: str | None = Field(
        None, description="Another Gmail API endpoint (testing or a private endpoint)."
    )
    timeout: Duration = Field(
        timedelta(seconds=30),
        description="Longest wait for the answer to a send; a send that times out is "
        "'unknown' (never resent blindly).",
    )


class OutlookSenderSettings(Section):
    """Sends through the practitioner's Outlook mailbox, after `fairwarning auth microsoft`."""

    provider: Literal["outlook"]
    graph_url: str = Field(GRAPH_URL, description="Graph endpoint (national clouds differ).")
    save_to_sent_items: bool = Field(True, description="Keep a copy in Sent Items.")
    timeout: Duration = Field(
        timedelta(seconds=30),
        description="Longest wait for the answer to a send; a send that times out is "
        "'unknown' (never resent blindly).",
    )


class ImapSettings(Section):
    """The IMAP side of an SMTP account's mailbox, for Sent copies and drafts.

    It logs in with the SMTP username and the stored SMTP password (one mailbox, one
    password); give `username` where the IMAP login differs (the password is still shared).
    """

    host: str = Field(
        "", description="Default: the SMTP host with 'smtp.' turned into 'imap.', else the same."
    )
    port: int = Field(0, ge=0, le=65535, description="Default: 993 for tls, 143 otherwise.")
    security: Literal["tls", "starttls", "none"] = Field(
        "tls", description="tls (port 993), starttls (port 143), or none (a local server only)."
    )
    username: str = Field("", description="Default: the SMTP username.")
    sent_folder: str = Field(
        "", description="Default: the folder the server flags \\Sent, else 'Sent'."
    )
    drafts_folder: str = Field(
        "", description="Default: the folder the server flags \\Drafts, else 'Drafts'."
    )

    def resolved_host(self, smtp_host: str) -> str:
        if self.host:
            return self.host
        return "imap." + smtp_host[5:] if smtp_host.startswith("smtp.") else smtp_host

    def resolved_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


class SmtpSettings(Section):
    """An SMTP server; its password is stored in the state directory, never here."""

    provider: Literal["smtp"]
    host: str = Field(description="The server, e.g. 'smtp.fastmail.com'.")
    port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS.")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="starttls (port 587), tls (implicit, port 465), or none: only for a "
        "relay on this machine, and only with insecure_plaintext = true.",
    )
    insecure_plaintext: bool = Field(
        False, description="Allow security = 'none' (a local relay such as 127.0.0.1:25)."
    )
    username: str = Field("", description="Login name; empty for a relay that needs none.")
    from_address: str = Field(
        "",
        description="Envelope sender (MAIL FROM); default: for alerts the username, else "
        "your email; for an account, your email.",
    )
    timeout: Duration = Field(
        timedelta(seconds=30), description="Longest wait for any one answer from the server."
    )
    save_to_sent: bool = Field(
        False,
        description="After each send, put a copy in your Sent folder over IMAP (see `imap`).",
    )
    imap: ImapSettings = Field(
        default_factory=ImapSettings,
        description="Your mailbox over IMAP, used for save_to_sent and drafts mode.",
    )

    @model_validator(mode="after")
    def _no_silent_plaintext(self) -> SmtpSettings:
        if self.security == "none" and not self.insecure_plaintext:
            raise ValueError(
                "security = 'none' sends the password and messages unencrypted; use "
                "'starttls' or 'tls', or set insecure_plaintext = true for a relay on this machine"
            )
        if self.imap.security == "none" and not self.insecure_plaintext:
            raise ValueError(
                "imap.security = 'none' sends the password unencrypted; use 'tls' or "
                "'starttls', or set insecure_plaintext = true for a server on this machine"
            )
        return self


CalendarSettings = Annotated[
    LocalCalendarSettings
    | GoogleCalendarSettings
    | MicrosoftCalendarSettings
    | CalDavCalendarSettings,
    Field(discriminator="provider"),
]
SenderSettings = Annotated[
    FileSenderSettings | GmailSenderSettings | OutlookSenderSettings | SmtpSettings,
    Field(discriminator="provider"),
]


class Account(Section):
    """One calendar watched and the mailbox that sends its notices."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Short name, e.g. 'main'.")
    calendar: CalendarSettings
    sender: SenderSettings
