"""The fee a forfeit states, written as the client's locale writes money (Babel)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from tests.notices.test_wording import facts
from worker.config import Policy, Practitioner
from worker.model import Money
from worker.notices.wording import notice_variables

SIXTY = Decimal("60.00")


def practitioner(language: str, locale: str, zone: str) -> Practitioner:
    return Practitioner(
        name="Dana Rivera",
        email="dana@riveracoaching.example",
        language=language,
        locale=locale,
        time_zone=zone,
        payment_link=" https://pay.example/dana ",
    )


@pytest.mark.parametrize(
    ("language", "locale", "zone", "currency", "written"),
    [
        ("en", "en_GB", "Europe/London", "GBP", "£60.00"),
        ("en", "en_US", "America/New_York", "USD", "$60.00"),
        ("es", "es_ES", "Europe/Madrid", "EUR", "60,00\xa0€"),
        ("es", "es_MX", "America/Mexico_City", "MXN", "$60.00"),
        ("es", "es_MX", "America/Mexico_City", "USD", "USD60.00"),
        ("es-MX", "es_ES", "America/Mexico_City", "MXN", "$60.00"),
        ("es", "es_ES", "Europe/Madrid", "GBP", "60,00\xa0GBP"),
    ],
)
def test_the_fee_is_written_in_the_clients_locale(
    language: str, locale: str, zone: str, currency: str, written: str
) -> None:
    who = practitioner(language.split("-")[0], locale, zone)
    forfeit = facts(kind="forfeit", language=language, time_zone=zone, fee=Money(SIXTY, currency))
    variables = notice_variables(forfeit, who, Policy())
    assert variables["fee"] == written
    assert variables["payment_link"] == "https://pay.example/dana"


def test_no_fee_is_an_empty_string_and_the_last_session_is_flagged() -> None:
    who = practitioner("en", "en_GB", "Europe/London")
    variables = notice_variables(facts(prepaid_balance=1), who, Policy())
    assert variables["fee"] == ""
    assert variables["last_prepaid_session"] is True
    fewer = notice_variables(dataclasses.replace(facts(), prepaid_balance=None), who, Policy())
    assert fewer["last_prepaid_session"] is False
