"""The captured pages (``data/seeds/``) as replica items, with their real text.

The seed files are plain text captured from www.osce.org: navigation first, then the item
(type label, title, labelled details, byline, body, promotion block). They are parsed here
so that the replica serves exactly their words and the tests can compare against the very
same files.

What the captures do not say is guessed, and marked so:

- seed 001 is ``/fsc/55436``, published 2003-06-27 (fact: SITE.md; its dateline reads
  26 June 2003);
- seed 000's address ``/secretary-general/74289`` and date 2010-11-29 are GUESSES (the text
  announces the Astana Summit of 1-2 December 2010, written by the then Secretary General);
- seed 002's address ``/chairpersonship/568554`` and date 2024-05-17 are GUESSES (its
  dateline says STRASBOURG, 17 May 2024).

Where each seed's date lives is chosen to exercise the precedence of CONTRACT.md: 000 only
on the listing (a story has no dateline), 001 a ``<time datetime>`` beside the label while
the dateline is a day earlier, 002 a ``dcterms.date`` / ``article:published_time`` meta tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources

SEED_FILES = {
    0: "000_520c4946b3cd3223.txt",
    1: "001_340c1d08c966bd32.txt",
    2: "002_4f5fbfc627158c41.txt",
    3: "003_05e4ded4d7fa4cb5.txt",
}

PROMOTION_LINES = ("OSCE Impact", "Discover more stories about how the OSCE improves lives.")
NAV_END = "- About us"


@dataclass(frozen=True)
class SeedItem:
    """One captured item: its text as captured plus the facts (or guesses) around it."""

    number: int
    node: int
    section: str
    published: date
    date_source: str  # where the replica puts the date: markup | meta | listing
    kind: str  # slug
    title: str
    place: str | None
    sources: tuple[str, ...]
    fields_of_work: tuple[str, ...]
    byline: str | None
    paragraphs: tuple[str, ...]  # each once, in order
    repeated: bool  # the capture shows paragraphs 2..N a second time
    promotion: bool
    nav_lines: tuple[str, ...] = field(repr=False)  # the navigation as captured

    @property
    def path(self) -> str:
        return f"/{self.section}/{self.node}"


_FACTS = {
    # number: (node, section, published, date_source)
    0: (74289, "secretary-general", date(2010, 11, 29), "listing"),
    1: (55436, "fsc", date(2003, 6, 27), "markup"),
    2: (568554, "chairpersonship", date(2024, 5, 17), "meta"),
}

_KIND_SLUGS = {"Story": "story", "Press release": "press-release"}


def seed_text(number: int) -> str:
    """The captured text of one seed file, exactly as stored."""
    ref = resources.files("replica") / "data" / "seeds" / SEED_FILES[number]
    return ref.read_text(encoding="utf-8")


def _split_values(values: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(out)


def _parse_item(number: int) -> SeedItem:
    lines = seed_text(number).split("\n")
    end = lines.index(NAV_END) + 1
    nav, rest = lines[:end], lines[end:]
    kind_label, title = rest[0], rest[1]
    details: dict[str, list[str]] = {}
    label = ""
    i = 2
    while i < len(rest) and rest[i].startswith("- "):
        text = rest[i][2:].strip()
        if text.endswith(":"):
            label = text[:-1]
            details[label] = []
        else:
            details[label].append(text)
        i += 1
    byline = None
    if rest[i].startswith("By "):
        byline = rest[i][3:]
        i += 1
    body = [line for line in rest[i:] if line.strip()]
    promotion = body[-2:] == list(PROMOTION_LINES)
    if promotion:
        body = body[:-2]
    once = list(dict.fromkeys(body))
    node, section, published, date_source = _FACTS[number]
    place_values = details.get("Place") or []
    return SeedItem(
        number=number,
        node=node,
        section=section,
        published=published,
        date_source=date_source,
        kind=_KIND_SLUGS[kind_label],
        title=title,
        place=place_values[0] if place_values else None,
        sources=_split_values(details.get("Source") or []),
        fields_of_work=_split_values(details.get("Fields of work") or []),
        byline=byline,
        paragraphs=tuple(once),
        repeated=len(once) != len(body),
        promotion=promotion,
        nav_lines=tuple(nav),
    )


@lru_cache(maxsize=1)
def seed_items() -> tuple[SeedItem, ...]:
    """Seeds 000-002 as items, in seed order."""
    return tuple(_parse_item(n) for n in (0, 1, 2))


@lru_cache(maxsize=1)
def partnerships_lines() -> tuple[str, ...]:
    """Seed 003 (``/partnerships``, a static page that is not an item), non-blank lines."""
    return tuple(line for line in seed_text(3).split("\n") if line.strip())
