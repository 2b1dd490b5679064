"""The notice layout in a real browser: readable on a phone, no sideways scrolling, anywhere."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from worker.config import Policy, Practitioner
from worker.notices.templates import KINDS, TemplateLibrary
from worker.notices.wording import notice_variables, sample_facts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DANA = Practitioner(
    name="Dana Rivera",
    email="dana@riveracoaching.example",
    time_zone="Europe/London",
    booking_link="https://riveracoaching.example/book",
    signature="Warmly,\nDana Rivera\nRivera Coaching",
)
# What a real practice throws at a narrow screen: an address with no place to break.
LONG_LINK = "https://booking.riveracoaching.example/" + "a" * 40 + "/" + "b" * 40 + "?ref=x"
UNBROKEN = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen"
WIDTHS = (375, 900)


def notice_html(kind: str, language: str, *, stress: bool = False) -> str:
    practitioner = DANA.model_copy(update={"booking_link": LONG_LINK}) if stress else DANA
    facts = sample_facts(kind, language, NOW)
    if stress:
        facts = dataclasses.replace(facts, client_name=UNBROKEN)
    policy = Policy(excerpt=f"Sessions need 24 hours' notice: see {LONG_LINK}" if stress else "x")
    html = TemplateLibrary().render(kind, language, notice_variables(facts, practitioner, policy))
    assert html.html is not None
    return html.html


def measure(chromium: Any, html: str, width: int) -> dict[str, Any]:
    page = chromium.new_page(viewport={"width": width, "height": 812})
    try:
        page.set_content(html)
        measured: dict[str, Any] = page.evaluate(
            """() => {
                const button = document.querySelector('a[style*="inline-block"]');
                const column = document.body.firstElementChild.getBoundingClientRect();
                const text = getComputedStyle(document.querySelector('p'));
                const box = button ? button.getBoundingClientRect() : null;
                return {
                    scrollWidth: document.documentElement.scrollWidth,
                    innerWidth: window.innerWidth,
                    column: {left: column.left, width: column.width},
                    fontSize: parseFloat(text.fontSize),
                    button: box && {left: box.left, right: box.right, height: box.height},
                };
            }"""
        )
        return measured
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", ["en", "es", "es-formal"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_notice_fits_the_screen_without_sideways_scrolling(
    chromium: Any, kind: str, language: str, width: int
) -> None:
    found = measure(chromium, notice_html(kind, language), width)

    assert found["scrollWidth"] <= found["innerWidth"], found
    assert found["fontSize"] >= 16
    assert found["button"] is not None, "the booking link is a button"
    assert found["button"]["left"] >= 0
    assert found["button"]["right"] <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_long_links_and_unbroken_names_wrap_instead_of_overflowing(
    chromium: Any, width: int
) -> None:
    found = measure(chromium, notice_html("reminder", "en", stress=True), width)

    assert found["scrollWidth"] <= found["innerWidth"], found
    assert found["button"]["right"] <= width


def test_on_a_phone_the_text_uses_the_width_and_on_a_desk_it_stays_a_column(
    chromium: Any,
) -> None:
    phone = measure(chromium, notice_html("reminder", "en"), 375)
    desk = measure(chromium, notice_html("reminder", "en"), 900)

    assert phone["column"] == {"left": 0, "width": 375}
    assert desk["column"]["width"] == 600  # 560 of text and its padding
    assert desk["column"]["left"] == (900 - 600) / 2
