"""Deterministic OSCE-like items, their epochs, and the ground truth the tests check against.

A :class:`SiteModel` is a pure function of ``(items, seed, epoch, today, rates, theme)``. Item
*metadata* (node, kind, section, dates, where the date lives) is drawn once, cheaply, for
every item; item *content* (title, details, paragraphs) is derived on demand from a random
generator seeded by the item's identity and revision, and cached with a bound. That keeps a
25,000-item site quick to build and a page quick to render.

Every generated paragraph is distinct from every other paragraph of the site (all items,
all revisions, all epochs), except the deliberately republished copies: each paragraph
carries one sentence whose four slots (first name, surname, city, number) encode a number
unique to ``(item, revision, paragraph)`` through a bijection (see :func:`unique_sentence`).
A furniture model that learns repeated blocks across pages therefore never sees body text
as furniture.

Ground-truth conventions (what the extraction must produce, CONTRACT.md fields):

- ``place`` is the value under the ``Place:`` label, else ``None`` (a dateline city alone
  is not a place);
- ``text`` is the body paragraphs once, in order, joined by a blank line; a press
  release's dateline stays in its first paragraph; photo captions, document links, share
  links, related content and the promotion block are not text;
- ``attachments`` are the item's documents (``Content.documents``), in the order its page
  lists them, at the address the page links them (absolute when a base is given; a
  theme may link them at an extension-less download address);
- ``date_source`` follows CONTRACT.md's precedence and the page carries nothing that
  outranks it; ``heuristic`` is never the expected source (every item has a listing
  entry or a dateline);
- items the listings leave out (about 3%) are found through the sitemap and related links.

Epochs are cumulative days: epoch ``k`` is ``today + k`` days. Each epoch adds items, edits
some (body, title, date correction), deletes some (404 or 410), moves one to another
section, republishes one item's text under a new node number, changes the markup of some
items without changing what a reader sees, and at set epochs drifts the navigation.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from replica import languages as langs
from replica import vocab
from replica.navigation import drift_epochs, seed_nav_version, version_for_epoch
from replica.seeds import SeedItem, seed_items
from replica.themes import Theme, make_theme

DEFAULT_TODAY = date(2025, 6, 30)
FIRST_DAY = date(1995, 1, 1)
UTC = timezone.utc

#: Where each item's publication date can be found, and how often (CONTRACT.md order).
DATE_SOURCE_WEIGHTS = (("markup", 0.32), ("meta", 0.22), ("json-ld", 0.22), ("listing", 0.24))

MAX_REVS = 16  # body revisions an item can have (edits beyond wrap onto fresh numbers)
MAX_PARAS = 16  # paragraphs an item can have
_SLOT_SIZES = (
    len(vocab.FIRST_NAMES),
    len(vocab.SURNAMES),
    len(vocab.SLOT_CITIES),
    vocab.NUMBER_COUNT,
)
UNIQUE_SPACE = _SLOT_SIZES[0] * _SLOT_SIZES[1] * _SLOT_SIZES[2] * _SLOT_SIZES[3]
MAX_ITEMS = UNIQUE_SPACE // (MAX_REVS * MAX_PARAS)
_SCRAMBLE = 7_368_787  # a prime that divides no slot size: multiplication mod UNIQUE_SPACE
#                        is then a bijection, so the encoding looks random but stays unique

_NODE_ANCHORS = (  # (date, node): the node numbers the real site had around those dates
    (FIRST_DAY, 1200),
    (date(2003, 6, 27), 55436),
    (date(2010, 11, 29), 74289),
    (date(2024, 5, 17), 568554),
    (date(2030, 1, 1), 700000),
)


@dataclass(frozen=True)
class Rates:
    """How much happens from one epoch to the next (shares of the live items)."""

    new: float = 0.002
    min_new: int = 3
    edit: float = 0.01
    delete: float = 0.002
    markup: float = 0.01
    moves: int = 1
    republish: int = 1
    #: edits whose sitemap ``<lastmod>`` does NOT move (off: the site tells the truth)
    silent_edits: bool = False


@dataclass
class Item:
    """Cheap metadata of one item; content is derived on demand (:meth:`SiteModel.content`)."""

    idx: int  # creation order, unique; the paragraphs' uniqueness hangs on it
    node: int
    kind: str
    section: str
    source: int  # index into vocab.INSTITUTIONS (-1 for seeds)
    published: date
    date_source: str
    listed: bool
    dateline: date | None  # the dateline's date (may be a day before ``published``)
    created_epoch: int
    lastmod: datetime  # sitemap <lastmod>: last reader-visible change
    changed: datetime  # the item's own bytes last changed (Last-Modified)
    body_rev: int = 0
    title_rev: int = 0
    markup_rev: int = 0
    status: int = 200  # 200 live; 404 or 410 once deleted
    old_paths: list[str] = field(default_factory=list)
    seed: SeedItem | None = None
    first_day: date | None = None  # publication day before any correction (titles use it)
    home: str = ""  # section at creation: content never depends on where the item moved
    frozen: Content | None = None  # republished items carry a copy of the original
    dup_of: int | None = None  # node of the original a republished item copies
    #: language versions: revision of each one's text, and when it last changed
    lang_revs: dict[str, int] = field(default_factory=dict)
    lang_changed: dict[str, datetime] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/{self.section}/{self.node}"

    @property
    def live(self) -> bool:
        return self.status == 200

    @property
    def item_id(self) -> str:
        return f"osce.org/{self.node}"

    def lang_path(self, code: str) -> str:
        """Address of the item's version in language ``code`` (``/ru/fsc/55436``)."""
        return self.path if code == "en" else f"/{code}{self.path}"

    def lang_id(self, code: str) -> str:
        """Id of the item's version in ``code``: English keeps ``osce.org/<node>``."""
        return self.item_id if code == "en" else f"osce.org/{code}/{self.node}"


@dataclass(frozen=True)
class Content:
    """What a reader sees of an item (plus the parts of the page that are not the record)."""

    kind: str
    title: str
    place: str | None
    sources: tuple[str, ...]
    fields_of_work: tuple[str, ...]
    byline: str | None
    paragraphs: tuple[str, ...]
    repeated: bool  # the page shows paragraphs 2..N a second time, as seed 001 does
    promotion: bool  # the stories' "OSCE Impact" block
    caption: str | None = None  # a photo caption (not part of the text)
    documents: tuple[tuple[str, str], ...] = ()  # (title, href of a PDF or DOCX file)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _key(*parts: int) -> int:
    """A stable integer seed from small integers (``hash`` of ints is stable, of str not)."""
    acc = 1469598103934665603
    for part in parts:
        acc = ((acc ^ (part & 0xFFFFFFFFFFFF)) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return acc


def unique_slots(number: int, seed: int) -> tuple[int, int, int, int]:
    """The four slot indexes that encode ``number`` (a bijection under one ``seed``)."""
    if not 0 <= number < UNIQUE_SPACE:
        raise ValueError("unique sentence number out of range")
    value = (number * _SCRAMBLE + seed * 104_729) % UNIQUE_SPACE
    digits = []
    for size in _SLOT_SIZES:
        value, digit = divmod(value, size)
        digits.append(digit)
    return digits[0], digits[1], digits[2], digits[3]


def unique_sentence(number: int, seed: int, rng: random.Random) -> str:
    """A sentence that no other ``number`` (under the same ``seed``) can produce.

    ``number`` is scrambled by a bijection of ``[0, UNIQUE_SPACE)`` and written in mixed
    radix over the four slot pools; distinct numbers give distinct slot tuples, and a
    template renders distinct tuples as distinct strings.
    """
    digits = unique_slots(number, seed)
    template = rng.choice(vocab.UNIQUE_TEMPLATES)
    sentence = template.format(
        first=vocab.FIRST_NAMES[digits[0]],
        last=vocab.SURNAMES[digits[1]],
        city=vocab.SLOT_CITIES[digits[2]],
        number=vocab.NUMBER_BASE + digits[3],
        quote=rng.choice(vocab.QUOTES),
    )
    return sentence[0].upper() + sentence[1:]


def actor(institution: str) -> str:
    """How a sentence names an institution: ``OSCE Permanent Council``, ``OSCE Mission ...``."""
    if institution.startswith("OSCE "):
        return institution.replace(" (closed)", "")
    if institution == "Summits / Ministerial Councils":
        return "OSCE Chairpersonship"
    return "OSCE " + institution


def article(noun: str) -> str:
    """``a workshop``, ``an expert meeting``."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _node_for(day: date) -> int:
    for (d0, n0), (d1, n1) in zip(_NODE_ANCHORS, _NODE_ANCHORS[1:], strict=False):
        if d0 <= day <= d1:
            span = (d1 - d0).days or 1
            return n0 + (n1 - n0) * (day - d0).days // span
    return _NODE_ANCHORS[-1][1]


def format_day(day: date) -> str:
    """``26 June 2003``, as datelines and listings write dates."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _stamp(day: date, hour: int = 6, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


class SiteModel:
    """The replica's content at one epoch: items, listings' order, ground truth, changes.

    It knows nothing of HTTP or markup: :class:`replica.site.Site` adds ``render`` (through
    :mod:`replica.routes`) and the gold records, so no module of the replica imports back
    into one that imports it. ``theme`` (0: the default markup) is the structure-randomised
    theme of :mod:`replica.themes`; it changes content only in that some items then carry
    long ``Source:`` and ``Fields of work:`` lists.
    """

    def __init__(
        self,
        items: int = 2000,
        seed: int = 1,
        epoch: int = 0,
        *,
        today: date = DEFAULT_TODAY,
        rates: Rates | None = None,
        sitemap_size: int = 2000,
        cache_size: int = 4096,
        theme: int = 0,
        languages: float = 0.0,
        sitemap_languages: bool = True,
    ) -> None:
        if items < 3:
            raise ValueError("a site has at least the three seed items")
        if items > MAX_ITEMS // 2:
            raise ValueError(f"at most {MAX_ITEMS // 2} items")
        self.size = items
        self.seed = seed
        self.today = today
        self.rates = rates or Rates()
        self.sitemap_size = sitemap_size
        self.theme_number = theme
        self.theme: Theme | None = make_theme(theme)
        if languages and self.theme is not None:
            raise ValueError("language versions are served in the default markup only")
        if not 0.0 <= languages <= 1.0:
            raise ValueError("languages is a share of the items, between 0 and 1")
        #: Share of the items that also exist in other languages (0: none, as before).
        self.language_share = languages
        #: The sitemap lists each language version too (as Drupal's sitemaps do); off,
        #: only the item pages' hreflang links and switcher lead to them.
        self.sitemap_languages = sitemap_languages
        self._lang_cache: OrderedDict[tuple[int, str, int], Content] = OrderedDict()
        self.lock = threading.RLock()
        self._content_cache: OrderedDict[tuple[int, int, int], Content] = OrderedDict()
        self._titles: OrderedDict[tuple[int, int, int], str] = OrderedDict()
        self._cache_size = cache_size
        self.render_cache: OrderedDict[Any, Any] = OrderedDict()  # used by replica.pages
        self._build_epoch0()
        self.set_epoch(epoch)

    # ------------------------------------------------------------------ time

    def day(self, epoch: int | None = None) -> date:
        """The calendar day of an epoch (epoch 0 is ``today``)."""
        return self.today + timedelta(days=self.epoch if epoch is None else epoch)

    @property
    def nav_version(self) -> int:
        return version_for_epoch(self.epoch)

    def nav_changed(self, version: int) -> datetime:
        """When the menu of ``version`` went live (drives Last-Modified of every page)."""
        if version == 0:
            return _stamp(FIRST_DAY)
        return _stamp(self.day(drift_epochs()[version - 1]), 5)

    def page_nav_version(self, item: Item | None) -> int:
        """Menu version a page shows. In epoch 0 the seed pages show the menu they were
        captured with (the live site's page cache serves pages rendered at different
        times); from epoch 1 on every page shows the current menu."""
        if self.epoch == 0 and item is not None and item.seed is not None:
            return seed_nav_version(item.seed.number)
        return self.nav_version

    def set_epoch(self, epoch: int) -> None:
        """Move the site to ``epoch`` (forward by replaying, backward by rebuilding)."""
        if epoch < 0:
            raise ValueError("epochs start at 0")
        with self.lock:
            if epoch < getattr(self, "epoch", 0):
                self._build_epoch0()
            while self.epoch < epoch:
                self._advance()
            self._reindex()

    # ----------------------------------------------------------- epoch 0

    def _build_epoch0(self) -> None:
        self.epoch = 0
        self.items: list[Item] = []
        self._changes: dict[int, dict[str, Any]] = {}
        self.render_cache.clear()
        self._content_cache.clear()
        self._titles.clear()
        rng = random.Random(_key(self.seed, 0xBA5E))
        seeds = seed_items()
        taken = {s.node for s in seeds}
        drafts: list[Item] = []
        kinds = list(vocab.KIND_WEIGHTS)
        weights = list(vocab.KIND_WEIGHTS.values())
        span = (self.today - FIRST_DAY).days
        for _ in range(self.size - len(seeds)):
            kind = rng.choices(kinds, weights)[0]
            if kind in ("spot-report", "daily-report"):
                day = date(2014, 3, 21) + timedelta(days=rng.randrange(2900))
            else:
                day = FIRST_DAY + timedelta(days=rng.randrange(span + 1))
                if kind == "story" and day.year < 2008 and rng.random() < 0.8:
                    since = date(2008, 1, 1)
                    day = since + timedelta(days=rng.randrange((self.today - since).days))
            drafts.append(self._new_item(rng, kind, day, node=0, epoch=0))
        drafts.sort(key=lambda it: it.published)
        last = 0
        for it in drafts:
            node = max(last + 1, _node_for(it.published)) + rng.randrange(25)
            while node in taken:
                node += 1
            it.node, last = node, node
            taken.add(node)
        for _ in range(len(drafts) // 50):  # a few nodes out of date order (drafts, imports)
            a = rng.randrange(len(drafts))
            b = min(len(drafts) - 1, a + rng.randrange(1, 200))
            drafts[a].node, drafts[b].node = drafts[b].node, drafts[a].node
        for number, s in enumerate(seeds):
            item = Item(
                idx=number,
                node=s.node,
                kind=s.kind,
                section=s.section,
                source=-1,
                published=s.published,
                date_source=s.date_source,
                listed=True,
                dateline=s.published - timedelta(days=1) if number == 1 else s.published,
                created_epoch=0,
                lastmod=_stamp(s.published, 11, 30),
                changed=_stamp(s.published, 11, 30),
                seed=s,
            )
            self.items.append(item)
        for it in drafts:
            it.idx = len(self.items)
            self.items.append(it)
        self._changes[0] = self._empty_changes()
        self._changes[0]["new"] = [it.item_id for it in self.items]
        if self.language_share:
            self._changes[0]["new"] += self._translation_ids(self.items)
            self._changes[0]["translations_edited"] = []
        self._reindex()

    def _new_item(self, rng: random.Random, kind: str, day: date, node: int, epoch: int) -> Item:
        """Metadata of one generated item (content comes later, from its identity)."""
        year = day.year
        fits = [
            i
            for i, inst in enumerate(vocab.INSTITUTIONS)
            if kind in inst[5].split() and inst[3] <= year <= inst[4]
        ] or [1]
        source = rng.choice(fits)
        section = vocab.INSTITUTIONS[source][1]
        has_dateline = rng.random() < {
            "press-release": 0.85,
            "news": 0.5,
            "statement": 0.4,
            "spot-report": 0.5,
        }.get(kind, 0.0)
        r, acc, date_source = rng.random(), 0.0, "listing"
        for name, weight in DATE_SOURCE_WEIGHTS:
            acc += weight
            if r < acc:
                date_source = name
                break
        listed = True
        if has_dateline and rng.random() < 0.05:
            date_source, listed = "dateline", False  # only the body's dateline dates it
        elif date_source != "listing" and rng.random() < 0.01:
            listed = False  # reachable by sitemap and related links only
        lag = 1 if (has_dateline and date_source != "dateline" and rng.random() < 0.3) else 0
        lastmod = _stamp(day, 9 + rng.randrange(9), rng.randrange(60))
        if epoch == 0 and rng.random() < 0.2:  # historic edits before our first look
            later = min(self.today, day + timedelta(days=1 + rng.randrange(400)))
            lastmod = _stamp(later, 8 + rng.randrange(10), rng.randrange(60))
        return Item(
            idx=-1,
            node=node,
            kind=kind,
            section=section,
            source=source,
            published=day,
            date_source=date_source,
            listed=listed,
            dateline=day - timedelta(days=lag) if has_dateline else None,
            created_epoch=epoch,
            lastmod=lastmod,
            changed=lastmod,
            first_day=day,
            home=section,
        )

    # ------------------------------------------------------------ epochs

    @staticmethod
    def _empty_changes() -> dict[str, Any]:
        return {
            "new": [],
            "edited": [],
            "deleted": [],
            "moved": [],
            "republished": [],
            "markup_only": [],
            "nav_drift": False,
            "edits": {},
        }

    def _advance(self) -> None:
        """Apply epoch ``self.epoch + 1`` on top of the current state."""
        k = self.epoch + 1
        day = self.day(k)
        rng = random.Random(_key(self.seed, 0xE90C, k))
        rates = self.rates
        ch = self._empty_changes()
        live = [
            it
            for it in self.items
            if it.live and it.seed is None and it.dup_of is None and it.created_epoch < k
        ]
        n = len(live)

        def count(rate: float, least: int = 1) -> int:
            return max(least, round(n * rate))

        n_edit, n_del, n_markup = count(rates.edit), count(rates.delete), count(rates.markup)
        n_move, n_rep = rates.moves, rates.republish
        wanted = min(n, n_edit + n_del + n_markup + n_move + n_rep)
        picked = rng.sample(live, wanted)
        stamp = _stamp(day, 6, 0)

        edits, picked = picked[:n_edit], picked[n_edit:]
        self._edit(rng, edits, day, stamp, ch)
        dels, picked = picked[:n_del], picked[n_del:]
        for it in dels:
            it.status = rng.choice((404, 410))
            it.changed = stamp
            ch["deleted"].append(it.item_id)
            if self.language_share:
                ch["deleted"] += [it.lang_id(code) for code in self.translations(it)]
        marks, picked = picked[:n_markup], picked[n_markup:]
        for it in marks:
            it.markup_rev += 1
            it.changed = stamp
            ch["markup_only"].append(it.item_id)
        moves, picked = picked[:n_move], picked[n_move:]
        self._move(rng, moves, stamp, ch)
        top = max(it.node for it in self.items)
        top = self._republish(rng, picked[:n_rep], day, k, top, ch)
        self._publish_new(rng, max(rates.min_new, round(n * rates.new)), day, k, top, ch)
        ch["nav_drift"] = version_for_epoch(k) != version_for_epoch(k - 1)
        if self.language_share:
            self._translation_epoch(k, live, stamp, ch)
        self.epoch = k
        self._changes[k] = ch
        self.render_cache.clear()

    def _edit(
        self, rng: random.Random, edits: list[Item], day: date, stamp: datetime, ch: dict[str, Any]
    ) -> None:
        """Edit each item's body, title or date (an epoch's corrections)."""
        for it in edits:
            what = rng.choices(("body", "title", "date"), (0.5, 0.25, 0.25))[0]
            if what == "date" and it.date_source == "dateline":
                what = "body"  # the dateline is that item's only date: correcting it is a body edit
            if what == "body":
                it.body_rev += 1
            elif what == "title":
                it.title_rev += 1
            else:
                shift = rng.choice((-3, -2, -1, 1, 2, 3))
                new_day = it.published + timedelta(days=shift)
                if new_day > day:
                    new_day = it.published - timedelta(days=abs(shift))
                it.published = new_day
                for code in self.translations(it):  # the node's date shows in every language
                    it.lang_changed[code] = stamp
            it.changed = stamp
            if not self.rates.silent_edits:
                it.lastmod = stamp
            ch["edited"].append(it.item_id)
            ch["edits"][it.item_id] = what

    @staticmethod
    def _move(rng: random.Random, moves: list[Item], stamp: datetime, ch: dict[str, Any]) -> None:
        """Move each item to another section (its old address then redirects)."""
        for it in moves:
            old = it.path
            sections = sorted({inst[1] for inst in vocab.INSTITUTIONS} - {it.section})
            it.old_paths.append(old)
            it.section = rng.choice(sections)
            it.changed = stamp
            ch["moved"].append({"id": it.item_id, "old": old, "new": it.path})

    def _republish(
        self,
        rng: random.Random,
        originals: list[Item],
        day: date,
        k: int,
        top: int,
        ch: dict[str, Any],
    ) -> int:
        """Publish a copy of each original under a new node; return the highest node."""
        for original in originals:
            top += 1 + rng.randrange(30)
            copy = self._new_item(rng, original.kind, day, top, k)
            copy.section, copy.source = original.section, original.source
            copy.home = original.home
            copy.frozen = self.content(original)
            copy.dup_of = original.node
            copy.dateline = original.dateline
            if copy.date_source == "dateline":
                copy.date_source, copy.listed = "listing", True
            copy.lastmod = copy.changed = _stamp(day, 10, 15)
            copy.idx = len(self.items)
            self.items.append(copy)
            ch["new"].append(copy.item_id)
            ch["republished"].append({"id": copy.item_id, "duplicate_of": original.item_id})
        return top

    def _publish_new(
        self, rng: random.Random, how_many: int, day: date, k: int, top: int, ch: dict[str, Any]
    ) -> None:
        """Publish ``how_many`` new items dated ``day`` (or, a few, the day before)."""
        kinds = list(vocab.KIND_WEIGHTS)
        weights = list(vocab.KIND_WEIGHTS.values())
        for _ in range(how_many):
            kind = rng.choices(kinds, weights)[0]
            if kind in ("spot-report", "daily-report"):
                kind = "press-release"  # that mission has closed
            when = day if rng.random() < 0.8 else day - timedelta(days=1)
            top += 1 + rng.randrange(30)
            it = self._new_item(rng, kind, when, top, k)
            it.lastmod = it.changed = _stamp(when, 9 + rng.randrange(9), rng.randrange(60))
            it.idx = len(self.items)
            if it.idx * MAX_REVS * MAX_PARAS >= UNIQUE_SPACE:
                raise ValueError("too many items for unique paragraphs")
            self.items.append(it)
            ch["new"].append(it.item_id)
            if self.language_share:
                ch["new"] += [it.lang_id(code) for code in self.translations(it)]

    def _reindex(self) -> None:
        """Lookup tables and listing orders for the current epoch."""
        self.by_path: dict[str, Item] = {}
        self.by_node: dict[int, Item] = {}
        self.old_paths: dict[str, Item] = {}
        for it in self.items:
            self.by_node[it.node] = it
            self.by_path[it.path] = it
            for old in it.old_paths:
                self.old_paths[old] = it
        order = sorted(
            (it for it in self.items if it.live and it.listed),
            key=lambda it: (it.published, it.node),
            reverse=True,
        )
        self.listing_order: dict[str, list[Item]] = {
            "newsroom": order,
            "press-releases": [it for it in order if it.kind == "press-release"],
            "stories": [it for it in order if it.kind == "story"],
        }
        self.sitemap_order = sorted((it for it in self.items if it.live), key=lambda i: i.node)
        self.render_cache.clear()

    # ------------------------------------------------------------ content

    def content(self, item: Item) -> Content:
        """The reader-visible content of ``item`` at its current revision (cached)."""
        if item.frozen is not None:
            return item.frozen
        key = (item.idx, item.body_rev, item.title_rev)
        with self.lock:
            hit = self._content_cache.get(key)
            if hit is not None:
                self._content_cache.move_to_end(key)
                return hit
        made = self._seed_content(item.seed) if item.seed else self._make_content(item)
        with self.lock:
            self._content_cache[key] = made
            if len(self._content_cache) > self._cache_size:
                self._content_cache.popitem(last=False)
        return made

    @staticmethod
    def _seed_content(s: SeedItem) -> Content:
        return Content(
            kind=s.kind,
            title=s.title,
            place=s.place,
            sources=s.sources,
            fields_of_work=s.fields_of_work,
            byline=s.byline,
            paragraphs=s.paragraphs,
            repeated=s.repeated,
            promotion=s.promotion,
        )

    def _context(self, item: Item) -> tuple[dict[str, str], str]:
        """What an item is about (topic, audience, country, event) and a story opener:
        all a title needs, drawn apart from the body so titles are cheap."""
        rng = random.Random(_key(self.seed, item.idx, 0xC1))
        ctx = {
            "topic": rng.choice(vocab.TOPICS),
            "audience": rng.choice(vocab.AUDIENCES),
            "country": vocab.SECTION_COUNTRY.get(item.home) or rng.choice(vocab.COUNTRIES),
            "event": rng.choice(vocab.EVENT_KINDS),
        }
        return ctx, rng.choice(vocab.STORY_OPENERS)

    def title(self, item: Item) -> str:
        """The item's current title, without generating its body (related links use it)."""
        if item.seed is not None or item.frozen is not None:
            return self.content(item).title
        key = (item.idx, -1, item.title_rev)
        with self.lock:
            hit = self._titles.get(key)
        if hit is None:
            ctx, opener = self._context(item)
            hit = self._title(item, ctx, actor(vocab.INSTITUTIONS[item.source][0]), opener)
            with self.lock:
                self._titles[key] = hit
                if len(self._titles) > 4 * self._cache_size:
                    self._titles.popitem(last=False)
        return hit

    # Long on purpose: one seeded draw sequence; the order of the rng calls is the content.
    def _make_content(self, item: Item) -> Content:
        rng = random.Random(_key(self.seed, item.idx, 0xC0))
        inst = vocab.INSTITUTIONS[item.source]
        kind = item.kind
        ctx, opener = self._context(item)
        topic = ctx["topic"]
        n_fields = rng.choice((0, 0, 1, 1, 2, 2, 3, 4))
        fields_of_work = tuple(rng.sample(vocab.FIELDS_OF_WORK, n_fields))
        ctx["field_lc"] = (fields_of_work[0] if fields_of_work else "security").lower()
        sources = [inst[0]]
        if rng.random() < 0.25:
            extra = [i[0] for i in vocab.INSTITUTIONS if "(closed)" not in i[0]]
            for name in rng.sample(extra, rng.choice((1, 1, 2))):
                if name not in sources:
                    sources.append(name)
        city = rng.choice(vocab.HOME_PLACE.get(item.home, ("VIENNA",) * 3 + vocab.PLACES))
        place = None
        if item.dateline is not None and rng.random() < 0.65:
            place = city
        elif kind == "story" and rng.random() < 0.1:
            place = city
        byline = (
            rng.choice(vocab.BYLINE_AUTHORS) if kind == "story" and rng.random() < 0.45 else None
        )
        n_par = {
            "press-release": (3, 8),
            "story": (5, 12),
            "news": (2, 5),
            "spot-report": (2, 4),
            "daily-report": (4, 9),
            "statement": (2, 5),
        }[kind]
        count = rng.randint(*n_par)
        revs = [0] * count
        for r in range(1, item.body_rev + 1):
            erng = random.Random(_key(self.seed, item.idx, r, 0xED))
            if count < MAX_PARAS and erng.random() < 0.3:
                count += 1
                revs.append(r)
            else:
                revs[erng.randrange(count)] = r
        paragraphs = []
        dash = rng.choice((" - ", " - ", " – ", "- "))
        for p in range(count):
            text = self._paragraph(item, p, revs[p] % MAX_REVS, ctx, actor(inst[0]))
            if p == 0 and item.dateline is not None:
                text = f"{city}, {format_day(item.dateline)}{dash}{text}"
            paragraphs.append(text)
        title = self.title(item)
        caption = None
        if rng.random() < (0.4 if kind == "story" else 0.1):
            caption = (
                f"{ctx['audience'].capitalize()} during a {ctx['event']} on {topic}, "
                f"{city.title()}, {format_day(item.first_day or item.published)}. "
                f"({rng.choice(vocab.CAPTION_CREDITS)})"
            )
        documents: tuple[tuple[str, str], ...] = ()
        if rng.random() < 0.15:
            doc = rng.choice(vocab.DOCUMENT_TITLES)
            documents = ((doc, f"/files/f/documents/{item.node % 97}/{item.node}.pdf"),)
            documents += self._more_documents(item, doc)
        if self.theme is not None:
            sources, fields_of_work = self._long_labels(item, sources, fields_of_work)
        return Content(
            kind=kind,
            title=title,
            place=place,
            sources=tuple(sources),
            fields_of_work=fields_of_work,
            byline=byline,
            paragraphs=tuple(paragraphs),
            repeated=count >= 3 and rng.random() < 0.06,
            promotion=kind == "story" and rng.random() < 0.9,
            caption=caption,
            documents=documents,
        )

    def _more_documents(self, item: Item, first: str) -> tuple[tuple[str, str], ...]:
        """A second file for some items that have one: a translation, or an annex in
        another format. Drawn apart from the content's own sequence, so every other part
        of every item is what it was before items had more than one document."""
        rng = random.Random(_key(self.seed, item.idx, 0xD0C))
        if rng.random() >= 0.35:
            return ()
        folder = f"/files/f/documents/{item.node % 97}"
        if rng.random() < 0.5:
            return ((f"{first} (Russian version)", f"{folder}/{item.node}-ru.pdf"),)
        annex = rng.choice([t for t in vocab.DOCUMENT_TITLES if t != first])
        return ((f"Annex: {annex}", f"{folder}/{item.node}-annex.docx"),)

    def _long_labels(
        self, item: Item, sources: list[str], fields_of_work: tuple[str, ...]
    ) -> tuple[list[str], tuple[str, ...]]:
        """A themed site gives some items the long lists SITE.md reports: a joint statement
        with 18 institutions under ``Source:``, 10 fields of work."""
        assert self.theme is not None
        rng = random.Random(_key(self.seed, item.idx, self.theme.number, 0x1096))
        if rng.random() >= self.theme.long_labels:
            return sources, fields_of_work
        if rng.random() < 0.6:
            extra = [i[0] for i in vocab.INSTITUTIONS if "(closed)" not in i[0]]
            extra = [name for name in extra if name not in sources]
            sources = sources + rng.sample(extra, min(len(extra), 18 - len(sources)))
        if rng.random() < 0.6:
            rest = [f for f in vocab.FIELDS_OF_WORK if f not in fields_of_work]
            fields_of_work = fields_of_work + tuple(rng.sample(rest, 10 - len(fields_of_work)))
        return sources, fields_of_work

    def _paragraph(self, item: Item, p: int, rev: int, ctx: dict[str, str], inst: str) -> str:
        rng = random.Random(_key(self.seed, item.idx, rev, p, 0x9A))
        sentences = []
        if p == 0:
            verb = rng.choice(("organized", "hosted", "supported", "held", "opened"))
            sentences.append(
                f"The {inst} {verb} {article(ctx['event'])} on {ctx['topic']} for "
                f"{ctx['audience']} in {ctx['country']}."
            )
        for filler in rng.sample(vocab.FILLER_SENTENCES, rng.randint(1, 3)):
            sentences.append(filler.format(**ctx))
        number = (item.idx * MAX_REVS + rev) * MAX_PARAS + p
        sentences.insert(
            rng.randrange(len(sentences) + 1) if p else len(sentences),
            unique_sentence(number, self.seed, rng),
        )
        return " ".join(sentences)

    def _title(
        self, item: Item, ctx: dict[str, str], inst: str, opener: str, rev: int | None = None
    ) -> str:
        """The title at revision ``rev``; each revision differs from the one before."""
        rev = item.title_rev if rev is None else rev
        previous = self._title(item, ctx, inst, opener, rev - 1) if rev else None
        for attempt in range(8):
            rng = random.Random(_key(self.seed, item.idx, rev, attempt, 0x717))
            if rev:
                opener = rng.choice(vocab.STORY_OPENERS)
            title = self._draw_title(item, ctx, inst, opener, rng)
            if attempt >= 4:
                title += rng.choice((" (updated)", " – update", ": corrected version"))
            if title != previous:
                return title
        raise AssertionError("no distinct title revision")

    @staticmethod
    def _draw_title(
        item: Item, ctx: dict[str, str], inst: str, opener: str, rng: random.Random
    ) -> str:
        kind = item.kind
        day = item.first_day or item.published
        if kind == "press-release":
            return (
                f"{inst} {rng.choice(vocab.VERBS_PR)} {ctx['event']} on {ctx['topic']} "
                f"for {ctx['audience']} in {ctx['country']}"
            )
        if kind == "story":
            return f"{opener}: {ctx['audience']} in {ctx['country']} take on {ctx['topic']}"
        if kind == "news":
            return (
                f"OSCE {ctx['event']} in {rng.choice(vocab.SLOT_CITIES)} discusses {ctx['topic']}"
            )
        if kind == "spot-report":
            return (
                f"Spot report: SMM {rng.choice(('observes', 'records', 'follows up on'))} "
                f"damage near {rng.choice(('Donetsk', 'Luhansk', 'Avdiivka', 'Shchastia'))}"
                f" ({format_day(day)})"
            )
        if kind == "daily-report":
            return (
                "Latest from the OSCE Special Monitoring Mission to Ukraine (SMM), based on "
                f"information received as of 19:30, {format_day(day)}"
            )
        return f"Statement by the {rng.choice(vocab.ROLES)} on {ctx['topic']}"

    # ---------------------------------------------------- language versions

    def translations(self, item: Item) -> tuple[str, ...]:
        """The languages besides English ``item`` exists in (none for the seeds and for
        republished copies), drawn once from the item's identity: an item has them from
        its first day, and keeps them."""
        if not self.language_share or item.seed is not None or item.dup_of is not None:
            return ()
        rng = random.Random(_key(self.seed, item.idx, 0x1A6))
        if rng.random() >= self.language_share:
            return ()
        codes = list(langs.LANGUAGES)
        picked = set(rng.sample(codes, rng.choice((1, 1, 2, 3))))
        return tuple(code for code in codes if code in picked)

    def _translation_ids(self, items: list[Item]) -> list[str]:
        return [it.lang_id(code) for it in items for code in self.translations(it)]

    def translation(self, item: Item, code: str) -> Content:
        """What the version of ``item`` in ``code`` says at its current revision: its own
        title and text; the English item's kind, place, sources and fields of work (the
        site shows institution names and cities as the English page does); no byline,
        caption, documents or promotion block."""
        rev = item.lang_revs.get(code, 0)
        key = (item.idx, code, rev)
        with self.lock:
            hit = self._lang_cache.get(key)
        if hit is not None:
            return hit
        lang = langs.LANGUAGES[code]
        number = langs.LANGUAGE_NUMBERS[code]
        english = self.content(item)
        rng = random.Random(_key(self.seed, item.idx, number, 0x7A1))
        title = langs.title(lang, rng)
        count = rng.randint(2, 5)
        revs = [0] * count
        for r in range(1, rev + 1):
            erng = random.Random(_key(self.seed, item.idx, number, r, 0xED1))
            revs[erng.randrange(count)] = r
        paragraphs = []
        for p in range(count):
            prng = random.Random(_key(self.seed, item.idx, number, revs[p], p, 0x9A1))
            sentences = prng.sample(lang.fillers, prng.randint(2, 3))
            slots = unique_slots(
                (item.idx * MAX_REVS + revs[p] % MAX_REVS) * MAX_PARAS + p, self.seed
            )
            sentences.insert(
                prng.randrange(len(sentences) + 1), langs.unique_sentence(lang, slots, prng)
            )
            paragraphs.append(" ".join(sentences))
        made = Content(
            kind=item.kind,
            title=title,
            place=english.place,
            sources=english.sources,
            fields_of_work=english.fields_of_work,
            byline=None,
            paragraphs=tuple(paragraphs),
            repeated=False,
            promotion=False,
        )
        with self.lock:
            self._lang_cache[key] = made
            if len(self._lang_cache) > self._cache_size:
                self._lang_cache.popitem(last=False)
        return made

    def translation_changed(self, item: Item, code: str) -> datetime:
        """When the version in ``code`` last changed (Last-Modified of its page)."""
        return item.lang_changed.get(code, _stamp(item.first_day or item.published, 12))

    def translation_record(self, item: Item, code: str, base: str = "") -> dict[str, Any]:
        """The expected record of ``item``'s version in ``code``: dated by the ``<time>``
        its page always carries, linked to every other version of the item."""
        c = self.translation(item, code)
        return {
            "id": item.lang_id(code),
            "url": base + item.lang_path(code),
            "kind": item.kind,
            "title": c.title,
            "published": item.published.isoformat(),
            "date_source": "markup",
            "place": c.place,
            "sources": list(c.sources),
            "fields_of_work": list(c.fields_of_work),
            "byline": None,
            "language": code,
            "text": c.text,
            "attachments": [],
            "language_versions": self._other_versions(item, code),
        }

    def _other_versions(self, item: Item, code: str) -> list[str]:
        return sorted(item.lang_id(c) for c in ("en", *self.translations(item)) if c != code)

    def _translation_epoch(
        self, k: int, live: list[Item], stamp: datetime, ch: dict[str, Any]
    ) -> None:
        """Edit the text of some language versions, each alone: the English page and the
        item's other versions stay as they were. Drawn apart from the epoch's other
        changes, so the English site changes exactly as it does without languages."""
        rng = random.Random(_key(self.seed, 0x1A6E, k))
        edited: list[dict[str, str]] = []
        candidates = [it for it in live if it.live and self.translations(it)]
        for it in rng.sample(candidates, min(len(candidates), max(1, len(candidates) // 20))):
            code = rng.choice(self.translations(it))
            it.lang_revs[code] = it.lang_revs.get(code, 0) + 1
            it.lang_changed[code] = stamp
            edited.append({"id": it.lang_id(code), "of": it.item_id, "language": code})
        ch["translations_edited"] = edited

    # ------------------------------------------------------- ground truth

    def record(self, item: Item, base: str = "") -> dict[str, Any]:
        """The expected extraction record of one item (CONTRACT.md fields)."""
        c = self.content(item)
        return {
            "id": item.item_id,
            "url": base + item.path,
            "kind": item.kind,
            "title": c.title,
            "published": item.published.isoformat(),
            "date_source": item.date_source,
            "place": c.place,
            "sources": list(c.sources),
            "fields_of_work": list(c.fields_of_work),
            "byline": c.byline,
            "language": "en",
            "text": c.text,
            "attachments": [
                {"title": title, "url": base + self.document_href(href)}
                for title, href in c.documents
            ],
        } | ({"language_versions": self._other_versions(item, "en")} if self.language_share else {})

    def document_href(self, href: str) -> str:
        """The address an item page links for a document kept at ``href``."""
        return self.theme.docs.href(href) if self.theme is not None else href

    def ground_truth(self, base: str = "") -> dict[str, dict[str, Any]]:
        """Expected record of every live item of the current epoch, keyed by id."""
        with self.lock:
            items = [it for it in self.items if it.live]
        truth = {it.item_id: self.record(it, base) for it in items}
        for it in items:
            for code in self.translations(it):
                truth[it.lang_id(code)] = self.translation_record(it, code, base)
        return truth

    def changes(self, epoch: int) -> dict[str, Any]:
        """What changed from ``epoch - 1`` to ``epoch`` (epoch 0: everything is new).

        ``new`` lists every id that did not exist before (republished copies included;
        ``republished`` says which those are). ``edited`` ids changed what a reader sees
        (``edits`` says how: body, title or date). ``markup_only`` ids changed bytes only.
        ``nav_drift`` means the menu changed on every page.
        """
        if epoch > self.epoch:
            return SiteModel(
                self.size,
                self.seed,
                epoch,
                today=self.today,
                rates=self.rates,
                sitemap_size=self.sitemap_size,
                theme=self.theme_number,
                languages=self.language_share,
                sitemap_languages=self.sitemap_languages,
            ).changes(epoch)
        ch = self._changes[epoch]
        return {
            key: (
                list(value)
                if isinstance(value, list)
                else dict(value)
                if isinstance(value, dict)
                else value
            )
            for key, value in ch.items()
        }

    def item_paths(self) -> list[str]:
        """Canonical paths of the live items (every kind, listed or not)."""
        return [it.path for it in self.items if it.live]

    def items_live(self) -> list[Item]:
        return [it for it in self.items if it.live]

    def find(self, id_or_node: str | int) -> Item:
        node = int(str(id_or_node).rsplit("/", 1)[-1])
        return self.by_node[node]

    def related(self, item: Item) -> list[Item]:
        """Up to three older items a page links to (stable across epochs)."""
        if item.idx < 4:
            return []
        rng = random.Random(_key(self.seed, item.idx, 0x2E1))
        picks = {rng.randrange(item.idx) for _ in range(3)}
        return [self.items[i] for i in sorted(picks)]

    def listing_page(self, name: str, page: int, rows: int) -> tuple[list[Item], int]:
        """Items of listing ``name`` on ``page`` and the number of pages."""
        order = self.listing_order[name]
        pages = max(1, -(-len(order) // rows))
        return order[page * rows : (page + 1) * rows], pages

    def with_rates(self, **changes: Any) -> Rates:
        return replace(self.rates, **changes)


#: A document's file type as a page labels it, and its media type, by its extension.
FILE_KINDS = {
    "pdf": ("PDF", "application/pdf"),
    "docx": (
        "DOCX",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}


def file_kind(href: str) -> tuple[str, str]:
    """``(label, media type)`` of the document at ``href``: ``("PDF", "application/pdf")``."""
    return FILE_KINDS[href.rsplit(".", 1)[-1].lower()]


def file_size(href: str) -> str:
    """A made-up but stable size for the label beside a document link (``245 KB``)."""
    return f"{40 + _key(len(href), *map(ord, href[-24:])) % 900} KB"


def epoch_of_day(site: SiteModel, day: date) -> int:
    """The epoch whose calendar day is ``day`` (helper for people reading logs)."""
    return max(0, (day - site.today).days)


__all__ = [
    "DEFAULT_TODAY",
    "Content",
    "Item",
    "Rates",
    "SiteModel",
    "epoch_of_day",
    "file_kind",
    "file_size",
    "format_day",
    "unique_sentence",
]
