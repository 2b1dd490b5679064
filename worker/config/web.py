"""The `[web]` table: where the practitioner's console listens and how it is reached."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from worker.config.fields import Duration, Section


class WebSettings(Section):
    """The console (`fairwarning web`): on this machine only, unless told otherwise."""

    host: str = Field(
        "127.0.0.1",
        description="Address to listen on; keep 127.0.0.1 and reach it through an SSH tunnel "
        "or a reverse proxy with TLS.",
    )
    port: int = Field(8465, ge=1, le=65535, description="Port to listen on.")
    public_url: str = Field(
        "",
        description="The console's address as you open it, e.g. 'https://console.example.org'; "
        "the daily digest links each case there, and https makes the session cookie Secure.",
    )
    idle_timeout: Duration = Field(
        timedelta(minutes=30), description="You are logged out after this long without a click."
    )

    @field_validator("public_url")
    @classmethod
    def _an_address(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(
                f"{value!r} is not a web address; write it as https://your.host (with https://)"
            )
        return value.rstrip("/")

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")
