"""The one email layout every Markdown notice is sent in.

Mail programs drop `<style>` blocks and external CSS (Gmail in part, Outlook in full), so
each element gets its style inline, from the table below, when the HTML is written. The
layout is a single centred column without tables: at most 560 px wide, full width on a
phone, long words and addresses wrapped. Outlook's Word engine ignores `max-width` and
rounded corners and shows the same text full width, which reads fine. A paragraph holding
only a link becomes a button.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from markdown_it.token import Token

from worker.notices.markdown import PARSER, is_button

_FONT = "-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
PAGE = "margin:0;padding:0;background-color:#f6f4f0;"
COLUMN = (
    "max-width:560px;margin:0 auto;padding:28px 20px;background-color:#ffffff;"
    f"color:#2b2b2b;font-family:{_FONT};font-size:16px;line-height:1.6;"
    "overflow-wrap:break-word;word-wrap:break-word;"
)
STYLES = {
    "p": "margin:0 0 16px;",
    "blockquote": "margin:0 0 16px;padding:8px 16px;border-left:3px solid #b9a58a;"
    "background-color:#faf8f4;color:#4a4a4a;font-style:italic;",
    "h1": "margin:0 0 16px;font-size:22px;line-height:1.3;",
    "h2": "margin:0 0 12px;font-size:19px;line-height:1.3;",
    "h3": "margin:0 0 12px;font-size:17px;line-height:1.3;",
    "ul": "margin:0 0 16px;padding-left:24px;",
    "ol": "margin:0 0 16px;padding-left:24px;",
    "li": "margin:0 0 4px;",
    "a": "color:#3d6b57;text-decoration:underline;",
    "img": "max-width:100%;height:auto;border:0;",
    "hr": "border:none;border-top:1px solid #e2ddd3;margin:24px 0;",
    "pre": "margin:0 0 16px;white-space:pre-wrap;font-family:monospace;",
    "code": "font-family:monospace;",
}
# Inside a quote the quote's own padding spaces the text.
QUOTED_P = "margin:0;"
BUTTON_P = "margin:24px 0;"
BUTTON = (
    "display:inline-block;max-width:100%;box-sizing:border-box;padding:12px 22px;"
    "background-color:#5b7f6e;color:#ffffff;text-decoration:none;border-radius:4px;"
    "font-weight:bold;word-break:break-word;"
)


def html_body(tokens: Sequence[Token]) -> str:
    """The notice's HTML, every element styled inline; a lone link line becomes a button.

    The tokens are styled in place (their `style` attributes are set).
    """
    styled = list(tokens)
    quote_depth = 0
    for index, token in enumerate(styled):
        if token.type == "blockquote_open":
            quote_depth += 1
        elif token.type == "blockquote_close":
            quote_depth -= 1
        if token.nesting == 1 and token.tag in STYLES:
            quoted = token.tag == "p" and quote_depth
            token.attrSet("style", QUOTED_P if quoted else STYLES[token.tag])
        elif token.type in ("hr", "fence", "code_block") and token.tag in STYLES:
            token.attrSet("style", STYLES[token.tag])
        elif token.type == "inline":
            _style_inline(token, button=is_button(styled, index))
            if is_button(styled, index):
                styled[index - 1].attrSet("style", BUTTON_P)
    rendered: str = PARSER.renderer.render(styled, PARSER.options, {})
    return rendered


def _style_inline(token: Token, *, button: bool) -> None:
    for child in token.children or []:
        if child.type == "link_open":
            child.attrSet("style", BUTTON if button else STYLES["a"])
        elif child.type == "image":
            child.attrSet("style", STYLES["img"])
        elif child.type == "code_inline":
            child.attrSet("style", STYLES["code"])


def page(body: str, *, language: str, title: str) -> str:
    """A complete HTML document around a notice's body."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html_lang(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="x-apple-disable-message-reformatting">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n"
        f'<body style="{PAGE}">\n<div style="{COLUMN}">\n{body}</div>\n</body>\n</html>\n'
    )


def html_lang(language: str) -> str:
    """The HTML `lang` of a template language: "es-formal" → "es", "pt_BR" → "pt-BR"."""
    parts = language.replace("_", "-").split("-")
    region = parts[1] if len(parts) > 1 else ""
    if re.fullmatch(r"[A-Za-z]{2}|\d{3}", region):
        return f"{parts[0].lower()}-{region.upper()}"
    return parts[0].lower()
