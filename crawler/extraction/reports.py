"""Which archived OSCE items a third-party article reports on: the rule, with its evidence.

Precision first: a link is made only on strong evidence, and each link says which.

``link``
    The article's body links to the item: one of its addresses (``Record.links``) is an
    address the archive saw the item at, or an item address (``/<section>/<node>``,
    ``/node/<node>``) on a host the archive saw the item on.  The detail is the address.
``title+date+institution``
    The article names the item's whole title (as a run of words: case, punctuation and
    spacing aside), is dated from :data:`DAYS_BEFORE` days before the item's publication
    to :data:`DAYS_AFTER` days after it, and names one of the item's institutions
    (``Source:``) in its title or text, besides the item's title (an institution named
    only inside the title is no second piece of evidence).
``title+date``
    The same without an institution, only for a *distinctive* title: at least
    :data:`DISTINCT_WORDS` words and no other archived item with the same title.

Never a link:

* a title of fewer than :data:`MIN_TITLE_WORDS` words (too common a phrase to mean one
  item), or a title named without a date in the window (the same words, another day);
* a title that is a part of a longer title the article names as well (the longer one is
  the item meant);
* two items with the same title that both meet the rule (which one is meant cannot be
  told: neither is linked);
* an item with a generic title ("OSCE Chairperson-in-Office visits Ukraine", shared by
  several items) unless the date *and* an institution agree.

A pure function of plain data (:class:`Article`, :class:`Item`): the crawl's end-of-run
step (``crawler.linking``) feeds it from the archive and stores what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

__all__ = [
    "DAYS_AFTER",
    "DAYS_BEFORE",
    "DISTINCT_WORDS",
    "MIN_TITLE_WORDS",
    "Article",
    "Catalogue",
    "Item",
    "Link",
    "reports_on",
    "words",
]

#: An article may be dated this many days before the item (time zones, embargoes)...
DAYS_BEFORE = 1
#: ...and this many days after it (news reports within two weeks).
DAYS_AFTER = 14
#: A title of fewer words is never matched by its words alone.
MIN_TITLE_WORDS = 4
#: A title of at least this many words that no other item shares is *distinctive*:
#: its words and the date suffice.
DISTINCT_WORDS = 6

LINK = "link"
TITLE_DATE_INSTITUTION = "title+date+institution"
TITLE_DATE = "title+date"
#: The evidence kinds, strongest first.
EVIDENCE = (LINK, TITLE_DATE_INSTITUTION, TITLE_DATE)

_WORD = re.compile(r"\w+")


def words(text: str) -> tuple[str, ...]:
    """The words of ``text`` for comparison: letters and digits, case folded (hyphens,
    quotes, punctuation and spacing do not count)."""
    return tuple(w.casefold() for w in _WORD.findall(text or ""))


@dataclass(frozen=True)
class Item:
    """An archived OSCE item, as much of it as the rule reads."""

    id: str
    title: str
    published: str | None  # YYYY-MM-DD
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    """A kept third-party article, as much of it as the rule reads."""

    id: str
    title: str
    text: str
    published: str | None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """The article reports on item ``id``; ``evidence`` is one of :data:`EVIDENCE`,
    ``detail`` what was found (the address linked to; or the title, the two dates and
    the institution named)."""

    id: str
    evidence: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "evidence": self.evidence, "detail": self.detail}


@dataclass
class Catalogue:
    """The archived items, indexed for the rule: by their title's first words, and by
    the addresses the archive saw them at (``resolve`` answers an address with an item
    id or None)."""

    items: dict[str, Item] = field(default_factory=dict)
    resolve: Callable[[str], str | None] = lambda url: None
    _by_start: dict[tuple[str, ...], list[tuple[tuple[str, ...], Item]]] = field(
        default_factory=dict
    )
    _title_count: dict[tuple[str, ...], int] = field(default_factory=dict)

    @classmethod
    def of(
        cls, items: Iterable[Item], resolve: Callable[[str], str | None] | None = None
    ) -> Catalogue:
        catalogue = cls(resolve=resolve or (lambda url: None))
        for item in items:
            catalogue.add(item)
        return catalogue

    def add(self, item: Item) -> None:
        self.items[item.id] = item
        key = words(item.title)
        if len(key) < MIN_TITLE_WORDS:
            return
        self._title_count[key] = self._title_count.get(key, 0) + 1
        self._by_start.setdefault(key[:MIN_TITLE_WORDS], []).append((key, item))

    def distinctive(self, title: tuple[str, ...]) -> bool:
        return len(title) >= DISTINCT_WORDS and self._title_count.get(title, 0) == 1

    def titles_in(self, text: Sequence[str]) -> list[tuple[int, int, Item]]:
        """Every item title found as a run of ``text``'s words: (start, end, item)."""
        found: list[tuple[int, int, Item]] = []
        n = MIN_TITLE_WORDS
        for i in range(len(text) - n + 1):
            for key, item in self._by_start.get(tuple(text[i : i + n]), ()):
                if tuple(text[i : i + len(key)]) == key:
                    found.append((i, i + len(key), item))
        return found


def _days(article: str | None, item: str | None) -> int | None:
    if not article or not item:
        return None
    try:
        return (date.fromisoformat(article) - date.fromisoformat(item)).days
    except ValueError:
        return None


def _named(haystack: Sequence[str], name: str) -> bool:
    needle = words(name)
    if not needle:
        return False
    n = len(needle)
    return any(tuple(haystack[i : i + n]) == needle for i in range(len(haystack) - n + 1))


def _masked(haystack: tuple[str, ...], spans: list[tuple[int, int]]) -> tuple[str, ...]:
    out = list(haystack)
    for start, end in spans:
        out[start:end] = ["\x00"] * (end - start)
    return tuple(out)


def reports_on(article: Article, catalogue: Catalogue) -> list[Link]:
    """The items ``article`` reports on, each with its evidence, ordered by item id."""
    links: dict[str, Link] = {}
    for url in article.links:
        item_id = catalogue.resolve(url)
        if item_id is not None and item_id in catalogue.items and item_id not in links:
            links[item_id] = Link(item_id, LINK, url)
    haystack = words(article.title) + ("\x00",) + words(article.text)  # no run across them
    found = catalogue.titles_in(haystack)
    # a title inside a longer title found at the same place is not the one meant
    spans = [(start, end) for start, end, _ in found]
    found = [
        (start, end, item)
        for start, end, item in found
        if not any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans)
    ]
    spans_of: dict[str, list[tuple[int, int]]] = {}
    for start, end, item in found:
        spans_of.setdefault(item.id, []).append((start, end))
    passed: dict[tuple[str, ...], list[Link]] = {}
    for _, _, item in found:
        if item.id in links or any(x.id == item.id for xs in passed.values() for x in xs):
            continue
        days = _days(article.published, item.published)
        if days is None or not -DAYS_BEFORE <= days <= DAYS_AFTER:
            continue
        title = words(item.title)
        dates = f"item {item.published}, article {article.published}"
        # named besides the title: a title that holds an institution's name is no
        # second piece of evidence
        elsewhere = _masked(haystack, spans_of[item.id])
        institution = next((s for s in item.sources if _named(elsewhere, s)), None)
        if institution is not None:
            detail = f"title '{item.title}'; {dates}; institution '{institution}'"
            link = Link(item.id, TITLE_DATE_INSTITUTION, detail)
        elif catalogue.distinctive(title):
            link = Link(item.id, TITLE_DATE, f"title '{item.title}'; {dates}")
        else:
            continue
        passed.setdefault(title, []).append(link)
    linked_titles = {words(catalogue.items[k].title) for k in links}
    for title, same_title in passed.items():
        # two items of one title both passing: cannot tell which (and when the article
        # links to one of that title, that one is meant)
        if len(same_title) == 1 and title not in linked_titles:
            links.setdefault(same_title[0].id, same_title[0])
    return [links[k] for k in sorted(links)]
