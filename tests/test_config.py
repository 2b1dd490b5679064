"""The configuration file: every problem named with its key path, unknown keys warned."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from worker.cli.starter import starter_text
from worker.clients import load_directory, read_clients_csv
from worker.config import json_schema, load_config, parse_config
from worker.errors import ConfigError

GOOD = """\
[practitioner]
name = "Dana Rivera"
email = "dana@example.com"
time_zone = "Europe/London"

[policy]
late_window = "12h"
hold = "5m"

[[accounts]]
name = "main"
calendar = { provider = "local", path = "calendar" }
sender = { provider = "file", folder = "outbox" }
"""


def test_a_minimal_file_gets_the_documented_defaults(tmp_path: Path) -> None:
    config, warnings = parse_config(GOOD, tmp_path / "config.toml")
    assert warnings == []
    assert config.policy.late_window == timedelta(hours=12)
    assert config.policy.lookback == timedelta(days=365)
    assert config.policy.steps == ("reminder", "forfeit")
    assert config.policy.mode == "review"
    assert config.accounts[0].calendar.path == tmp_path / "calendar"


def test_every_problem_is_reported_at_once_with_its_key_path_and_line(tmp_path: Path) -> None:
    bad = GOOD.replace('"12h"', '"twelve hours"').replace("Europe/London", "Mars/Olympus")
    with pytest.raises(ConfigError) as caught:
        parse_config(bad, tmp_path / "config.toml")
    message = caught.value.message
    assert "2 problem(s)" in message
    assert "line 7, policy.late_window: 'twelve hours' is not a duration" in message
    assert "line 4, practitioner.time_zone: 'Mars/Olympus' is not a time zone" in message


def test_missing_required_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("[practitioner]\nname = 'Dana'\n", tmp_path / "c.toml")
    assert "practitioner.email: required but missing" in caught.value.message
    assert "accounts: required but missing" in caught.value.message


def test_unknown_keys_are_warned_not_fatal(tmp_path: Path) -> None:
    text = GOOD.replace('hold = "5m"', 'hold = "5m"\nlate_windw = "2h"')
    config, warnings = parse_config(text, tmp_path / "config.toml")
    assert config.policy.late_window == timedelta(hours=12)
    assert warnings == [
        f"{tmp_path / 'config.toml'}:9: unknown key 'policy.late_windw' ignored; "
        "did you mean `late_window`?"
    ]


def test_an_unknown_key_with_no_near_name_gets_no_guess(tmp_path: Path) -> None:
    text = GOOD.replace('hold = "5m"', 'hold = "5m"\nfavourite_colour = "teal"')
    _, [warning] = parse_config(text, tmp_path / "config.toml")
    assert warning.endswith("unknown key 'policy.favourite_colour' ignored")


@pytest.mark.parametrize(
    ("written", "line", "hint"),
    [
        ("late_window = 24h", "late_window = 24h", 'A duration needs quotes: late_window = "24h".'),
        ("hold = 10 m", "hold = 10 m", 'A duration needs quotes: hold = "10m".'),
        ("[policy.quiet_hours]\nstart = 21:00", "start = 21:00", '"21:00"'),
        ("name = Dana Rivera", "name = Dana Rivera", 'Text needs quotes: name = "Dana Rivera".'),
        ('name = "Dana', 'name = "Dana', "Close the quotes"),
        ("[policy\nhold = '5m'", "[policy", "A section header is closed with ']'"),
    ],
)
def test_toml_mistakes_are_explained_with_the_line_and_the_right_form(
    tmp_path: Path, written: str, line: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as problem:
        parse_config(written, tmp_path / "config.toml")
    assert repr(line) in problem.value.message
    assert hint in problem.value.message
    assert problem.value.message.startswith(f"{tmp_path / 'config.toml'}: line ")


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 2"):
        parse_config("[practitioner]\nname = Dana\n", tmp_path / "config.toml")


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fairwarning init"):
        load_config(tmp_path / "nowhere.toml")


def test_duplicate_account_names_are_refused(tmp_path: Path) -> None:
    account = GOOD[GOOD.index("[[accounts]]") :]
    with pytest.raises(ConfigError, match="repeated: main"):
        parse_config(GOOD + "\n" + account, tmp_path / "config.toml")


def test_the_starter_file_is_valid_and_complete(tmp_path: Path) -> None:
    config, warnings = parse_config(starter_text(), tmp_path / "config.toml")
    assert warnings == []
    assert config.policy.quiet_hours is not None
    assert config.clients[0].prepaid_balance == 10


def test_schema_describes_every_section() -> None:
    schema = json_schema()
    json.dumps(schema)
    assert {"practitioner", "policy", "accounts", "clients"} <= set(schema["properties"])


def test_clients_from_csv_join_the_directory(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(
        "email,name,aliases,language,exempt,prepaid_balance\n"
        "Ana@Example.org,Ana Ruiz,Anita;AR,es,no,3\n"
        "ben@example.org,Ben Oduya,,,yes,\n",
        encoding="utf-8",
    )
    config, _ = parse_config('clients_csv = "clients.csv"\n' + GOOD, tmp_path / "c.toml")
    directory = load_directory(config)
    ana = directory.by_email("ana@example.org")
    assert ana is not None
    assert (ana.name, ana.aliases, ana.language, ana.prepaid_balance) == (
        "Ana Ruiz",
        ("Anita", "AR"),
        "es",
        3,
    )
    ben = directory.by_email("BEN@example.org")
    assert ben is not None
    assert ben.exempt
    assert [c.email for c in directory.named_in("Coaching – Anita")] == ["ana@example.org"]


def test_bad_csv_rows_are_all_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "email,name,prepaid_balance,time_zone\n"
        "a@example.org,A,-1,\n"
        "b@example.org,B,,Nowhere/Land\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        read_clients_csv(path)
    assert f"{path}:2: prepaid_balance" in caught.value.message
    assert f"{path}:3: time_zone" in caught.value.message


def test_policy_excerpt_can_be_written_per_language(tmp_path: Path) -> None:
    text = GOOD.replace(
        'hold = "5m"',
        'hold = "5m"\nexcerpt = { en = "24 hours or it is charged.", es = "24 horas o se cobra." }',
    )
    config, _ = parse_config(text, tmp_path / "config.toml")
    assert config.policy.excerpt_for("es") == "24 horas o se cobra."
    assert config.policy.excerpt_for("es-MX") == "24 horas o se cobra."
    assert config.policy.excerpt_for("fr") == "24 hours or it is charged."
