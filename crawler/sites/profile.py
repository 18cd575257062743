"""``SiteProfile``: everything one site means, in one typed object.

A profile holds a site's hosts and address rules (canonical form, aliases, the ``www``
rule), where its listings, feed and sitemap are, how to read a listing page and an item
page (its :class:`~crawler.extraction.vocabulary.Vocabulary` of labels), which kinds
exist, its politeness defaults and its default furniture.  The extraction it runs is the
generic code of ``crawler.extraction``; a profile only supplies data and address rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlencode, urlsplit, urlunsplit

from archive.records import ListingEntry, Record
from crawler.extraction import item as item_extraction
from crawler.extraction.furniture import FurnitureModel
from crawler.extraction.listing import ListingPage, read_listing
from crawler.extraction.vocabulary import Vocabulary


@dataclass(frozen=True)
class Politeness:
    """Polite crawling defaults for a site (Scrapy settings are built from these)."""

    download_delay: float = 1.0
    autothrottle_target: float = 1.0
    concurrency_per_domain: int = 2
    obey_robots: bool = True


@dataclass(frozen=True)
class SiteProfile:
    """A site: hosts, addresses, discovery documents, labels, kinds, politeness, furniture.

    Subclasses override what differs; the base class is a complete (if plain) profile.
    """

    name: str
    #: The site's hosts as written on the web (``www.`` and bare both listed when both exist).
    hosts: tuple[str, ...] = ()
    #: Prefix of document ids (``osce.org/``).
    id_prefix: str = ""
    #: Item addresses: a regular expression over the path with a ``node`` group.
    item_path: str = r"(?!x)x"
    #: Listing path per kind, the all-kinds listing, the sitemap and the feed.
    listing_paths: dict[str, str] = field(default_factory=dict)
    newsroom_path: str | None = None
    sitemap_path: str | None = "/sitemap.xml"
    rss_path: str | None = None
    #: Query parameters of a listing page: page number and the page size asked for.
    page_param: str = "page"
    rows_param: str | None = None
    default_kinds: tuple[str, ...] = ()
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    politeness: Politeness = field(default_factory=Politeness)
    #: Where a crawl of this site starts when no ``--site`` is given ("": none).
    home: str = ""
    #: Item addresses that only redirect to the item's own (a regular expression over
    #: the path; "": none): a crawl prefers the address the sitemap gives.
    alias_path: str = ""
    #: The languages the site publishes in (ISO 639-1), its default first: a page under
    #: ``/<code>/`` of another one is that language's version of the item, its own
    #: document ``<prefix><code>/<node>``; the default language's ids have no code.
    languages: tuple[str, ...] = ()

    # ------------------------------------------------------------------ addresses

    @staticmethod
    def bare_host(host: str) -> str:
        """The ``www`` rule, written once: ``www.example.org`` and ``example.org`` are one."""
        host = host.lower()
        return host[4:] if host.startswith("www.") else host

    def host_spellings(self, netloc: str) -> set[str]:
        """The ``host[:port]`` spellings that count as the same site: with and without www."""
        bare = self.bare_host(netloc)
        return {bare, "www." + bare}

    def owns(self, url: str) -> bool:
        """Is ``url`` on one of this profile's hosts (any www spelling)?"""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return False
        return self.bare_host(host) in {self.bare_host(h) for h in self.hosts}

    def canonical_url(self, url: str) -> str:
        """The address as archived: no fragment, a path, everything else as given."""
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            return url
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))

    @cached_property
    def _item_re(self) -> re.Pattern[str]:
        return re.compile(self.item_path)

    def node_id(self, url: str) -> str | None:
        """The item number in an item address, else ``None``."""
        try:
            path = urlsplit(url).path
        except ValueError:
            return None
        m = self._item_re.match(path)
        return m.group("node") if m else None

    def is_alias(self, url: str) -> bool:
        """Is ``url`` an address that only redirects to the item's own (``/node/<n>``)?"""
        if not self.alias_path:
            return False
        try:
            return re.match(self.alias_path, urlsplit(url).path) is not None
        except ValueError:
            return False

    def is_item_url(self, url: str) -> bool:
        return self.node_id(url) is not None

    def address_language(self, url: str) -> str | None:
        """The language an address is in by its prefix (``/ru/fsc/55436``: ``ru``); None
        for the default language's addresses (no prefix, or its own) and on a site with
        one language. Only the profile's languages count: ``/pc/46723`` is a section."""
        if len(self.languages) < 2:
            return None
        try:
            path = urlsplit(url).path
        except ValueError:
            return None
        code = path[1:].split("/", 1)[0].lower()
        if code in self.languages[1:] and path[1 + len(code) :].startswith("/"):
            return code
        return None

    def item_key(self, url: str) -> str | None:
        """An item's identity within a run: its node number, under its language's code for
        a version in another language (``ru/55436``); None for an address of no item."""
        node = self.node_id(url)
        if node is None:
            return None
        code = self.address_language(url)
        return f"{code}/{node}" if code else node

    def document_id(self, canonical: str, url: str) -> str:
        """``<prefix><node>`` from the canonical link or the address (``<prefix><code>/
        <node>`` for a version in another language); pages get their path."""
        for address in (canonical, url):
            key = self.item_key(address)
            if key:
                return self.id_prefix + key
        try:
            parts = urlsplit(canonical)
        except ValueError:
            return self.id_prefix
        prefix = self.id_prefix or (self.bare_host(parts.hostname or "") + "/")
        return prefix + (parts.path or "/").strip("/")

    # ------------------------------------------------------------------ discovery

    def listing_url(self, base: str, path: str, page: int = 0, rows: int | None = None) -> str:
        """One page of a listing under ``base`` (rows asked for when the site takes it)."""
        query: dict[str, int] = {self.page_param: page}
        if rows is not None and self.rows_param:
            query[self.rows_param] = rows
        return base.rstrip("/") + path + "?" + urlencode(query)

    def listing_urls(self, base: str, kinds: tuple[str, ...] | None = None) -> dict[str, str]:
        """First listing page per kind under ``base`` (the all-kinds listing when not listed)."""
        out = {}
        for kind in kinds or self.default_kinds:
            path = self.listing_paths.get(kind, self.newsroom_path)
            if path:
                out[kind] = self.listing_url(base, path)
        return out

    # ------------------------------------------------------------------ reading

    def slug_type(self, label: str) -> str:
        return self.vocabulary.slug_type(label)

    def default_furniture(self) -> FurnitureModel:
        """The bundled furniture model, used until the host's own is learned."""
        return FurnitureModel(host=self.hosts[0] if self.hosts else None)

    def extract(
        self,
        body: bytes | str | None,
        url: str,
        listing: ListingEntry | None = None,
        furniture: FurnitureModel | None = None,
    ) -> Record:
        """The record of one page of this site."""
        return item_extraction.extract(body, url, listing, furniture, site=self)

    def read_listing(self, body: bytes | str | None, url: str) -> ListingPage:
        """Entries and pager of one listing page of this site."""
        return read_listing(body, url, self.vocabulary, self.is_item_url)

    def parse_listing(self, body: bytes | str | None, url: str) -> list[ListingEntry]:
        return self.read_listing(body, url).entries
