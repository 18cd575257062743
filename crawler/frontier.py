"""What to visit, why, and with what conditional headers: the crawl's decisions.

The frontier reads the site's discovery documents (listing pages, the sitemap index
and its files, the RSS feed) and what the archive already holds, as plain data
(``archive.known``: address states, the previous run); it keeps no knowledge of its own
from one run to the next. Its rules, which the README repeats:

**Discovery.** Listing pages newest first (``/press-releases?page=0&rows=50``,
``/stories``, ``/newsroom`` for other kinds; each next page as the page's own pager
links it, see ``crawler.extraction.listing``), the sitemap index and its files, the RSS
feed. A listing entry's labelled data (a ``ListingEntry``, merged with the sitemap's
``<lastmod>``) travels with the item's request into extraction
and into the archive, so a later revisit without a listing can still date the item.

**Incremental runs (the default).**

* Listing pages are read newest first. A page *brings something new* when one of its
  entries is an address the archive does not know, or a known one whose labels
  changed. When page 0 brings nothing new, nothing was published: paging stops
  there. Otherwise paging goes on until ``1 + OSCE_FRONTIER_LISTING_MARGIN`` pages in
  a row bring nothing new (margin 1 by default: a late insertion just below the
  newest items is still caught).
* A listing's end is read from the site and is no failure: a 404/410, an empty page, a
  page without a next link (with no pager at all, unless it shows every row asked for),
  a page repeating the previous one, a next link pointing back or off the site
  (``Frontier.listing_end``). The page size is what the pages show.
* After a run that did not read its listings to the end (killed, interrupted, failed,
  cut by ``--max-items``, or a listing page failed for good), the next run reads every
  listing page (a *catch-up*: still deciding item by item), so the items the broken
  run never reached are found with their listing labels.
* A sitemap file is read only when its ``<lastmod>`` in the index differs from the
  one recorded at the end of the last *complete* run (finished, no item limit, no
  page failed for good); when one file is read, all are, so that an address that
  vanished from the sitemap can be told from one that moved to another file.
* An item is revisited when its sitemap ``<lastmod>`` differs from the one the
  archive stored with its last capture (or, with none stored, is newer than that
  capture), when its listing labels changed, when its last fetch failed, when it
  vanished from a fully read sitemap and from the listings read (a 404/410 then
  marks it deleted; a 301 links the new address to the same document), and on the
  revisit schedule below.
* An item whose date came from its listing entry (its page carries none) and whose
  ``<lastmod>`` moved, but which no listing page read so far showed, has its listing
  page read again: a date correction is visible only there. The page is found from
  the item's rank by date among the archived items of its chain (shifted by the new
  items this run found on top) and the page size this run's pages showed; a
  neighbouring page is read too when the item sits within ``TARGET_EDGE`` places of the
  page's edge, since a corrected date moves it.
* Every revisit is conditional (``If-None-Match`` / ``If-Modified-Since`` from the
  archive), so an unchanged item costs a 304 -- except when the listing shows labels the
  archive has not seen with the item: then the page is fetched in full, so the record is
  extracted again with them (a 304 would leave a date taken without its listing).

**Revisit schedule** (items nothing vouches for). An item's age is counted from its
publication date (else from when its content last changed); its interval is 1 day
up to 14 days old, 7 days up to 60 days, 30 days up to a year and 180 days beyond.
It is due when the time since its last fetch exceeds its interval times a factor
between 0.5 and 1.0 fixed by a hash of its id: revisits of items fetched together
spread over the second half of their interval, the same way every run, and a run
right after another schedules none (no interval is shorter than 12 hours).

**``--full``** visits every item (still conditionally): every listing page, every
sitemap file, every address the archive knows. ``--max-items N`` stops scheduling
items after N.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import add_or_replace_parameters, safe_url_string

from archive.known import AddressState, PreviousRun
from archive.records import ListingEntry
from crawler.extraction.listing import page_number
from crawler.sites import DEFAULT as SITE

HOST_ALIASES, node_id, slug_type = SITE.hosts, SITE.node_id, SITE.slug_type


#: The site's discovery documents (paths relative to the crawled base).
LISTING_PATHS = SITE.listing_paths
NEWSROOM_PATH = SITE.newsroom_path or "/"
SITEMAP_PATH = SITE.sitemap_path or "/sitemap.xml"
RSS_PATH = SITE.rss_path or ""
DEFAULT_KINDS = SITE.default_kinds
#: Places from a listing page's edge within which its neighbour is read as well, when a
#: listing-dated item's page is read again (a date correction moves an item a few places).
TARGET_EDGE = 8
#: Pages a sought item's search walks past its first page (``Frontier.steer``): items
#: added, removed or redated ahead of it move it from the page its rank gave.
MAX_STEER = 6
#: A page whose entries carry no date: it cannot say which way a sought item went.
UNDATED = ("", "")

#: A listing chain never reads more pages than this (a site that pages forever).
MAX_LISTING_PAGES = 5000

#: (age up to, revisit interval) for the revisit schedule; beyond the last: the last.
REVISIT_SCHEDULE = (
    (timedelta(days=14), timedelta(days=1)),
    (timedelta(days=60), timedelta(days=7)),
    (timedelta(days=365), timedelta(days=30)),
)
REVISIT_OLD = timedelta(days=180)
#: Statuses after which an address is fetched again next run (answered nothing usable).
FAILED_STATUSES = frozenset({0, 400, 401, 403, 408, 429})

UNKNOWN = "new"


@dataclass
class Visit:
    """One item request the frontier asks for, and why."""

    url: str
    reason: str  # new | retry | full | listing-changed | lastmod | vanished | scheduled
    listing: ListingEntry | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def validators(self) -> dict[str, Any] | None:
        if not (self.etag or self.last_modified):
            return None
        return {"url": self.url, "etag": self.etag, "last_modified": self.last_modified}


@dataclass
class SitemapFile:
    """A sitemap file read in this run, recorded in the archive when the run completes."""

    url: str
    lastmod: str | None
    status: int
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


# --------------------------------------------------------------------------- addresses


class Site:
    """The crawled base URL and the spellings of its addresses."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) site address: {base!r}")
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        port = f":{parts.port}" if parts.port else ""
        self._hosts = SITE.host_spellings(parts.hostname + port)
        self._aliases = {h.lower() for h in HOST_ALIASES}

    def url(self, path: str, **query: Any) -> str:
        address = urlunsplit((self.scheme, self.netloc, path, "", ""))
        return add_or_replace_parameters(address, {k: str(v) for k, v in query.items()})

    def rebase(self, url: str) -> str | None:
        """``url`` as an address of the crawled site, or ``None`` when it is off-site.

        A mirror or a local copy may name the original host (www.osce.org) in its
        links and sitemap; those are read as the same path on the crawled site.
        """
        try:
            parts = urlsplit(urljoin(self.base + "/", url.strip()))
        except ValueError:
            return None
        netloc = parts.netloc.lower()
        if netloc not in self._hosts and (parts.hostname or "") not in self._aliases:
            return None
        return safe_url_string(
            urlunsplit((self.scheme, self.netloc, parts.path or "/", parts.query, ""))
        )


def key_of(url: str) -> str:
    """Identity of an item within a run: its node number (under its language's code for a
    version in another language: ``ru/55436``), else the address."""
    return SITE.item_key(url) or url


def node_of_document(document_id: str | None) -> str | None:
    """The run key (:func:`key_of`) of a document id: ``osce.org/ru/55436``: ``ru/55436``."""
    if document_id and document_id.startswith(SITE.id_prefix):
        rest = document_id[len(SITE.id_prefix) :]
        code, _, node = rest.partition("/")
        if node.isdigit() and code in SITE.languages[1:]:
            return rest
    if document_id and "/" in document_id:
        tail = document_id.rsplit("/", 1)[1]
        return tail if tail.isdigit() else None
    return None


# --------------------------------------------------------------------------- decisions

LABEL_FIELDS = ("title", "published", "kind_label", "where", "what")


def merge_listing(stored: ListingEntry | None, fresh: ListingEntry) -> ListingEntry:
    """What is known of an item's listing: fresh values over stored ones, field by field."""
    if stored is None:
        return fresh
    merged = replace(stored, url=fresh.url)
    for name in (*LABEL_FIELDS, "lastmod"):
        value = getattr(fresh, name)
        if value is not None:
            setattr(merged, name, value)
    if fresh.source == "listing" or stored.source != "listing":
        merged.source = fresh.source
    return merged


def listing_changed(fresh: ListingEntry, stored: ListingEntry | None) -> bool:
    """Whether a listing page now labels an item differently from its last capture."""
    if fresh.source != "listing":
        return False  # sitemap and RSS entries say nothing the listing does not
    if stored is None or stored.source != "listing":
        return True
    return any(
        getattr(fresh, name) is not None and getattr(fresh, name) != getattr(stored, name)
        for name in LABEL_FIELDS
    )


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as aware UTC (a bare date is its midnight UTC)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def lastmod_moved(fresh: ListingEntry, state: AddressState) -> bool:
    """Whether the sitemap says the item changed since the archive's last capture."""
    if not fresh.lastmod:
        return False
    stored = state.listing.lastmod if state.listing else None
    if stored:
        return fresh.lastmod.strip() != stored.strip()
    if state.last_fetched is None:
        return True
    when = parse_time(fresh.lastmod)
    return when is not None and when > state.last_fetched


def failed(state: AddressState) -> bool:
    status = state.last_status
    return status is not None and (status in FAILED_STATUSES or status >= 500)


def decide(fresh: ListingEntry, state: AddressState | None, full: bool) -> str | None:
    """Why an item discovered in a listing, sitemap or feed is to be visited, or None."""
    if state is None:
        return UNKNOWN
    if failed(state):
        return "retry"
    if full:
        return "full"
    if listing_changed(fresh, state.listing):
        return "listing-changed"
    if lastmod_moved(fresh, state):
        return "lastmod"
    return None


def _chain_for(chains: list[ChainState], kind: str | None) -> ChainState | None:
    """The chain that lists items of ``kind``: its own listing, else the newsroom."""
    for chain in chains:
        if chain.kinds is not None and kind in chain.kinds:
            return chain
    for chain in chains:
        if chain.kinds is None:
            return chain
    return None


def _count_greater(descending: list[str], value: str) -> int:
    """How many items of a descending list are greater than ``value`` (binary search)."""
    lo, hi = 0, len(descending)
    while lo < hi:
        mid = (lo + hi) // 2
        if descending[mid] > value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def spread(key: str) -> float:
    """A factor in [0.5, 1.0) fixed by ``key``: the same for an item in every run."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return 0.5 + int.from_bytes(digest[:8], "big") / 2**64 / 2


def revisit_interval(state: AddressState, now: datetime) -> timedelta:
    """How often an item nothing vouches for is fetched again, from its age."""
    published = None
    if state.listing and state.listing.published:
        try:
            published = date.fromisoformat(state.listing.published[:10])
        except ValueError:
            published = None
    if published is not None:
        age = now.date() - published
    elif state.last_changed is not None:
        age = now - state.last_changed
    else:
        return REVISIT_SCHEDULE[0][1]
    for up_to, interval in REVISIT_SCHEDULE:
        if age <= up_to:
            return interval
    return REVISIT_OLD


def revisit_due(state: AddressState, now: datetime) -> bool:
    if state.last_fetched is None:
        return True
    interval = revisit_interval(state, now) * spread(state.document_id or state.url)
    return now - state.last_fetched >= interval


# --------------------------------------------------------------------------- the run's frontier


@dataclass
class ChainState:
    """Paging state of one listing chain (press releases, stories, newsroom)."""

    name: str
    path: str
    kinds: frozenset[str] | None  # entries kept (None: every kind)
    page: int = 0  # number of the page to read (the ``page`` its address carries, if any)
    quiet: int = 0  # pages in a row that brought nothing new
    failures: int = 0  # pages that failed for good
    url: str | None = None  # the page to read, as the previous page's pager links it
    page_size: int = 0  # the most entries one page of this chain showed in this run
    last: tuple[str, ...] = ()  # the previous page's entries: a repeat ends the listing
    read: set[str] = field(default_factory=set)  # pages requested: a pager back ends it
    ended: str | None = None  # why the listing ended (its end is not a failure)


@dataclass
class Sought:
    """A listing-dated item whose listing page phase 2b reads: where it should be."""

    chain: str
    published: str  # its date as the archive knows it (the listing sorts by date)
    page: int  # the page it should be on, as the rank or the pages read so far say
    steps: int = 0  # pages walked past the first


@dataclass
class Frontier:
    """The decisions of one run. Holds only sets of ids and the sitemap's lastmods."""

    site: Site
    kinds: frozenset[str] | None  # None: every kind
    full: bool = False
    max_items: int | None = None
    margin: int = 1
    rows: int = 50
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def __post_init__(self) -> None:
        self.visited: set[str] = set()  # keys (node numbers) scheduled in this run
        self.listed: set[str] = set()  # keys seen on listing pages in this run
        self.sitemap: dict[str, tuple[str, str | None]] = {}  # key -> (url, lastmod)
        self.rss: dict[str, ListingEntry] = {}
        self.sitemap_files: list[SitemapFile] = []
        self.sitemap_complete = False  # every sitemap file was read with a 200
        self.incomplete_reasons: list[str] = []  # why this run cannot vouch for the sitemap
        self.listings_complete = True  # every listing chain ended by its own rule
        self.catch_up = False  # read every listing page (the last run did not finish them)
        self.scheduled = 0
        self.reasons: dict[str, int] = {}
        self.read_pages: set[tuple[str, int]] = set()  # (chain, page) requested in this run
        self.new_by_kind: dict[str | None, int] = {}  # unknown items listings showed
        self.page_sizes: dict[str, int] = {}  # chain -> entries per page the site shows
        self.sought: dict[str, Sought] = {}  # key -> listing-dated item phase 2b looks for
        self.lost: set[str] = set()  # sought items whose search ended before a page showed them
        # (chain, page) -> (newest, oldest) date a page showed; None: no entry (past the
        # end); UNDATED: entries without dates
        self.page_dates: dict[tuple[str, int], tuple[str, str] | None] = {}
        self._sitemap_languages = False  # the sitemap lists versions in other languages

    # -- budget ----------------------------------------------------------------------------

    @property
    def budget_left(self) -> bool:
        return self.max_items is None or self.scheduled < self.max_items

    def wants(self, kind_label: str | None) -> bool:
        if self.kinds is None or kind_label is None:
            return True
        return slug_type(kind_label) in self.kinds

    def _take(self, key: str, visit: Visit) -> Visit | None:
        if key in self.visited or not self.budget_left:
            if not self.budget_left:
                self.incomplete("item limit reached", listings=True)
            return None
        self.visited.add(key)
        self.scheduled += 1
        self.reasons[visit.reason] = self.reasons.get(visit.reason, 0) + 1
        return visit

    def incomplete(self, why: str, listings: bool = False) -> None:
        """This run cannot vouch for the sitemap (and, with ``listings``, for its listings)."""
        if why not in self.incomplete_reasons:
            self.incomplete_reasons.append(why)
        if listings:
            self.listings_complete = False

    @property
    def complete(self) -> bool:
        return not self.incomplete_reasons

    # -- listings ------------------------------------------------------------------------------

    def chains(self) -> list[ChainState]:
        """The listing chains this run reads for its kinds."""
        wanted = set(self.kinds) if self.kinds is not None else None
        chains = []
        for kind, path in LISTING_PATHS.items():
            if wanted is None or kind in wanted:
                chains.append(ChainState(kind, path, frozenset({kind})))
        others = None if wanted is None else wanted - set(LISTING_PATHS)
        if others is None or others:
            kinds = None if others is None else frozenset(others)
            chains.append(ChainState("newsroom", NEWSROOM_PATH, kinds))
        return chains

    def listing_url(self, chain: ChainState) -> str:
        """The address of ``chain``'s page to read: the one its last page linked as next,
        else built from the page number (the first page, a page re-read by number)."""
        self.read_pages.add((chain.name, chain.page))
        url = chain.url or self.site.url(chain.path, page=chain.page, rows=self.rows)
        chain.read.add(url)
        return url

    def page_size(self, chain_name: str) -> int:
        """Entries per page of a chain as the site showed them in this run (the rows
        asked for until a page was read: the site may show fewer, never assume it)."""
        return self.page_sizes.get(chain_name) or self.rows

    def listing_targets(self, states: Iterable[AddressState]) -> list[ChainState]:
        """Listing pages to read again for items dated only by their listing entry whose
        sitemap ``<lastmod>`` moved and which no listing page of this run showed.

        ``states`` is one pass over the archive's items (``iter_address_states``). Each
        returned chain state is positioned at one page to read (and not to follow).
        """
        if self.full or self.catch_up or not self.sitemap:
            return []
        chains = self.chains()
        dates: dict[str, list[str]] = {chain.name: [] for chain in chains}
        wanted: list[tuple[ChainState, str, str]] = []
        for state in states:
            listed = state.listing is not None and state.listing.source == "listing"
            if state.deleted or not listed or not state.published:
                continue
            for listing_chain in chains:  # every chain that lists it counts it in its ranks
                if listing_chain.kinds is None or state.kind in listing_chain.kinds:
                    dates[listing_chain.name].append(state.published)
            chain = _chain_for(chains, state.kind)
            if chain is None:
                continue
            key = node_of_document(state.document_id) or key_of(state.url)
            if key in self.listed or key in self.visited or state.date_source != "listing":
                continue
            url, lastmod = self.sitemap.get(key, (None, None))
            if url is not None and lastmod_moved(ListingEntry(url=url, lastmod=lastmod), state):
                wanted.append((chain, state.published, key))
        if not wanted:
            return []
        for chain_dates in dates.values():
            chain_dates.sort(reverse=True)
        pages: set[tuple[str, int]] = set()
        for chain, published, key in wanted:
            newer = dates[chain.name]
            # places ahead of the item: archived items dated later, and this run's new ones
            rank = _count_greater(newer, published) + sum(
                n
                for kind, n in self.new_by_kind.items()
                if chain.kinds is None or kind in chain.kinds
            )
            size = self.page_size(chain.name)
            edge = min(TARGET_EDGE, size // 2)
            page, place = divmod(rank, size)
            sought = self.sought[key] = Sought(chain.name, published, page)
            if (chain.name, page) in self.page_dates:  # read by phase 2 without it: walk on
                pages.update((chain.name, p) for p in self._walk(key, sought))
                continue
            pages.add((chain.name, page))
            if place < edge and page > 0:
                pages.add((chain.name, page - 1))
            if place >= size - edge:
                pages.add((chain.name, page + 1))
        by_name = {chain.name: chain for chain in chains}
        pages -= self.read_pages
        # asked for from here on, though the spider may hold some back a while: a search
        # steered meanwhile must not ask for them a second time
        self.read_pages |= pages
        return [replace(by_name[name], page=page) for name, page in sorted(pages)]

    def steer(self, chain: ChainState, entries: Iterable[ListingEntry]) -> list[ChainState]:
        """Pages to read next after ``chain``'s page, read for items phase 2b seeks, showed
        ``entries`` (its entries of the chain's kinds, after ``from_listing``): the site,
        not the archive's count, says where a sought item it did not show has gone.

        A listing runs newest first, so a page whose every entry is newer than the item
        sends the search a page on, one whose every entry is older a page back, one that
        spans the item's date without it (its correction moved it) to both neighbours,
        and there the search ends; so it does after :data:`MAX_STEER` steps, or on an
        item found."""
        self.saw(chain, entries)
        pages: set[int] = set()
        for key, sought in list(self.sought.items()):
            if sought.chain != chain.name:
                continue
            if key in self.listed:
                del self.sought[key]
                continue
            pages.update(self._walk(key, sought))
        read = {page for name, page in self.read_pages if name == chain.name}
        return [replace(chain, page=page, url=None) for page in sorted(pages - read)]

    def unfound(self) -> list[str]:
        """Keys of sought items no page read in this run showed (phase 2b over): their
        date correction, if any, waits for a later run."""
        return sorted(key for key in {*self.sought, *self.lost} if key not in self.listed)

    def _end(self, key: str) -> None:
        """The search for ``key`` ends here, found or not (a page to come may show it)."""
        del self.sought[key]
        self.lost.add(key)

    def saw(self, chain: ChainState, entries: Iterable[ListingEntry]) -> None:
        """Keep the span of dates ``chain``'s page showed (its entries of the chain's
        kinds), which the search for sought items walks over without reading it again."""
        entries = list(entries)
        dated = [e.published for e in entries if e.published]
        here = (chain.name, chain.page)
        if dated:
            self.page_dates[here] = (max(dated), min(dated))
        else:  # nothing (past the end), or nothing dated: no way to tell where to go
            self.page_dates[here] = None if not entries else UNDATED

    def _walk(self, key: str, sought: Sought) -> set[int]:
        """Walk ``sought`` over the pages already read for it; the page(s) to read next."""
        while True:
            here = (sought.chain, sought.page)
            if here not in self.page_dates:
                # not read yet (its answer steers on), or asked for and on its way
                return set() if here in self.read_pages else {sought.page}
            span = self.page_dates[here]
            if span == UNDATED:
                self._end(key)
                return set()
            if span is None:  # past the listing's end
                step = -1
            elif span[1] > sought.published:  # every entry newer: it is further on
                step = 1
            elif span[0] < sought.published:  # every entry older: it is further back
                step = -1
            else:  # the page spans its date without it: moved by its correction
                self._end(key)
                return {p for p in (sought.page - 1, sought.page + 1) if p >= 0}
            if sought.steps >= MAX_STEER or sought.page + step < 0:
                self._end(key)
                return set()
            sought.page += step
            sought.steps += 1

    def listing_entries(
        self, chain: ChainState, entries: Iterable[ListingEntry]
    ) -> list[ListingEntry]:
        """The entries of a listing page that are on the site and of a wanted kind."""
        kept = []
        for entry in entries:
            url = self.site.rebase(entry.url)
            if url is None or node_id(url) is None:
                continue
            if chain.kinds is not None and entry.kind_label:
                if slug_type(entry.kind_label) not in chain.kinds:
                    continue
            elif chain.kinds is None and not self.wants(entry.kind_label):
                continue
            mapped, lastmod = self.sitemap.get(key_of(url), (None, None))
            if mapped is not None and SITE.is_alias(url):
                url = mapped  # the item's own address: no redirect hop to fetch it
            entry = replace(entry, url=url, source="listing")
            if lastmod and not entry.lastmod:
                entry.lastmod = lastmod
            kept.append(entry)
        return kept

    def from_listing(
        self, entries: list[ListingEntry], states: list[AddressState | None]
    ) -> tuple[list[Visit], bool]:
        """Visits for one listing page's entries, and whether the page brought anything new."""
        visits: list[Visit] = []
        brought_new = False
        for entry, state in zip(entries, states, strict=True):
            key = key_of(entry.url)
            self.listed.add(key)
            if key in self.visited:
                continue
            rss = self.rss.get(key)
            fresh = merge_listing(rss, entry) if rss else entry
            reason = decide(fresh, state, self.full)
            if reason in (UNKNOWN, "listing-changed"):
                brought_new = True
            if reason == UNKNOWN:
                kind = slug_type(fresh.kind_label) if fresh.kind_label else None
                self.new_by_kind[kind] = self.new_by_kind.get(kind, 0) + 1
            if reason is None:
                continue
            visit = self._visit(fresh, state, reason)
            if self._take(key, visit):
                visits.append(visit)
        return visits, brought_new

    def next_page(
        self,
        chain: ChainState,
        n_entries: int,
        brought_new: bool,
        *,
        next_url: str | None = None,
        has_pager: bool = False,
        fingerprint: tuple[str, ...] = (),
    ) -> bool:
        """Advance ``chain`` past the page just read and say whether to read the next.

        ``n_entries`` counts every entry the page showed (any kind), ``next_url`` is the
        page its pager links as next (``crawler.extraction.listing``), ``has_pager`` whether it
        shows a pager at all, ``fingerprint`` its entries' addresses. The listing's end
        is read from the site, and is no failure: see :meth:`listing_end`.
        """
        end = self.listing_end(chain, n_entries, next_url, has_pager, fingerprint)
        chain.page_size = max(chain.page_size, n_entries)
        chain.last = fingerprint
        if chain.page_size:
            self.page_sizes[chain.name] = chain.page_size
        if end is not None:
            chain.ended = end
            return False
        if chain.page + 1 >= MAX_LISTING_PAGES or not self.budget_left:
            return False
        chain.quiet = 0 if brought_new else chain.quiet + 1
        chain.url = self.site.rebase(next_url) if next_url else None
        number = page_number(chain.url) if chain.url else None
        chain.page = number if number is not None else chain.page + 1
        if self.full or self.catch_up:
            return True
        if chain.page == 1 and not brought_new:
            return False  # the newest page holds nothing new: nothing was published
        return chain.quiet <= self.margin

    def listing_end(
        self,
        chain: ChainState,
        n_entries: int,
        next_url: str | None,
        has_pager: bool,
        fingerprint: tuple[str, ...],
    ) -> str | None:
        """Why the page just read is the listing's last, or None when it is not.

        An empty page, a page repeating the previous one, a page without a next link,
        a next link leading off the site or back to a page already read. Only a page
        with no pager at all that shows every row asked for is followed by number (a
        site that honours ``rows=`` and shows no pager); fewer rows than asked with no
        next link cannot be told from the last page, and the sitemap still brings
        whatever such a listing would have shown.
        """
        if n_entries == 0:
            return "empty page"
        if fingerprint and fingerprint == chain.last:
            return "page repeats the previous one"
        if next_url is None:
            if has_pager:
                return "no next link"
            if n_entries < max(self.rows, chain.page_size):
                return "no next link"  # and not as full as asked: the last page
            return None  # no pager at all, a page as full as asked: go on by number
        url = self.site.rebase(next_url)
        if url is None:
            return "next link leaves the site"
        if url in chain.read:
            return "pager points back"
        return None

    def listing_gone(self, chain: ChainState, status: int) -> None:
        """A listing page answered 404/410: past the listing's last page, its end."""
        chain.ended = f"HTTP {status}"

    # -- sitemap and feed ----------------------------------------------------------------------

    def files_to_read(
        self, files: list[tuple[str, str | None]], states: list[AddressState | None]
    ) -> list[tuple[str, str | None, dict[str, Any] | None]]:
        """Sitemap files to read: all when any moved (or in a full run), else none."""
        on_site = []
        for (url, lastmod), state in zip(files, states, strict=True):
            rebased = self.site.rebase(url)
            if rebased is not None:
                on_site.append((rebased, lastmod, state))
        moved = self.full or any(
            lastmod is None
            or state is None
            or state.listing is None
            or state.listing.lastmod != lastmod
            or failed(state)
            for _, lastmod, state in on_site
        )
        if not moved:
            return []
        return [(url, lastmod, None) for url, lastmod, _ in on_site]

    def add_sitemap(self, entries: list[tuple[str, str | None]]) -> None:
        for loc, lastmod in entries:
            url = self.site.rebase(loc)
            if url is None or node_id(url) is None:
                continue
            self.sitemap[key_of(url)] = (url, lastmod)

    def add_rss(self, entries: list[ListingEntry]) -> None:
        for entry in entries:
            url = self.site.rebase(entry.url)
            if url is None or node_id(url) is None:
                continue
            self.rss[key_of(url)] = replace(entry, url=url)

    def leftovers(self) -> Iterator[ListingEntry]:
        """Sitemap and feed entries that no listing page read in this run showed."""
        for key, (url, lastmod) in self.sitemap.items():
            if key in self.listed or key in self.visited:
                continue
            rss = self.rss.get(key)
            entry = ListingEntry(url=url, lastmod=lastmod, source="sitemap")
            yield merge_listing(entry, rss) if rss else entry
        for key, entry in self.rss.items():
            if key not in self.sitemap and key not in self.listed and key not in self.visited:
                yield entry

    def from_leftovers(
        self, entries: list[ListingEntry], states: list[AddressState | None]
    ) -> tuple[list[Visit], dict[str, ListingEntry]]:
        """Visits for known leftovers; unknown ones come back keyed by node, to be
        matched against the archive (a moved item's new address is unknown, its node
        is not) before they are visited."""
        visits: list[Visit] = []
        unknown: dict[str, ListingEntry] = {}
        for entry, state in zip(entries, states, strict=True):
            key = key_of(entry.url)
            if key in self.visited:
                continue
            if state is None:
                unknown[key] = entry
                continue
            reason = decide(entry, state, self.full)
            if reason is None:
                continue
            visit = self._visit(entry, state, reason)
            if self._take(key, visit):
                visits.append(visit)
        return visits, unknown

    # -- the archive's own list ----------------------------------------------------------------

    def scan_archive(
        self, states: Iterable[AddressState], unknown: dict[str, ListingEntry]
    ) -> tuple[list[Visit], list[Visit]]:
        """One pass over the archive's items (``archive.known``'s ``iter_states``, run on
        the archive thread).

        Returns the visits of unknown addresses (each with the listing the archive
        stored for its node, if the node is known: a moved item keeps its labels) and
        the revisits the rules call for: failed last time, vanished, due by schedule,
        every item in a full run.
        """
        stored: dict[str, ListingEntry | None] = {}
        revisits: list[Visit] = []
        visited = frozenset(self.visited)
        sitemap_keys = self.sitemap.keys() if self.sitemap_complete else None
        # Language versions vanish from a sitemap only if it lists them at all.
        self._sitemap_languages = any(
            SITE.address_language(url) for url, _ in self.sitemap.values()
        )
        listed = frozenset(self.listed)
        for state in states:
            key = node_of_document(state.document_id) or key_of(state.url)
            if key in unknown:
                stored[key] = state.listing
                continue
            if key in visited:
                continue
            reason = self._revisit_reason(key, state, sitemap_keys, listed)
            if reason is None:
                continue
            url = self.site.rebase(state.url)
            if url is None:
                continue
            revisits.append(Visit(url, reason, state.listing, state.etag, state.last_modified))
        new: list[Visit] = []
        for key, entry in unknown.items():
            listing = merge_listing(stored.get(key), entry)
            new.append(Visit(entry.url, UNKNOWN if key not in stored else "moved", listing))
        return new, revisits

    def _revisit_reason(
        self,
        key: str,
        state: AddressState,
        sitemap_keys: Any,
        listed: frozenset[str],
    ) -> str | None:
        if failed(state):
            return "retry"
        if self.full:
            return "full"
        if state.deleted:
            return None
        if (
            sitemap_keys is not None
            and key not in sitemap_keys
            and key not in listed
            and (self._sitemap_languages or SITE.address_language(state.url) is None)
        ):
            return "vanished"
        if revisit_due(state, self.now):
            return "scheduled"
        return None

    def from_languages(self, urls: list[str], states: list[AddressState | None]) -> list[Visit]:
        """Visits of the language versions an item page links (hreflang, the switcher),
        each once a run: conditional when the archive knows the address, new otherwise.
        A version the sitemap lists carries its entry (its ``<lastmod>`` is stored with
        the capture, so the next run sees it move)."""
        visits = []
        for url, state in zip(urls, states, strict=True):
            if state is not None and state.deleted and not self.full:
                continue
            key = key_of(url)
            listing = None
            if key in self.sitemap:
                listing = ListingEntry(url=url, lastmod=self.sitemap[key][1], source="sitemap")
            if state is None:
                visit = Visit(url, "language", listing)
            else:
                if listing is not None:
                    listing = merge_listing(state.listing, listing)
                else:
                    listing = state.listing
                visit = Visit(url, "language", listing, state.etag, state.last_modified)
            if self._take(key, visit):
                visits.append(visit)
        return visits

    def take(self, visits: Iterable[Visit]) -> Iterator[Visit]:
        """The visits still within this run's budget, each item once."""
        for visit in visits:
            taken = self._take(key_of(visit.url), visit)
            if taken is not None:
                yield taken
            elif not self.budget_left:
                return

    def _visit(self, fresh: ListingEntry, state: AddressState | None, reason: str) -> Visit:
        if state is None:
            return Visit(fresh.url, reason, fresh)
        listing = merge_listing(state.listing, fresh)
        if reason == "listing-changed":
            return Visit(fresh.url, reason, listing)  # in full: extract with the new labels
        return Visit(fresh.url, reason, listing, state.etag, state.last_modified)


def needs_catch_up(previous: PreviousRun | None) -> bool:
    """Whether the last run left listing pages unread (so this one reads them all)."""
    if previous is None:
        return False  # a first run: every page brings something new anyway
    if previous.outcome != "ok":
        return True
    return previous.counters.get("listings_complete") is False
