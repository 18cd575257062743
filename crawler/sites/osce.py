"""The profile of www.osce.org: every host, path, label and known line of the site.

The labels of each language the site publishes in (English, Russian, French, German:
``Date``/``Дата``/``Datum``...) are data, ``crawler/data/labels.toml``, read here.

The site's markup changes (class names, list vs definition list vs plain rows) far more
often than what a reader sees on it, so the profile is its *visible* words (type labels,
``Date:``/``Place:``/``Source:``/``Fields of work:``, ``By``, the listing labels, the
promotion block, the file types of attachments) and its addresses; the generic code of
``crawler.extraction`` reads any markup with them.  Nothing else in the project names a
host or a label of osce.org.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tomllib

from crawler.extraction.furniture import FurnitureModel
from crawler.extraction.page import norm_key
from crawler.extraction.vocabulary import Vocabulary
from crawler.sites.profile import Politeness, SiteProfile

#: The bundled labels of every language of the site (``crawler/data/labels.toml``).
LABELS_FILE = "labels.toml"
#: Record fields the ``details`` of a language may name.
DETAIL_FIELDS = ("date", "place", "sources", "fields_of_work")


class LabelsError(ValueError):
    """A labels file that cannot be read: one line saying where and why."""


@dataclass(frozen=True)
class Labels:
    """The visible words of each language of the site, read from a labels file."""

    #: language code -> its own name, in the file's order (the first is the default).
    names: dict[str, str]
    type_labels: dict[str, str]  # label as shown (lowercase) -> kind
    detail_labels: dict[str, str]  # label (lowercase, no colon) -> record field
    bylines: tuple[str, ...]  # byline opening words (lowercase)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.names)


def read_labels(text: str, where: str = LABELS_FILE) -> Labels:
    """Parse a labels file (TOML: one table per language; see the bundled file)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LabelsError(f"{where}: not TOML: {exc}") from None
    names: dict[str, str] = {}
    types: dict[str, str] = {}
    details: dict[str, str] = {}
    bylines: list[str] = []
    for code, table in data.items():
        if not re.fullmatch(r"[a-z]{2}", code) or not isinstance(table, dict):
            raise LabelsError(f"{where}: [{code}] is not a table named by an ISO 639-1 code")
        names[code] = str(table.get("name") or code)
        for field_name, labels in (table.get("details") or {}).items():
            if field_name not in DETAIL_FIELDS:
                raise LabelsError(
                    f"{where}: [{code}.details] {field_name}: not one of {', '.join(DETAIL_FIELDS)}"
                )
            for label in _strings(labels, where, f"{code}.details.{field_name}"):
                details[norm_key(label)] = field_name
        for kind, labels in (table.get("kinds") or {}).items():
            for label in _strings(labels, where, f"{code}.kinds.{kind}"):
                types[norm_key(label)] = kind
        for word in _strings(table.get("byline") or [], where, f"{code}.byline"):
            if norm_key(word) not in bylines:
                bylines.append(norm_key(word))
    if not names:
        raise LabelsError(f"{where}: no language")
    return Labels(names, types, details, tuple(bylines))


def _strings(value: object, where: str, name: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LabelsError(f"{where}: {name}: expected a list of labels")
    return [v.strip() for v in value]


def load_labels(path: str | None = None) -> Labels:
    """The labels in ``path``, else the bundled ones."""
    if path is None:
        text = resources.files("crawler").joinpath("data", LABELS_FILE).read_text("utf-8")
        return read_labels(text)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise LabelsError(f"cannot read labels file {path}: {exc.strerror or exc}") from None
    return read_labels(text, path)


#: Listing pages (``/press-releases``, ``/stories``, ``/newsroom``): entry labels.
LISTING_LABELS = {
    "publishing date": "published",
    "content type": "kind_label",
    "where we are": "where",
    "what we do": "what",
}

#: Lines of the promotion block that closes stories.
PROMOTION_LINES = ("osce impact", "discover more stories about how the osce improves lives.")

#: Lines that are furniture wherever they appear.
FURNITURE_LINES = frozenset(
    {
        *PROMOTION_LINES,
        "skip links",
        "skip to main content",
        "share",
        "share this",
        "share this:",
        "share this page",
        "print",
        "back to top",
        "accept",
        "accept cookies",
    }
)
#: Prefixes of lines that are cookie notices or share links wherever they appear.
FURNITURE_PREFIXES = ("this website uses cookies", "we use cookies", "share on ", "share this")
#: Headings of blocks that are never body: the block goes with its heading.
FURNITURE_HEADINGS = frozenset(
    {
        "osce impact",
        "related documents",
        "see also",
        "related content",
        "related",
        "latest news",
        "follow us",
        "share",
    }
)

#: Files an item attaches (the site's "attached documents", mostly PDF): address extensions,
#: and the words that mark a download list's entries beside their links, ``(PDF)``.
FILE_TYPES = frozenset(
    ("pdf", "doc", "docx", "odt", "rtf", "xls", "xlsx", "ods", "csv", "ppt", "pptx", "zip")
)


def vocabulary(labels: Labels) -> Vocabulary:
    """The site's vocabulary with the labels of every language in ``labels``: a page is
    read with all of them, so its language need not be known before it is read."""
    return Vocabulary(
        type_labels=labels.type_labels,
        detail_labels=labels.detail_labels,
        listing_labels=LISTING_LABELS,
        byline_prefix=labels.bylines[0] if labels.bylines else "by",
        byline_prefixes=labels.bylines[1:],
        furniture_lines=FURNITURE_LINES,
        furniture_prefixes=FURNITURE_PREFIXES,
        furniture_headings=FURNITURE_HEADINGS,
        file_types=FILE_TYPES,
    )


LABELS = load_labels()
VOCABULARY = vocabulary(LABELS)

#: The bundled furniture model (learned from the navigation, labels and promotion lines
#: of the seed captures: ``python -m crawler.sites.osce SEED.txt ...``).
DEFAULT_FURNITURE = "furniture-default.json"


@lru_cache(maxsize=1)
def _default_furniture() -> FurnitureModel:
    data = resources.files("crawler").joinpath("data", DEFAULT_FURNITURE).read_text("utf-8")
    return FurnitureModel.from_json(json.loads(data))


class OsceProfile(SiteProfile):
    """www.osce.org (and any copy of it crawled under another base)."""

    def default_furniture(self) -> FurnitureModel:
        return _default_furniture()


def profile(labels: Labels | None = None) -> OsceProfile:
    """The osce.org profile reading the labels given (default: the bundled file)."""
    labels = labels or LABELS
    return OsceProfile(
        name="osce",
        hosts=("www.osce.org", "osce.org"),
        id_prefix="osce.org/",
        # ``/<section>/<node>``, ``/node/<n>``, optionally under a language prefix.
        item_path=r"^/(?:[a-z]{2}/)?(?:[\w.-]+/){0,3}(?P<node>\d+)/?$",
        listing_paths={"press-release": "/press-releases", "story": "/stories"},
        newsroom_path="/newsroom",
        sitemap_path="/sitemap.xml",
        rss_path="/press-releases/rss",
        rows_param="rows",
        default_kinds=("press-release", "story"),
        vocabulary=vocabulary(labels),
        home="https://www.osce.org",
        alias_path=r"^/(?:[a-z]{2}/)?node/\d+/?$",
        politeness=Politeness(
            download_delay=0.5, autothrottle_target=2.0, concurrency_per_domain=4, obey_robots=True
        ),
        languages=labels.languages,
    )


OSCE = profile()

#: The address the crawl starts from when none is given.
HOME = OSCE.home


def main(argv: list[str]) -> int:
    """``python -m crawler.sites.osce SEED.txt ... > crawler/data/furniture-default.json``."""
    import sys
    from pathlib import Path

    texts = [Path(p).read_text("utf-8") for p in argv]
    model = FurnitureModel.from_texts(texts, host="osce.org")
    json.dump(model.to_json(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
