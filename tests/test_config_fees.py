"""`policy.fee`, a client's `fee` and `practitioner.payment_link`, and the mistakes in them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from worker.clients import load_directory, read_clients_csv
from worker.config import Config, parse_config
from worker.errors import ConfigError
from worker.model import Money

BASE = """
[practitioner]
name = "Dana Rivera"
email = "dana@riveracoaching.example"
payment_link = "https://pay.example/dana"

[policy]
{fee}

[[accounts]]
name = "main"
calendar = {{ provider = "local", path = "cal" }}
sender = {{ provider = "file", folder = "out" }}

[[clients]]
email = "sam@example.org"
{client_fee}
"""


def config_text(fee: str = "", client_fee: str = "") -> str:
    return BASE.format(fee=fee, client_fee=client_fee)


def parsed(tmp_path: Path, text: str) -> tuple[Config, list[str]]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


def test_a_policy_fee_and_a_clients_own_fee(tmp_path: Path) -> None:
    config, _ = parsed(
        tmp_path,
        config_text(
            'fee = { amount = "60.00", currency = "gbp" }',
            'fee = { amount = "45", currency = "EUR" }',
        ),
    )
    assert config.policy.fee is not None
    assert config.policy.fee.money() == Money(Decimal("60.00"), "GBP")
    assert config.practitioner.payment_link == "https://pay.example/dana"
    client = load_directory(config).by_email("sam@example.org")
    assert client is not None
    assert client.fee == Money(Decimal("45"), "EUR")


@pytest.mark.parametrize(
    ("fee", "said"),
    [
        ('fee = { amount = "60.00" }', "a fee needs an amount and a currency"),
        ('fee = { amount = "-5", currency = "GBP" }', "a fee cannot be '-5'"),
        ('fee = { amount = "sixty", currency = "GBP" }', "'sixty' is not an amount"),
        ('fee = { amount = "60", currency = "POUNDS" }', "'POUNDS' is not a currency"),
    ],
)
def test_a_wrong_fee_names_the_key_and_the_right_form(tmp_path: Path, fee: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parsed(tmp_path, config_text(fee))
    message = caught.value.message
    assert "policy.fee" in message
    assert said in message
    assert 'fee = { amount = "60.00", currency = "GBP" }' in message


def test_a_fee_in_the_client_csv(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "email,name,fee\nsam@example.org,Sam,60.00 GBP\nana@example.org,Ana,-1 EUR\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        read_clients_csv(path)
    assert f"{path}:3: fee" in caught.value.message
    assert "a fee cannot be '-1'" in caught.value.message
