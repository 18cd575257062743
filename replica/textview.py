"""A page reduced to its visible text lines, the way a naive text extraction sees it.

Block elements start a new line; inline elements join their text; scripts, styles and
``hidden`` elements are dropped. The seed tests use it to show that the replica's pages
read like the captured seeds, and it is handy for anyone comparing what a page shows.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

BLOCK = frozenset(
    "address article aside blockquote body button dd details div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p section summary table "
    "tbody td tfoot th thead tr ul br html head title".split()
)
SKIP = frozenset(("script", "style", "noscript", "template", "head"))
_SPACE = re.compile(r"[ \t\r\n\f\v]+")


def visible_lines(page: str | bytes) -> list[str]:
    """Non-blank visible lines of an HTML page, in document order."""
    root = lxml_html.document_fromstring(page)
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = _SPACE.sub(" ", "".join(current)).strip()
        if text:
            lines.append(text)
        current.clear()

    def walk(el) -> None:  # type: ignore[no-untyped-def]
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in SKIP or el.get("hidden") is not None:
            if el.tail:
                current.append(el.tail)
            return
        block = tag in BLOCK
        if block:
            flush()
        if el.text and tag:
            current.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
        if el.tail:
            current.append(el.tail)

    walk(root)
    flush()
    return lines


def strip_bullet(line: str) -> str:
    """``- Date:`` -> ``Date:``; ``-`` -> ```` (the seeds mark list items with dashes)."""
    if line == "-":
        return ""
    return line[2:] if line.startswith("- ") else line


def comparable(lines: list[str]) -> list[str]:
    """Lines with bullets stripped and blanks dropped (how the seed test compares)."""
    out = []
    for line in lines:
        text = strip_bullet(line.strip()).strip()
        if text:
            out.append(text)
    return out


def is_subsequence(needle: list[str], haystack: list[str]) -> int:
    """How many of ``needle``'s lines appear in ``haystack`` in order (greedy)."""
    it = iter(haystack)
    found = 0
    for line in needle:
        for candidate in it:
            if candidate == line:
                found += 1
                break
        else:
            break
    return found
