"""`fairwarning check` catches what a practitioner gets wrong: the key, the line and the fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from worker.cli.checks import check_all
from worker.cli.main import main
from worker.cli.starter import write_starter
from worker.config import load_config

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _starter(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    write_starter(path)
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "session.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    return path


def _edited(path: Path, *changes: tuple[str, str]) -> Path:
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    config, _ = load_config(path)
    return check_all(config, NOW, path)


def _line(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if fragment in line)


def test_an_untouched_starter_config_names_every_placeholder_with_its_line(
    tmp_path: Path,
) -> None:
    path = _starter(tmp_path)
    problems = _problems(path)
    name = _line(path, 'name = "Your Name"')
    assert any(p.startswith(f"line {name}, practitioner.name: 'Your Name'") for p in problems)
    email = _line(path, 'email = "you@example.com"')
    assert any(
        p.startswith(f"line {email}, practitioner.email: 'you@example.com'") for p in problems
    )
    assert any("client@example.org is the starter's sample client" in p for p in problems)


def _mine(path: Path) -> Path:
    return _edited(
        path,
        ('name = "Your Name"', 'name = "Dana Rivera"'),
        ('email = "you@example.com"', 'email = "dana@riveracoaching.example"'),
        ('signature = "Your Name"', 'signature = "Dana"'),
        ('email = "client@example.org"', 'email = "sam@example.org"'),
    )


def test_a_config_filled_in_properly_has_no_problems(tmp_path: Path) -> None:
    assert _problems(_mine(_starter(tmp_path))) == []


def test_an_invalid_client_email_is_named_before_it_can_crash_a_preview(tmp_path: Path) -> None:
    path = _edited(
        _mine(_starter(tmp_path)), ('email = "sam@example.org"', 'email = "sam example.org"')
    )
    [problem] = _problems(path)
    assert problem == (
        f"line {_line(path, 'sam example.org')}, clients.0.email: 'sam example.org' is not an "
        "email address; write it as name@domain, e.g. sam@example.org"
    )


def test_a_client_listed_twice_is_named(tmp_path: Path) -> None:
    path = _mine(_starter(tmp_path))
    path.write_text(
        path.read_text() + '\n[[clients]]\nemail = "Sam@Example.org"\nname = "Sam T."\n'
    )
    [problem] = _problems(path)
    assert "clients.1.email: Sam@Example.org is listed twice (also clients.0)" in problem
    assert problem.startswith(f"line {_line(path, 'Sam@Example.org')}, ")


def test_a_calendar_folder_whose_events_are_in_a_subfolder_names_that_folder(
    tmp_path: Path,
) -> None:
    path = _mine(_starter(tmp_path))
    (tmp_path / "calendar" / "session.ics").unlink()
    inner = tmp_path / "calendar" / "personal" / "a1b2"
    inner.mkdir(parents=True)
    (inner / "event.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    [problem] = _problems(path)
    assert f"but {inner} does; set `path` to the calendar's own folder" in problem


def test_single_brace_and_unclosed_placeholders_in_a_template_are_caught(tmp_path: Path) -> None:
    path = _mine(_starter(tmp_path))
    mine = tmp_path / "templates" / "en" / "reminder.subject.j2"
    mine.write_text("About { session_date }\n")
    body = tmp_path / "templates" / "en" / "reminder.txt.j2"
    body.write_text("Hi {{ client_first_name },\n\nSee you.\n")
    problems = [p for p in _problems(path) if "is not a placeholder" in p]
    assert problems == [
        f"{mine}, line 1: '{{ session_date }}' is not a placeholder and would reach the client "
        "as written; write {{ session_date }}",
        f"{body}, line 1: '{{{{ client_first_name }}' is not a placeholder and would reach the "
        "client as written; write {{ client_first_name }}",
    ]


def test_strict_makes_an_unknown_key_a_problem(tmp_path: Path) -> None:
    path = _edited(_mine(_starter(tmp_path)), ('late_window = "24h"', 'late_windw = "24h"'))
    relaxed = CliRunner().invoke(main, ["--config", str(path), "check"])
    strict = CliRunner().invoke(main, ["--config", str(path), "check", "--strict"])
    assert relaxed.exit_code == 0, relaxed.output
    assert strict.exit_code == 1
    assert "unknown key 'policy.late_windw' ignored; did you mean `late_window`?" in strict.output


def test_a_mistyped_client_language_is_named_with_the_one_meant(tmp_path: Path) -> None:
    path = _edited(
        _mine(_starter(tmp_path)), ('language = "en"\ntime_zone', 'language = "sp"\ntime_zone')
    )
    [problem] = _problems(path)
    line = _line(path, 'language = "sp"')
    assert problem.startswith(f"line {line}, clients.0.language: ")
    assert "there are no templates for language 'sp'" in problem
    assert "available: en, es, es-formal" in problem
    assert problem.endswith("(did you mean 'es'?)")


def test_a_spanish_client_without_a_spanish_policy_text_is_named(tmp_path: Path) -> None:
    path = _edited(
        _mine(_starter(tmp_path)),
        ('language = "en"\ntime_zone', 'language = "es"\ntime_zone'),
        ("excerpt = ", 'excerpt = { en = "Sessions cancelled late are charged." }\n# was: '),
    )
    [problem] = _problems(path)
    assert problem.startswith(
        f"line {_line(path, 'excerpt = {')}, policy.excerpt: has no 'es' text"
    )
    assert "sam@example.org would read it in English" in problem


def test_check_says_which_style_the_templates_folder_uses(tmp_path: Path) -> None:
    path = _mine(_starter(tmp_path))
    done = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert "templates: one Markdown source per notice (.md.j2)" in done.output


def test_a_caldav_calendar_without_a_stored_login_is_named_with_the_command(
    tmp_path: Path,
) -> None:
    path = _edited(
        _mine(_starter(tmp_path)),
        (
            'calendar = { provider = "local", path = "calendar" }',
            'calendar = { provider = "caldav", url = "https://caldav.fastmail.com/dav/calendars/'
            'user/dana@riveracoaching.example/default/" }',
        ),
    )
    [problem] = [p for p in _problems(path) if "CalDAV" in p]
    assert problem.startswith("account main: no CalDAV login stored for https://caldav.fastmail")
    assert "`fairwarning auth caldav --account main --url https://caldav.fastmail.com" in problem
