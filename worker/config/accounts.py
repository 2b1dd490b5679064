"""Where each account's sessions are read from and its notices sent through."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

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


CalendarSettings = Annotated[
    LocalCalendarSettings | GoogleCalendarSettings | MicrosoftCalendarSettings,
    Field(discriminator="provider"),
]
SenderSettings = Annotated[
    FileSenderSettings | GmailSenderSettings | OutlookSenderSettings,
    Field(discriminator="provider"),
]


class Account(Section):
    """One calendar watched and the mailbox that sends its notices."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Short name, e.g. 'main'.")
    calendar: CalendarSettings
    sender: SenderSettings
