"""Labelled details (``Date:``, ``Place:``, ``Source:``, ...) wherever they sit.

The labels come from the site's :class:`Vocabulary`; where they sit does not matter:
before or after the title, a list, a table, a ``<dl>``, a sidebar.  A label's values are
the other lines of its *row* (the largest element around the label that holds no other
label, no title and no paragraph), or, when the label stands alone in its element
(``<dt>``, a bare ``<p>``), the value-like lines that follow it up to the next label.
There is no limit on how many values a label has.  A label whose value cannot be read
becomes a warning, never a silent empty list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from crawler.extraction.page import Line, ancestors, collapse, common_ancestor, descends
from crawler.extraction.vocabulary import Vocabulary

#: A label line is never longer than this (values of any length stay far below it).
MAX_VALUE_CHARS = 20_000
_SENTENCE_END = re.compile(r"[.!?:;…]['\"”’)]?$")
_PARAGRAPH_END = re.compile(r"[.!?…]['\"”’)]?$")
_SENTENCE_INSIDE = re.compile(r"[a-z][.!?…]['\"”’)]? [A-Z]")
#: A label without a colon counts only this close to one with a colon.
COLONLESS_REACH = 3


@dataclass
class Details:
    """What the labels said, and which lines they used."""

    values: dict[str, list[str]] = field(default_factory=dict)  # field -> texts as shown
    date_times: list[str] = field(default_factory=list)  # <time datetime> beside Date
    date_texts: list[str] = field(default_factory=list)  # visible text beside Date
    lines: set[int] = field(default_factory=set)  # indexes of label and value lines
    labels: list[tuple[int, str]] = field(default_factory=list)  # (line index, field)
    warnings: list[str] = field(default_factory=list)


def label_of(text: str, vocab: Vocabulary) -> tuple[str, str, bool] | None:
    """``(field, inline value, has colon)`` when a line is a detail label, else ``None``."""
    if len(text) > MAX_VALUE_CHARS:
        return None
    m = vocab.detail_pattern.match(text)
    if not m:
        return None
    value = m.group("value").strip()
    if not m.group("colon") and value:
        return None
    name = vocab.detail_labels[collapse(m.group("label")).lower()]
    return name, value, bool(m.group("colon"))


def value_like(text: str, vocab: Vocabulary) -> bool:
    """Could this line be the value of a label (short, not a sentence, not a byline)?"""
    return (
        len(text) <= MAX_VALUE_CHARS
        and not paragraph_like(text)
        and not _SENTENCE_END.search(text)
        and not vocab.byline_pattern.match(text)
        and label_of(text, vocab) is None
    )


def find_labels(page: list[Line], vocab: Vocabulary) -> list[tuple[int, str]]:
    """``(line index, field)`` of every detail label, the first of each field only.

    A label without a colon counts only outside probable chrome and when a label with a
    colon is near it (a menu heading that happens to read like a label is not one).
    """
    found: list[tuple[int, str, bool]] = []
    for i, ln in enumerate(page):
        hit = label_of(ln.text, vocab) if ln.text else None
        if hit and (hit[2] or not ln.chrome):
            found.append((i, hit[0], hit[2]))
    colons = [i for i, _, colon in found if colon]
    found = [f for f in found if f[2] or any(abs(f[0] - c) <= COLONLESS_REACH for c in colons)]
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, name, _ in found:
        if name not in seen:
            seen.add(name)
            out.append((i, name))
    return out


def read_details(
    page: list[Line],
    vocab: Vocabulary,
    title_at: int | None,
    labels: list[tuple[int, str]] | None = None,
) -> Details:
    """Read every labelled detail of an item page."""
    details = Details(labels=find_labels(page, vocab) if labels is None else labels)
    if not details.labels:
        return details
    owners = [page[i].owner for i, _ in details.labels]
    container = common_ancestor(owners) if len(owners) > 1 else owners[0].getparent()
    container = container if container is not None else owners[0]
    shared = _holds_paragraphs(page, container)
    label_at = {i for i, _ in details.labels}
    blocked = paragraph_ancestors(page)
    for k, (i, name) in enumerate(details.labels):
        stop = _next_label(label_at, i, len(page))
        row = _row(page, i, label_at, title_at, blocked)
        got = _values(page, vocab, i, stop, row, container, shared, k + 1 == len(details.labels))
        details.lines.add(i)
        details.lines.update(got)
        _record(details, page, vocab, i, name, got)
    return details


def _record(
    details: Details, page: list[Line], vocab: Vocabulary, i: int, name: str, got: list[int]
) -> None:
    """Store the values of label ``i`` (or a warning when it has none)."""
    inline = label_of(page[i].text, vocab)
    texts = ([inline[1]] if inline and inline[1] else []) + [page[j].text for j in got]
    texts = [t for t in texts if t]
    if name == "date":
        for j in [i, *got]:
            details.date_times.extend(t.get("datetime", "") for t in page[j].times)
        details.date_times = [d for d in details.date_times if d]
        details.date_texts.extend(texts)
        return
    if not texts:
        details.warnings.append(f"label {collapse(page[i].text)!r}: no readable value")
        return
    details.values.setdefault(name, []).extend(texts)


def _next_label(label_at: set[int], i: int, end: int) -> int:
    later = [j for j in label_at if j > i]
    return min(later) if later else end


def _row(
    page: list[Line], i: int, label_at: set[int], title_at: int | None, blocked: set[int]
) -> etree._Element | None:
    """The largest element around label ``i`` holding no other label, title or paragraph.

    ``blocked``: ids of the ancestors of every paragraph-like line.  ``None`` when the
    row is the label's own element with nothing else in it.
    """
    others = [page[j].owner for j in label_at if j != i]
    if title_at is not None:
        others.append(page[title_at].owner)
    stop = {id(a) for o in others for a in ancestors(o)} | blocked
    row = None
    node: etree._Element | None = page[i].owner
    while node is not None and id(node) not in stop:
        row = node
        node = node.getparent()
    if row is None or i + 1 >= len(page) or not descends(page[i + 1].owner, row):
        return None
    return row


def paragraph_like(text: str) -> bool:
    """A line that reads as a paragraph: long, or a sentence (a label is neither)."""
    return len(text) >= 40 and bool(_PARAGRAPH_END.search(text) or _SENTENCE_INSIDE.search(text))


def paragraph_ancestors(page: list[Line]) -> set[int]:
    """Ids of every element that holds a line reading as a paragraph."""
    out: set[int] = set()
    for ln in page:
        if paragraph_like(ln.text):
            node: etree._Element | None = ln.owner
            while node is not None and id(node) not in out:  # the rest is in already
                out.add(id(node))
                node = node.getparent()
    return out


def _values(
    page: list[Line],
    vocab: Vocabulary,
    i: int,
    stop: int,
    row: etree._Element | None,
    container: etree._Element,
    shared: bool,
    last: bool,
) -> list[int]:
    """Indexes of the value lines of label ``i`` (lines before ``stop``)."""
    got: list[int] = []
    if row is not None:
        for j in range(i + 1, stop):  # a row's lines are contiguous
            if not descends(page[j].owner, row):
                break
            got.append(j)
        return got
    for j in range(i + 1, stop):
        ln = page[j]
        if not ln.text and not ln.times:
            continue
        if ln.text and (not value_like(ln.text, vocab) or vocab.byline_pattern.match(ln.text)):
            break
        # After the last label, values stay within the details block; when that block
        # also holds the body (plain rows beside paragraphs), one line at most.
        if last and (not descends(ln.owner, container) or (shared and got)):
            break
        got.append(j)
    return got


def _holds_paragraphs(page: list[Line], container: etree._Element) -> bool:
    return any(paragraph_like(ln.text) and descends(ln.owner, container) for ln in page)


def split_values(values: list[str]) -> list[str]:
    """Comma-separated values (in one line or several) as a clean list, order kept."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = collapse(part).strip(" ;")
            if part and part not in out:
                out.append(part)
    return out
