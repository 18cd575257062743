"""Third-party sources: the sites besides osce.org that a crawl reads (``crawl --sources``).

A sources file is TOML, one ``[[source]]`` table per site::

    [[source]]
    name = "vindobona"                                  # letters, digits, - and _; unique
    feeds = ["https://www.vindobona.org/rss"]           # RSS or Atom feeds
    sitemaps = ["https://www.vindobona.org/sitemap.xml"]  # sitemaps or sitemap indexes
    delay = 2.0                 # seconds between two requests to the source (default 2)
    concurrency = 1             # requests in flight to the source (default 1)
    keywords = ["OSCE"]         # optional: only entries whose title, summary or address
                                # names one of these (case-insensitive)
    url_pattern = "/article/"   # optional: only addresses this regular expression finds

A source needs at least one feed or sitemap; its articles are the addresses those
list on the same hosts (``www.`` or not).  robots.txt is always obeyed: there is no key
to turn it off.

:func:`load` reads and checks a file: each bad entry gives one problem line naming the
file, the entry and the key, and the good entries are still returned, so one typo does
not stop the other sources.  A file that cannot be read or is not TOML at all is a
:class:`SourcesError` (nothing can be crawled from it).

Plain Python (no Scrapy): the command line loads the file, the spider gets the
:class:`Source` values.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Source", "SourcesError", "SourcesFile", "load", "parse"]

#: Keys a ``[[source]]`` table may have.
KEYS = ("name", "feeds", "sitemaps", "delay", "concurrency", "keywords", "url_pattern")
#: Politeness when the file says nothing: one request at a time, two seconds apart.
DEFAULT_DELAY = 2.0
DEFAULT_CONCURRENCY = 1
#: A source may not ask for more than this: it is someone else's server.
MAX_CONCURRENCY = 8
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class SourcesError(ValueError):
    """The sources file as a whole cannot be used (unreadable, not TOML)."""


@dataclass(frozen=True)
class Source:
    """One third-party site: where its articles are listed, how politely to read it."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    delay: float = DEFAULT_DELAY
    concurrency: int = DEFAULT_CONCURRENCY
    keywords: tuple[str, ...] = ()
    url_pattern: str | None = None

    @property
    def hosts(self) -> frozenset[str]:
        """The ``host[:port]`` spellings of the source's feeds and sitemaps, ``www.`` or not:
        its articles are the addresses on these."""
        out: set[str] = set()
        for url in (*self.feeds, *self.sitemaps):
            bare = bare_netloc(url)
            out |= {bare, "www." + bare}
        return frozenset(out)

    @property
    def slot(self) -> str:
        """The Scrapy download slot of the source's requests (its own delay and concurrency)."""
        return f"source:{self.name}"

    def owns(self, url: str) -> bool:
        return netloc_of(url) in self.hosts

    def wants(self, url: str, text: str = "") -> bool:
        """Whether the filter lets an entry through: its address matches ``url_pattern``
        and its address, title or summary (``text``) names one of ``keywords``."""
        if self.url_pattern and not re.search(self.url_pattern, url):
            return False
        if self.keywords:
            haystack = f"{url}\n{text}".casefold()
            return any(k.casefold() in haystack for k in self.keywords)
        return True


@dataclass
class SourcesFile:
    """What a sources file gave: the usable sources, and one line per problem."""

    path: str
    sources: list[Source] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def netloc_of(url: str) -> str:
    """``host[:port]`` of an address, lower case, the scheme's default port left out."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if port is None or port == {"http": 80, "https": 443}.get(parts.scheme):
        return host
    return f"{host}:{port}"


def bare_netloc(url: str) -> str:
    """:func:`netloc_of` without ``www.``: the site the document belongs to."""
    netloc = netloc_of(url)
    return netloc[4:] if netloc.startswith("www.") else netloc


def load(path: str | Path) -> SourcesFile:
    """Read and check a sources file (:func:`parse`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SourcesError(f"cannot read sources file {path}: {reason}") from None
    return parse(text, str(path))


def parse(text: str, path: str = "sources.toml") -> SourcesFile:
    """The sources of a file's text; each bad entry is one line in ``problems``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML: {exc}") from None
    out = SourcesFile(path)
    for key in data:
        if key != "source":
            out.problems.append(f"{path}: unknown key {key!r} (sources are [[source]] tables)")
    entries = data.get("source", [])
    if not isinstance(entries, list):
        out.problems.append(f"{path}: 'source' must be [[source]] tables")
        return out
    if not entries and not out.problems:
        out.problems.append(f"{path}: no [[source]] tables")
    names: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        label = f"source {number}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label += f" ({entry['name']!r})"
        where = f"{path}: {label}"
        if not isinstance(entry, dict):
            out.problems.append(f"{where}: not a table")
            continue
        source, wrong = _source(entry)
        problems = [f"{where}: {key}: {why}" for key, why in wrong]
        if source is not None and source.name in names:
            problems.append(f"{where}: name: {source.name!r} is used by an earlier source")
        if problems or source is None:
            out.problems.extend(problems)
            continue
        names.add(source.name)
        out.sources.append(source)
    return out


def _source(entry: dict[str, Any]) -> tuple[Source | None, list[tuple[str, str]]]:
    """One ``[[source]]`` table as a :class:`Source`, or None with each thing wrong with
    it as ``(key, why)``."""
    wrong: list[tuple[str, str]] = []

    def fail(key: str, why: str) -> None:
        wrong.append((key, why))

    for key in entry:
        if key not in KEYS:
            fail(key, f"unknown key (known: {', '.join(KEYS)})")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        fail("name", "required: letters, digits, '-' and '_', at most 64")
    feeds = _urls(entry, "feeds", fail)
    sitemaps = _urls(entry, "sitemaps", fail)
    if not entry.get("feeds") and not entry.get("sitemaps") and not wrong:
        fail("feeds", "a source needs at least one feed or sitemap")
    delay = entry.get("delay", DEFAULT_DELAY)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 600:
        fail("delay", f"seconds between requests, 0 to 600 (got {delay!r})")
    concurrency = entry.get("concurrency", DEFAULT_CONCURRENCY)
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_CONCURRENCY
    ):
        fail("concurrency", f"a whole number from 1 to {MAX_CONCURRENCY} (got {concurrency!r})")
    keywords = entry.get("keywords", [])
    if not isinstance(keywords, list) or not all(
        isinstance(k, str) and k.strip() for k in keywords
    ):
        fail("keywords", "a list of non-empty strings")
        keywords = []
    pattern = entry.get("url_pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            fail("url_pattern", "a regular expression as a string")
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                fail("url_pattern", f"not a regular expression: {exc}")
    if wrong:
        return None, wrong
    source = Source(
        name=str(name),
        feeds=feeds,
        sitemaps=sitemaps,
        delay=float(delay),
        concurrency=int(concurrency),
        keywords=tuple(k.strip() for k in keywords),
        url_pattern=pattern,
    )
    return source, []


def _urls(entry: dict[str, Any], key: str, fail: Any) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        fail(key, "a list of http(s) addresses")
        return ()
    out = []
    for url in value:
        if not isinstance(url, str):
            fail(key, f"not an address: {url!r}")
            continue
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            fail(key, f"not an address: {url!r}")
            continue
        if parts.scheme not in ("http", "https") or not parts.hostname:
            fail(key, f"not an http(s) address: {url!r}")
            continue
        out.append(url.strip())
    return tuple(out)
