"""One Markdown source becomes a notice's plain-text part and its HTML part.

Jinja renders the source first with `markdown_value` as its finalize, so every inserted value
(a client's name, a session title) is shown exactly as written and can never become a link,
an image, a heading or HTML. markdown-it-py (CommonMark, raw HTML off, line breaks kept) then
parses the result once, and the same tokens are written out twice: as readable text here,
and as styled HTML by notices/layout.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from worker.config.practice import base_language

PARSER = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})

_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")  # every ASCII punctuation mark may be escaped
_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n?|\n)\s*")
_QUOTES = {"es": ("«", "»"), "fr": ("« ", " »"), "de": ("„", "“"), "it": ("«", "»")}
_CONTAINERS = ("blockquote", "bullet_list", "ordered_list", "list_item")


def markdown_value(value: object) -> str:
    """A value as literal Markdown text: punctuation escaped, blank lines closed up.

    Closing up blank lines keeps a multi-line value inside the quote or paragraph it was
    placed in. `{{ value|safe }}` opts out (for the practitioner's own Markdown only).
    """
    if isinstance(value, Markup):
        return str(value)
    text = _PUNCTUATION.sub(lambda match: "\\" + match.group(), str(value))
    return _LINE_BREAKS.sub("\n", text)


def parse(source: str) -> list[Token]:
    """The tokens of a rendered Markdown source."""
    return PARSER.parse(source)


def is_button(tokens: Sequence[Token], index: int) -> bool:
    """Whether the inline token at `index` is a paragraph holding only one link."""
    token = tokens[index]
    if token.type != "inline" or index == 0 or tokens[index - 1].type != "paragraph_open":
        return False
    children = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    links = sum(1 for child in children if child.type == "link_open")
    return links == 1 and children[0].type == "link_open" and children[-1].type == "link_close"


def plain_text(tokens: Sequence[Token], language: str) -> str:
    """The notice as readable text: paragraphs, indented quotes, links as bare addresses."""
    quotes = _QUOTES.get(base_language(language), ('"', '"'))
    stack: list[tuple[Token | None, list[str]]] = [(None, [])]
    for index, token in enumerate(tokens):
        kind = token.type.rsplit("_", 1)[0]
        if kind in _CONTAINERS and token.nesting == 1:
            stack.append((token, []))
        elif kind in _CONTAINERS and token.nesting == -1:
            opener, blocks = stack.pop()
            stack[-1][1].append(_container(opener, blocks, quotes))
        elif token.type == "inline":
            stack[-1][1].append(_inline(token.children or [], is_button(tokens, index)))
        elif token.type in ("fence", "code_block"):
            stack[-1][1].append(_indent(token.content.rstrip("\n"), "    "))
        elif token.type == "hr":
            stack[-1][1].append("* * *")
    return "\n\n".join(block for block in stack[0][1] if block).rstrip() + "\n"


def _container(opener: Token | None, blocks: list[str], quotes: tuple[str, str]) -> str:
    if opener is None:
        return "\n\n".join(blocks)
    if opener.type == "blockquote_open":
        inner = "\n\n".join(blocks).strip()
        return _indent(quotes[0] + inner + quotes[1], "    ")
    if opener.type == "list_item_open":
        marker = f"{opener.info}{opener.markup} " if opener.info else f"{opener.markup} "
        body = _indent("\n".join(blocks), " " * len(marker))
        return marker + body.lstrip()
    return "\n".join(blocks)  # a list: its items, one per line


def _inline(children: Sequence[Token], button: bool) -> str:
    out: list[str] = []
    opened: list[tuple[str, int]] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)
        elif child.type == "link_open":
            opened.append((str(child.attrGet("href") or ""), len(out)))
        elif child.type == "link_close" and opened:
            href, start = opened.pop()
            label = "".join(out[start:]).strip()
            if button:
                out[start:] = [href]
            elif label not in (href, href.removeprefix("mailto:")):
                out.append(f" ({href})")
    return "".join(out)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))
