"""The configuration: typed, frozen sections (practice, accounts) read from one TOML file."""

from worker.config.accounts import (
    Account,
    CalDavCalendarSettings,
    FileSenderSettings,
    GmailSenderSettings,
    GoogleCalendarSettings,
    ImapSettings,
    LocalCalendarSettings,
    MicrosoftCalendarSettings,
    OutlookSenderSettings,
    SmtpSettings,
)
from worker.config.alerts import AlertSettings, SendmailSettings, WebhookSettings
from worker.config.file import Config, default_config_path, json_schema, load_config, parse_config
from worker.config.practice import ClientEntry, Policy, Practitioner, QuietHours
from worker.config.workers import WorkerSettings

__all__ = [
    "Account",
    "AlertSettings",
    "CalDavCalendarSettings",
    "ClientEntry",
    "Config",
    "FileSenderSettings",
    "GmailSenderSettings",
    "GoogleCalendarSettings",
    "ImapSettings",
    "LocalCalendarSettings",
    "MicrosoftCalendarSettings",
    "OutlookSenderSettings",
    "Policy",
    "Practitioner",
    "QuietHours",
    "SendmailSettings",
    "SmtpSettings",
    "WebhookSettings",
    "WorkerSettings",
    "default_config_path",
    "json_schema",
    "load_config",
    "parse_config",
]
