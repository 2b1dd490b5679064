"""Where alerts to the practitioner go, and by which route they travel."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from worker.config.fields import Duration, Section


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
        "", description="Envelope sender; default: the username, else your email."
    )
    timeout: Duration = Field(
        timedelta(seconds=30), description="Longest wait for any one answer from the server."
    )

    @model_validator(mode="after")
    def _no_silent_plaintext(self) -> SmtpSettings:
        if self.security == "none" and not self.insecure_plaintext:
            raise ValueError(
                "security = 'none' sends the password and messages unencrypted; use "
                "'starttls' or 'tls', or set insecure_plaintext = true for a relay on this machine"
            )
        return self


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
