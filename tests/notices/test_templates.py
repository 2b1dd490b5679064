"""The notice templates: packaged wording, the practitioner's overrides, and every error."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from worker.config import Policy, Practitioner
from worker.errors import TemplateError
from worker.notices.templates import RenderedNotice, TemplateLibrary
from worker.notices.wording import notice_variables, sample_facts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANA = Practitioner(
    name="Ana Ruiz",
    email="ana@coach.example",
    time_zone="Europe/Madrid",
    booking_link="https://cal.example/ana",
    signature="Warmly,\nAna",
)
POLICY = Policy(excerpt="Sessions cancelled with less than 24 hours' notice are charged in full.")


def variables(kind: str = "reminder", language: str = "en", **changes: object) -> dict[str, object]:
    facts = dataclasses.replace(sample_facts(kind, language, NOW), **changes)
    return notice_variables(facts, ANA, POLICY)


def sample_alert_variables() -> dict[str, object]:
    return {
        "account": "main",
        "practitioner_name": "Ana Ruiz",
        "ref": "FW-3F2A9C1B7D10",
        "case_id": 12,
        "client_email": "sam@example.org",
        "session_title": "Coaching session",
        "notice_kind": "forfeit",
        "detail": "550 5.1.1 no such mailbox",
    }


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("language", ["en", "es", "es-formal"])
@pytest.mark.parametrize("kind", ["reminder", "forfeit"])
@pytest.mark.parametrize("practitioner", [ANA, Practitioner(name="Ana Ruiz", email="a@b.example")])
@pytest.mark.parametrize("balance", [4, 1, 0, None])
def test_every_packaged_notice_renders_text_and_html_from_one_source(
    kind: str, language: str, practitioner: Practitioner, balance: int | None
) -> None:
    facts = dataclasses.replace(sample_facts(kind, language, NOW), prepaid_balance=balance)
    library = TemplateLibrary()
    notice = library.render(kind, language, notice_variables(facts, practitioner, POLICY))

    assert library.source_of(kind, language, "text") == f"packaged:{language}/{kind}.md.j2"
    assert library.source_of(kind, language, "html") == f"packaged:{language}/{kind}.md.j2"
    assert notice.subject
    assert "\n" not in notice.subject
    assert notice.html is not None
    assert notice.html.startswith("<!DOCTYPE html>")
    assert POLICY.excerpt in notice.text
    assert POLICY.excerpt in notice.html
    notice_given = "unas 8 horas" if language.startswith("es") else "about 8 hours"
    for body in (notice.text, notice.html):
        assert notice_given in body
        assert facts.session_title not in body, "the raw calendar title is not quoted"
        assert "None" not in body
        assert "{{" not in body
        assert "{%" not in body
        assert "**" not in body
        assert "\\" not in body, "Markdown escapes never reach the client"
    assert f'lang="{language[:2]}"' in notice.html
    assert notice.text.endswith("\n")
    assert "\n\n\n" not in notice.text
    if practitioner.booking_link:
        assert f"\n\n{practitioner.booking_link}\n\n" in notice.text
        assert f'href="{practitioner.booking_link}" style="display:inline-block' in notice.html
    else:
        assert "http" not in notice.text
        assert "href" not in notice.html
    assert (practitioner.signature or practitioner.name) in notice.text


def test_first_reminder_lets_it_go_and_says_next_time_is_forfeited() -> None:
    notice = TemplateLibrary().render("reminder", "en", variables())

    assert notice.subject == "A gentle reminder about our session on Tuesday 24 November"
    assert notice.text.startswith("Hi Sam,\n")
    assert "our session on Tuesday 24 November at 15:00 (London time), about 8 hours" in (
        notice.text
    )
    assert "As this is the first time, we'll let it go" in notice.text
    assert "you still have 4 prepaid sessions" in notice.text
    assert "Next time, a session cancelled this late will be forfeited." in notice.text
    assert "at least 24 hours of notice" in notice.text


def test_forfeit_says_as_i_mentioned_only_when_an_earlier_notice_reached_the_client() -> None:
    library = TemplateLibrary()
    warned = library.render("forfeit", "en", variables("forfeit"))
    unwarned = library.render("forfeit", "en", variables("forfeit", warned_at=None))
    spanish = library.render("forfeit", "es", variables("forfeit", "es", warned_at=None))

    assert "As I mentioned when I wrote to you on 3 November, a session cancelled" in warned.text
    assert "mention" not in unwarned.text
    assert "As the policy says, a session cancelled this late is forfeited" in unwarned.text
    assert "comenté" not in spanish.text
    assert "Tal como indica la política" in spanish.text


@pytest.mark.parametrize("language", ["en", "es", "es-formal"])
def test_a_forfeit_never_ends_by_threatening_the_next_forfeit(language: str) -> None:
    notice = TemplateLibrary().render("forfeit", language, variables("forfeit", language))

    assert "Next time" not in notice.text
    assert "La próxima vez" not in notice.text
    assert "will be forfeited" not in notice.text


def test_forfeit_notice_says_the_session_is_forfeited_and_what_is_left() -> None:
    english = TemplateLibrary().render("forfeit", "en", variables("forfeit"))
    spanish = TemplateLibrary().render("forfeit", "es", variables("forfeit", "es"))

    assert "so this one counts as used and you have 3 prepaid sessions remaining." in english.text
    assert "<strong>3 prepaid sessions</strong> remaining" in (english.html or "")
    assert "se da por perdida" in spanish.text
    assert "te quedan 3 sesiones prepagadas" in spanish.text
    assert spanish.text.startswith("Hola, Lucía:\n")


@pytest.mark.parametrize(
    "calque",
    ["un pequeño recordatorio", "no es nada personal", "con al menos", "algo serio", "encantará"],
)
@pytest.mark.parametrize("language", ["es", "es-formal"])
@pytest.mark.parametrize("kind", ["reminder", "forfeit"])
def test_spanish_reads_as_spanish_not_as_a_translation(
    kind: str, language: str, calque: str
) -> None:
    notice = TemplateLibrary().render(kind, language, variables(kind, language))

    assert calque not in (notice.subject + notice.text).lower()


def test_formal_spanish_says_usted_and_informal_says_tu() -> None:
    library = TemplateLibrary()
    formal = library.render("forfeit", "es-formal", variables("forfeit", "es-formal"))
    informal = library.render("forfeit", "es", variables("forfeit", "es"))

    assert formal.subject.startswith("Su sesión del martes 24 de noviembre")
    assert "le quedan 3 sesiones" in formal.text
    assert "Espero que lo entienda" in formal.text
    assert "respóndame" in formal.text
    assert " te " not in formal.text
    assert " ti " not in formal.text
    assert informal.subject.startswith("Tu sesión del martes 24 de noviembre")
    assert "algo grave" in informal.text
    assert "Me encantaría verte pronto" in informal.text


def test_the_formal_variant_takes_what_it_lacks_from_spanish() -> None:
    library = TemplateLibrary()

    alert = library.render("alert_rejected", "es-formal", sample_alert_variables())

    assert library.source_of("alert_rejected", "es-formal", "text") == (
        "packaged:es/alert_rejected.txt.j2"
    )
    assert "No se pudo enviar el aviso de sesión perdida a sam@example.org" in alert.text
    assert alert.html is None


def test_unknown_balance_is_not_mentioned() -> None:
    notice = TemplateLibrary().render("forfeit", "en", variables("forfeit", prepaid_balance=None))

    assert "prepaid" not in notice.text
    assert "counts as used." in notice.text


@pytest.mark.parametrize("language", ["en", "es", "es-formal"])
def test_client_without_a_name_is_greeted_gracefully(language: str) -> None:
    library = TemplateLibrary()

    for name in ("", "sam@example.org"):
        notice = library.render(
            "reminder", language, variables(language=language, client_name=name)
        )
        assert notice.text.startswith("Hello,\n" if language == "en" else "Hola:\n")
        assert "sam@example.org" not in notice.text


def test_cancelling_after_the_start_is_worded_as_such() -> None:
    notice = TemplateLibrary().render("forfeit", "en", variables("forfeit", notice=-timedelta(1)))

    assert "It was cancelled after it had started, and my cancellation policy" in notice.text


def test_a_legacy_html_template_still_escapes_a_client_name(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    write(tmp_path, "en/reminder.html.j2", "<p>{{ client_name }}</p>\n")
    user = TemplateLibrary(user_dir=tmp_path).render(
        "reminder", "en", variables(client_name=hostile)
    )

    assert user.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    assert hostile in user.text


def test_subject_is_always_one_line(tmp_path: Path) -> None:
    write(tmp_path, "en/reminder.subject.j2", "Hello\r\n  {{ client_name }}\n\n")
    library = TemplateLibrary(user_dir=tmp_path)

    notice = library.render("reminder", "en", variables(client_name="Sam\r\nBcc: x@evil.example"))

    assert notice.subject == "Hello Sam Bcc: x@evil.example"


def test_user_override_of_one_file_wins_while_others_stay_packaged(tmp_path: Path) -> None:
    subject = write(tmp_path, "en/reminder.subject.j2", "Our session, {{ client_first_name }}\n")
    library = TemplateLibrary(user_dir=tmp_path)

    notice = library.render("reminder", "en", variables())

    assert notice.subject == "Our session, Sam"
    assert "we'll let it go" in notice.text
    assert notice.html is not None
    assert "Choose a new time" in notice.html
    assert library.source_of("reminder", "en", "subject") == str(subject)
    assert library.source_of("reminder", "en", "text") == "packaged:en/reminder.md.j2"
    assert library.source_of("reminder", "es", "subject") == "packaged:es/reminder.subject.j2"
    assert library.render("reminder", "es", variables(language="es")).subject.startswith("Un")
    assert library.style().name == "packaged"


def test_your_own_markdown_notice_gives_both_versions(tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "en/reminder.md.j2",
        "Hi {{ client_first_name }},\n\n> {{ policy_excerpt }}\n\n[Rebook]({{ booking_link }})\n",
    )
    library = TemplateLibrary(user_dir=tmp_path)

    notice = library.render("reminder", "en", variables())

    assert notice.text == (f'Hi Sam,\n\n    "{POLICY.excerpt}"\n\nhttps://cal.example/ana\n')
    assert notice.html is not None
    assert '<a href="https://cal.example/ana" style="display:inline-block' in notice.html
    assert library.source_of("reminder", "en", "html") == str(source)
    style = library.style()
    assert (style.name, style.markdown, style.separate) == ("markdown", ("en/reminder",), ())


def test_an_older_folder_of_text_files_keeps_working_as_it_did(tmp_path: Path) -> None:
    write(tmp_path, "en/reminder.txt.j2", "Hi {{ client_first_name }}, my own words.\n")
    write(tmp_path, "en/forfeit.txt.j2", "Hi {{ client_first_name }}, forfeited.\n")
    write(tmp_path, "en/forfeit.html.j2", "<p>Hi {{ client_first_name }}, forfeited.</p>\n")
    library = TemplateLibrary(user_dir=tmp_path)

    reminder = library.render("reminder", "en", variables())
    forfeit = library.render("forfeit", "en", variables("forfeit"))

    assert reminder == RenderedNotice(
        subject="A gentle reminder about our session on Tuesday 24 November",
        text="Hi Sam, my own words.\n",
        html=None,
    )
    assert forfeit.html == "<p>Hi Sam, forfeited.</p>\n"
    assert library.render("reminder", "es", variables(language="es")).html is not None
    style = library.style()
    assert style.name == "separate"
    assert style.separate == ("en/reminder", "en/forfeit")
    assert "older style: still supported" in style.summary()


def test_a_folder_with_both_styles_says_which_file_is_used(tmp_path: Path) -> None:
    write(tmp_path, "en/reminder.txt.j2", "Old words.\n")
    write(tmp_path, "en/reminder.md.j2", "New words.\n")
    write(tmp_path, "es/forfeit.md.j2", "Palabras nuevas.\n")
    library = TemplateLibrary(user_dir=tmp_path)

    style = library.style()

    assert library.render("reminder", "en", variables()).text == "Old words.\n"
    assert library.render("forfeit", "es", variables("forfeit", "es")).text == "Palabras nuevas.\n"
    assert style.name == "mixed"
    assert style.shadowed == ("en/reminder",)
    assert "en/reminder use separate text and HTML files, es/forfeit one Markdown source" in (
        style.summary()
    )
    assert "en/reminder has both reminder.md.j2 and reminder.txt.j2: the .txt.j2 is used" in (
        style.summary()
    )


def test_user_languages_join_the_packaged_ones(tmp_path: Path) -> None:
    write(tmp_path, "fr/reminder.subject.j2", "Un petit rappel\n")
    write(tmp_path, "fr/reminder.md.j2", "Bonjour {{ client_first_name }},\n")
    (tmp_path / "__pycache__").mkdir()
    library = TemplateLibrary(user_dir=tmp_path)

    assert TemplateLibrary().languages() == ["en", "es", "es-formal"]
    assert library.languages() == ["en", "es", "es-formal", "fr"]
    assert library.has("reminder", "fr")
    assert not library.has("forfeit", "fr")
    notice = library.render("reminder", "fr", variables())
    assert (notice.subject, notice.text) == ("Un petit rappel", "Bonjour Sam,\n")
    assert notice.html is not None
    assert '<html lang="fr">' in notice.html


def test_choosing_a_language_falls_back_sensibly(tmp_path: Path) -> None:
    write(tmp_path, "fr/reminder.subject.j2", "Un petit rappel\n")
    library = TemplateLibrary(user_dir=tmp_path)

    assert library.choose_language("es-MX", "en") == "es"
    assert library.choose_language("es_AR", "en") == "es"
    assert library.choose_language("es-formal", "en") == "es-formal"
    assert library.choose_language("fr", "en") == "en"  # no forfeit, no body: incomplete
    assert library.choose_language(None, "es") == "es"
    assert library.choose_language("../../etc", "en") == "en"
    assert library.template_language("fr") is None
    assert library.template_language("es-MX") == "es"


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "en/reminder.txt.j2", "Hi {{ client_first_name }},\n\n{{ session_title }\n"
    )

    with pytest.raises(TemplateError) as caught:
        TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables())

    assert str(path) in caught.value.message
    assert "line 3" in caught.value.message
    assert "syntax error" in caught.value.message
    assert caught.value.fields["line"] == 3


def test_unclosed_if_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "en/forfeit.html.j2", "<p>\n{% if booking_link %}\n<a>x</a>\n")

    with pytest.raises(TemplateError, match="endif") as caught:
        TemplateLibrary(user_dir=tmp_path).render("forfeit", "en", variables("forfeit"))

    assert str(path) in caught.value.message


def test_undefined_variable_is_named_with_the_available_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "en/reminder.txt.j2", "Hello,\nSee you, {{ client_nmae }}.\n")

    with pytest.raises(TemplateError) as caught:
        TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables())

    message = caught.value.message
    assert f"{path}, line 2" in message
    assert "unknown variable 'client_nmae'" in message
    assert "client_name, client_first_name" not in message  # listed sorted, not in dict order
    assert "client_email, client_first_name, client_name" in message
    assert "docs/template-variables.md" in message
    assert caught.value.fields["variable"] == "client_nmae"


def test_undefined_variable_in_a_packaged_template_names_the_packaged_file() -> None:
    incomplete = variables()
    del incomplete["booking_link"]

    with pytest.raises(TemplateError, match=r"packaged:en/reminder\.subject\.j2|packaged:en/"):
        TemplateLibrary().render("reminder", "en", incomplete)
    with pytest.raises(TemplateError, match="unknown variable 'booking_link'"):
        TemplateLibrary().render("reminder", "en", incomplete)


def test_unknown_attribute_is_named(tmp_path: Path) -> None:
    write(tmp_path, "en/reminder.subject.j2", "{{ client_name.nickname }}\n")

    with pytest.raises(TemplateError, match="unknown variable 'nickname'"):
        TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables())


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ client_name.__class__.__base__.__subclasses__() }}",
        "{{ range.__self__ }}",
    ],
)
def test_sandbox_escape_attempt_is_refused(tmp_path: Path, escape: str) -> None:
    path = write(tmp_path, "en/reminder.txt.j2", f"Hello,\n{escape}\n")

    with pytest.raises(TemplateError) as caught:
        TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables())

    assert str(path) in caught.value.message
    assert "line 2" in caught.value.message
    assert "sandbox" in caught.value.message or "unknown variable" in caught.value.message


def test_missing_required_file_says_where_it_looked(tmp_path: Path) -> None:
    write(tmp_path, "fr/reminder.subject.j2", "Un petit rappel\n")

    with pytest.raises(TemplateError) as caught:
        TemplateLibrary(user_dir=tmp_path).render("reminder", "fr", variables())

    assert "missing template file fr/reminder.md.j2 (or reminder.txt.j2)" in caught.value.message
    assert str(tmp_path) in caught.value.message
    assert "en, es, es-formal, fr" in caught.value.message


def test_a_language_without_templates_is_reported() -> None:
    with pytest.raises(TemplateError, match=r"missing template file de/forfeit\.subject\.j2"):
        TemplateLibrary().render("forfeit", "de", variables())


@pytest.mark.parametrize(("kind", "language"), [("../en/x", "en"), ("reminder", "../../etc")])
def test_names_that_could_leave_the_templates_folder_are_refused(kind: str, language: str) -> None:
    with pytest.raises(TemplateError, match="is not a"):
        TemplateLibrary().render(kind, language, variables())


def test_include_outside_the_templates_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "en/reminder.txt.j2", "{% include '../../../etc/passwd' %}\n")

    with pytest.raises(TemplateError, match="missing template file"):
        TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables())


def test_a_template_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "en" / "reminder.txt.j2"
    path.parent.mkdir()
    path.write_bytes("Hola, ni\xf1o\n".encode("latin-1"))

    with pytest.raises(TemplateError, match="not UTF-8") as caught:
        TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables())

    assert str(path) in caught.value.message


def test_a_failing_expression_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "en/reminder.txt.j2", "Hi\n\n{{ offence / 0 }}\n")

    with pytest.raises(TemplateError, match=r"line 3: failed while rendering \(ZeroDivisionError"):
        TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables())


def test_a_missing_templates_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        TemplateLibrary(user_dir=tmp_path / "nowhere")


def test_an_edited_template_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    path = write(tmp_path, "en/reminder.subject.j2", "First\n")
    library = TemplateLibrary(user_dir=tmp_path)
    assert library.render("reminder", "en", variables()).subject == "First"

    path.write_text("Second\n", encoding="utf-8")
    os.utime(path, (1, 1))

    assert library.render("reminder", "en", variables()).subject == "Second"
