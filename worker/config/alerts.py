"""Where alerts to the practitioner go, and by which route they travel."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Literal

from pydantic import Field

from worker.config.accounts import SmtpSettings
from worker.config.fields import Duration, Section


class WebhookSettings(Section):
    """A URL that takes a small JSON document (ntfy, Slack- or Matrix-style incoming hooks)."""

    provider: Literal["webhook"]
    url: str = Field(pattern=r"^https?://", description="Where each alert is POSTed as JSON.")
    timeout: Duration = Field(timedelta(seconds=15), description="Longest wait for an answer.")


class SendmailSettings(Section):
    """This machine's own mail system, through its sendmail program."""

    provider: Literal["sendmail"]
    path: str = Field("/usr/sbin/sendmail", description="The sendmail program.")
    timeout: Duration = Field(timedelta(seconds=30), description="Longest wait for it.")


AlertRouteSettings = Annotated[
    SmtpSettings | WebhookSettings | SendmailSettings, Field(discriminator="provider")
]


class AlertSettings(Section):
    """Messages to you when something needs you: a revoked token, an unknown send, a digest."""

    enabled: bool = Field(True, description="Send alerts at all.")
    to: str = Field("", description="Where alerts go; default: your practitioner email.")
    digest_at: time = Field(
        time(8, 0), description="When the daily list of cases waiting for review is sent."
    )
    via: AlertRouteSettings | None = Field(
        None,
        description="A route that does not depend on any account: an SMTP relay, a webhook "
        "or sendmail. Without it, alerts go through another working account, else the "
        "account's own mailbox.",
    )
