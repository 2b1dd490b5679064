"""One Markdown source, two parts: values can never become markup, and the text reads well."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from worker.config import Policy, Practitioner
from worker.notices.layout import html_body, html_lang
from worker.notices.markdown import markdown_value, parse, plain_text
from worker.notices.templates import TemplateLibrary
from worker.notices.wording import notice_variables, sample_facts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANA = Practitioner(
    name="Ana Ruiz",
    email="ana@coach.example",
    time_zone="Europe/London",
    booking_link="https://cal.example/ana",
)
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "[click](http://evil.example)",
    "![x](http://evil.example/p.png)",
    "<http://evil.example/auto>",
    "[ref]: http://evil.example/ref",
    "*bold* _em_ `code` ~~s~~ \\*",
    "line one\n\n# A heading\n\n    indented code\n- a list\n1. numbered\n> quoted",
    "&lt;b&gt; &amp; &#60;script&#62;",
    "javascript:alert(1)",
]
# Every place a practitioner might put a value in their own notice.
EVERY_CONTEXT = """\
Hello {{ client_name }},

> {{ session_title }}

# {{ client_name }}

- {{ session_title }}
- **{{ client_name }}** and *{{ session_title }}*

[{{ client_name }}]({{ booking_link }})

{{ session_title }}
"""


class Elements(HTMLParser):
    """The tags and attributes of an HTML document, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def elements(document: str) -> Elements:
    parser = Elements()
    parser.feed(document)
    return parser


def render(tmp_path: Path, source: str, **changes: object) -> tuple[str, str]:
    (tmp_path / "en").mkdir(exist_ok=True)
    (tmp_path / "en" / "reminder.md.j2").write_text(source, encoding="utf-8")
    facts = dataclasses.replace(sample_facts("reminder", "en", NOW), **changes)
    variables = notice_variables(facts, ANA, Policy())
    notice = TemplateLibrary(user_dir=tmp_path).render("reminder", "en", variables)
    assert notice.html is not None
    return notice.text, notice.html


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_client_name_or_session_title_can_never_become_markup(
    tmp_path: Path, hostile: str
) -> None:
    text, html = render(tmp_path, EVERY_CONTEXT, client_name=hostile, session_title=hostile)
    found = elements(html)

    assert set(found.tags) <= {"html", "head", "meta", "title", "body", "div", "p", "h1"} | {
        "blockquote",
        "ul",
        "li",
        "strong",
        "em",
        "a",
        "br",
    }
    assert "script" not in found.tags
    assert "img" not in found.tags
    hrefs = [value for name, value in found.attributes if name == "href"]
    assert hrefs == ["https://cal.example/ana"], "the only link is the practitioner's own"
    assert not any(name.startswith("on") or name == "src" for name, _ in found.attributes)
    assert "evil" not in " ".join(value for _, value in found.attributes)
    assert "\\" not in text.replace(hostile, "")


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if "\n" not in h])
def test_a_hostile_value_reads_exactly_as_written_in_both_parts(
    tmp_path: Path, hostile: str
) -> None:
    text, html = render(
        tmp_path,
        "Hi {{ client_name }}, about {{ session_title }}.\n",
        client_name=hostile,
        session_title=hostile,
    )

    assert text == f"Hi {hostile}, about {hostile}.\n"
    visible = re.sub(r"<[^>]+>", "", html.split("<body", 1)[1].split(">", 1)[1])
    unescaped = (visible.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')).replace(
        "&amp;", "&"
    )
    assert f"Hi {hostile}, about {hostile}." in unescaped


def test_a_multi_line_value_stays_inside_its_quote(tmp_path: Path) -> None:
    excerpt = "Cancel 24 hours ahead.\n\nLate cancellations are charged.\n# Not a heading"

    text, html = render(
        tmp_path, "Policy:\n\n> {{ session_title }}\n\nThanks.\n", session_title=excerpt
    )

    quote = html.split("<blockquote", 1)[1].split("</blockquote>", 1)[0]
    assert "Late cancellations are charged." in quote
    assert "# Not a heading" in quote
    assert "<h1" not in html
    assert text == (
        'Policy:\n\n    "Cancel 24 hours ahead.\n    Late cancellations are charged.\n'
        '    # Not a heading"\n\nThanks.\n'
    )


def test_the_packaged_notices_escape_a_hostile_first_name() -> None:
    facts = dataclasses.replace(
        sample_facts("reminder", "en", NOW), client_name="[click](http://evil.example) Doe"
    )
    notice = TemplateLibrary().render("reminder", "en", notice_variables(facts, ANA, Policy()))

    assert notice.text.startswith("Hi [click](http://evil.example),\n")
    assert "evil" not in "".join(v for _, v in elements(notice.html or "").attributes)


def test_markdown_value_escapes_every_punctuation_mark_and_closes_blank_lines() -> None:
    assert markdown_value("a*b_c[d](e)") == r"a\*b\_c\[d\]\(e\)"
    assert markdown_value("one\r\n\r\n   two") == "one\ntwo"
    assert markdown_value(4) == "4"


def test_plain_text_shows_quotes_indented_and_links_as_addresses() -> None:
    source = (
        "Hi,\n\nRead [my policy](https://ana.example/policy) or write to "
        "[ana@coach.example](mailto:ana@coach.example).\n\n> Quoted\n> twice\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n[Book](https://cal.example/ana)\n\n"
        "Warmly,\nAna\n"
    )

    assert plain_text(parse(source), "en") == (
        "Hi,\n\nRead my policy (https://ana.example/policy) or write to ana@coach.example.\n\n"
        '    "Quoted\n    twice"\n\n- one\n- two\n\n1. first\n2. second\n\n'
        "https://cal.example/ana\n\nWarmly,\nAna\n"
    )
    assert plain_text(parse("> Cita\n"), "es-formal") == "    «Cita»\n"


def test_a_lone_link_is_a_button_and_a_link_in_a_sentence_is_not() -> None:
    body = html_body(parse("See [this](https://a.example).\n\n[Book](https://b.example)\n"))

    assert '<a href="https://a.example" style="color:' in body
    assert '<p style="margin:24px 0;"><a href="https://b.example" style="display:inline-block' in (
        body
    )


def test_a_dangerous_link_in_the_practitioners_own_template_is_not_made_a_link() -> None:
    body = html_body(parse("[Book](javascript:alert(1))\n"))

    assert "href" not in body


@pytest.mark.parametrize(
    ("language", "lang"),
    [("en", "en"), ("es-formal", "es"), ("pt_BR", "pt-BR"), ("es-419", "es-419")],
)
def test_the_html_lang_is_a_real_language_tag(language: str, lang: str) -> None:
    assert html_lang(language) == lang
