"""Every date of a page: finding the candidates, parsing them, choosing one.

Why one module: the publication date of an OSCE item has no visible value (the
``Date:`` label is empty), so it comes from one of several machine-readable places
that can disagree.  All of them are collected, parsed the same way, and chosen by
one documented precedence (``../notes/interfaces.md``)::

    markup > meta > json-ld > listing > dateline > heuristic

* ``markup``: a ``<time datetime>`` beside the Date label (found by the site profile);
* ``meta``: ``article:published_time``, ``dcterms.date`` and their kin;
* ``json-ld``: ``datePublished`` anywhere in a JSON-LD block;
* ``listing``: the date of the listing entry that linked the item;
* ``dateline``: the body's ``VIENNA, 26 June 2003 - ...`` (often a day early);
* ``heuristic``: htmldate with ``original_date=True``, only when nothing else is found
  (it is the slowest and the least sure).

The generic profile (sites without a profile) asks htmldate always and lets its date
lead (:func:`choose_led`): there, no profile says which machine-readable date is the
publication day.

Parsing tries explicit formats first and python-dateutil last.  A date is taken as
written (the calendar day of the publisher), never shifted across time zones.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from dateutil import parser as du_parser
from lxml import etree

from archive.records import DATE_SOURCES, DateCandidate, ListingEntry

log = logging.getLogger(__name__)

#: Meta tags that carry a publication date (name / property / itemprop), most specific first.
META_DATE_NAMES = (
    "article:published_time",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "datepublished",
    "date",
    "publication_date",
    "publish-date",
    "pubdate",
    "og:published_time",
    "sailthru.date",
)
_META_RANK = {name: i for i, name in enumerate(META_DATE_NAMES)}

#: Dates further apart than this are a conflict worth a field and a log line.
CONFLICT_DAYS = 1
MIN_YEAR = 1990
MAX_YEAR = 2100

_EXPLICIT_FORMATS = (
    "%Y-%m-%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%A, %d %B %Y",
    "%A %d %B %Y",
)
_ISO_PREFIX = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)")
#: ``2020/10/04 15:05``, ``2020.10.04``, ``20231102``, ``20231102T0800``: year first, so
#: month before day (dateutil's ``dayfirst`` would read ``2020/10/04`` as 10 April).
_YEAR_FIRST = re.compile(
    r"^\s*(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[T ,]|$)|^\s*(\d{4})(\d{2})(\d{2})(?:T|$)"
)
_DAY_MONTH_YEAR = (
    r"\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?,?\s+\d{4}"
)
_MONTH_DAY_YEAR = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+\d{1,2},?\s+\d{4}"
)
#: ``VIENNA, 26 June 2003 - The ...``; ``YERAVAN, 13 March 2006- The ...``.
DATELINE = re.compile(
    r"^\s*(?P<place>[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ .'’/()-]{1,60}?)\s*,?\s+"
    r"(?P<date>(?i:" + _DAY_MONTH_YEAR + "|" + _MONTH_DAY_YEAR + r"))\s*[-–—:]",
)


def parse_date(text: str | None) -> date | None:
    """A calendar date from a string: explicit formats first, python-dateutil last."""
    if not text:
        return None
    text = " ".join(str(text).split())
    if not text or len(text) > 64:
        return None
    found: date | None = None
    parts: tuple[Any, ...] = ()
    if m := _ISO_PREFIX.match(text):
        parts = m.groups()
    elif y := _YEAR_FIRST.match(text):
        parts = y.group(1, 3, 4) if y.group(1) else y.group(5, 6, 7)
    if parts:
        try:
            found = date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            return None
    if found is None:
        cleaned = text.rstrip(".,;")
        for fmt in _EXPLICIT_FORMATS:
            try:
                found = datetime.strptime(cleaned, fmt).date()
                break
            except ValueError:
                continue
    if found is None:
        if not re.search(r"\d{4}", text):  # dateutil would fill a missing year from today
            return None
        try:
            found = du_parser.parse(text, dayfirst=True, fuzzy=False).date()
        except (ValueError, OverflowError, TypeError, du_parser.ParserError):
            return None
    if not (MIN_YEAR <= found.year <= MAX_YEAR):
        return None
    return found


def _candidate(source: str, raw: str) -> DateCandidate | None:
    parsed = parse_date(raw)
    return DateCandidate(source=source, value=parsed.isoformat(), raw=raw[:200]) if parsed else None


def markup_candidates(datetimes: Iterable[str]) -> list[DateCandidate]:
    """``<time datetime>`` values beside the Date label (the profile finds the elements)."""
    return [c for raw in datetimes if (c := _candidate("markup", raw))]


_ANY_DATE = re.compile(r"(?i:" + _DAY_MONTH_YEAR + "|" + _MONTH_DAY_YEAR + r")|\d{4}-\d{2}-\d{2}")


def visible_candidates(texts: Iterable[str]) -> list[DateCandidate]:
    """A date written beside the Date label (older captures: ``VIENNA 27 June 2003``).

    It is the page's own statement of its date, so it ranks as ``markup``, after any
    ``<time datetime>``.
    """
    out = []
    for text in texts:
        m = _ANY_DATE.search(text[:200])
        if m and (c := _candidate("markup", m.group(0))):
            out.append(c)
    return out


#: Words that label a page's own publication date in its visible text, in the languages
#: of the sites we read (``Published: July 4, 2023; 23:31``, ``Veröffentlicht am
#: 04.07.2023``); an ``Updated``/``Modified`` line is not the publication day.
PUBLISHED_LABEL = (
    r"(?:published|posted|first published|date published|veröffentlicht|publié|publicado|"
    r"pubblicato|опубликовано)(?:\s+(?:on|am|le|el|em|il))?"
)
_LABELLED = re.compile(
    r"(?i)\b" + PUBLISHED_LABEL + r"\s*:?\s*(?P<date>" + _DAY_MONTH_YEAR + "|" + _MONTH_DAY_YEAR
    + r"|\d{4}-\d{2}-\d{2}|\d{1,2}\.\s?\d{1,2}\.\s?\d{4})"
)  # fmt: skip
#: How far after the headline (characters of visible text) a labelled date is looked for.
LABEL_REACH = 600


def labelled_candidates(tree: etree._Element) -> list[DateCandidate]:
    """The date a page labels as its publication (``Published: July 4, 2023; 23:31``)
    in the visible text just after its headline (the first ``<h1>``): the page's own
    statement, so it ranks as ``markup``. Only that stretch is read, since lists of
    other articles and comments carry such lines too. The time, if any, is left out:
    the day is the publisher's calendar day as written."""
    heading = next(tree.iter("h1"), None)
    if heading is None:
        return []
    parts: list[str] = []
    size = 0
    for piece in heading.xpath("following::text()"):
        parent = piece.getparent()
        if parent is not None and parent.tag in ("script", "style", "noscript", "template"):
            continue
        parts.append(str(piece))
        size += len(piece)
        if size >= LABEL_REACH:
            break
    m = _LABELLED.search(" ".join(" ".join(parts).split())[: LABEL_REACH + 200])
    cand = _candidate("markup", m.group("date").replace(". ", ".")) if m else None
    return [cand] if cand else []


def meta_candidates(tree: etree._Element) -> list[DateCandidate]:
    """Publication dates in <meta> tags, the most specific name first."""
    found: list[tuple[int, DateCandidate]] = []
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        rank = _META_RANK.get(key.strip())
        if rank is None:
            continue
        cand = _candidate("meta", meta.get("content") or "")
        if cand:
            found.append((rank, cand))
    found.sort(key=lambda pair: pair[0])
    return [c for _, c in found]


def jsonld_candidates(tree: etree._Element) -> list[DateCandidate]:
    """``datePublished`` anywhere in the page's JSON-LD blocks."""
    out: list[DateCandidate] = []
    for script in tree.iterfind(".//script"):
        if (script.get("type") or "").lower().strip() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        seen = 0
        while stack and seen < 10_000:
            node = stack.pop()
            seen += 1
            if isinstance(node, dict):
                value = node.get("datePublished")
                if isinstance(value, str) and (c := _candidate("json-ld", value)):
                    out.append(c)
                stack.extend(reversed(list(node.values())))
            elif isinstance(node, list):
                stack.extend(reversed(node))
    return out


def listing_candidates(listing: ListingEntry | None) -> list[DateCandidate]:
    if listing is None or not listing.published:
        return []
    cand = _candidate("listing", listing.published)
    return [cand] if cand else []


def dateline_candidates(first_paragraph: str | None) -> list[DateCandidate]:
    """The dateline opening a body (``VIENNA, 26 June 2003 - ...``)."""
    if not first_paragraph:
        return []
    m = DATELINE.match(first_paragraph[:160])
    if not m:
        return []
    cand = _candidate("dateline", m.group("date"))
    return [cand] if cand else []


def heuristic_candidates(page: str | etree._Element, url: str | None = None) -> list[DateCandidate]:
    """htmldate's best guess of the original date (``original_date=True``, extensive search).

    ``page``: the page's text (htmldate parses it its own way, as it was measured) or a
    parsed tree.  ``url``: the page's address, whose date htmldate reads first (without
    it, htmldate looks for the canonical link).  A 1 January that the fast search (no
    footer or copyright-year fallback) does not find too is htmldate's year-only last
    resort, the year of a copyright line: not a publication day, so no candidate.
    """
    if isinstance(page, str) and page.startswith("http") and " " not in page:
        return []  # htmldate would take the text for an address and fetch it
    try:
        from htmldate import find_date

        found = find_date(page, url=url, original_date=True, extensive_search=True)
        if found and found.endswith("-01-01"):
            fast = find_date(page, url=url, original_date=True, extensive_search=False)
            found = found if fast == found else None
    except Exception:  # noqa: BLE001 - a heuristic that fails is simply no candidate
        return []
    cand = _candidate("heuristic", found) if found else None
    return [cand] if cand else []


def choose(candidates: list[DateCandidate]) -> DateCandidate | None:
    """The winner by precedence (``DATE_SOURCES`` order), first found within a source."""
    for source in DATE_SOURCES:
        for cand in candidates:
            if cand.source == source:
                return cand
    return None


def choose_led(candidates: list[DateCandidate]) -> DateCandidate | None:
    """The generic profile's choice: htmldate leads, the page's own statements name it.

    On a site we have no profile for, nothing says which of its meta tags or JSON-LD
    dates is the publication day (a modification time, a UTC timestamp a day off the
    publisher's calendar, a date of the site rather than the page), while htmldate
    weighs them with the address and the visible dates.  So its date is the value; the
    first candidate by precedence that says the same day gives it its source (``meta``,
    ``json-ld``, ...), else it is ``heuristic``.  Without htmldate's date, precedence.
    """
    led = next((c for c in candidates if c.source == "heuristic"), None)
    if led is None:
        return choose(candidates)
    agreeing = [c for c in candidates if c.value == led.value and c.source != "heuristic"]
    if not agreeing and led.value.endswith("-01"):
        # The 1st of a month that the page's own statements (a feed's or a listing's date,
        # meta, JSON-LD) put later in that month: htmldate read only a year and month,
        # from an address like ``/news/2018/06/slug``; the statement has the day.
        month = led.value[:8]
        agreeing = [c for c in candidates if c.value.startswith(month) and c is not led]
    if not agreeing:
        # Nothing machine-readable says htmldate's day, and the page labels another one
        # under its headline (``Published: ...``): htmldate missed that line's format and
        # took a date of a link, a comment or a sidebar; the label is the page's word.
        labelled = next((c for c in candidates if c.source == "markup"), None)
        if labelled is not None:
            return labelled
    return choose(agreeing) or led


def conflict(candidates: list[DateCandidate], chosen: DateCandidate | None) -> str | None:
    """A short description when some candidate is more than a day from the chosen one."""
    if chosen is None:
        return None
    base = date.fromisoformat(chosen.value)
    far = []
    for cand in candidates:
        if cand is chosen:
            continue
        days = (date.fromisoformat(cand.value) - base).days
        if abs(days) > CONFLICT_DAYS:
            far.append(f"{cand.source} {cand.value} ({days:+d} d)")
    if not far:
        return None
    return f"{chosen.source} {chosen.value} vs " + ", ".join(dict.fromkeys(far))


def resolve(
    candidates: list[DateCandidate], where: str = "", led: bool = False
) -> tuple[DateCandidate | None, str | None]:
    """Choose a date and describe (and log) any disagreement beyond a day.

    ``led``: htmldate's date leads (:func:`choose_led`, the generic profile); otherwise
    the precedence of the module docstring.
    """
    chosen = choose_led(candidates) if led else choose(candidates)
    problem = conflict(candidates, chosen)
    if problem:
        log.info("date conflict %s: %s", where, problem)
    return chosen, problem
