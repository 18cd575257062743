"""The profile of www.osce.org: every host, path, label and known line of the site.

The site's markup changes (class names, list vs definition list vs plain rows) far more
often than what a reader sees on it, so the profile is its *visible* words (type labels,
``Date:``/``Place:``/``Source:``/``Fields of work:``, ``By``, the listing labels, the
promotion block, the file types of attachments) and its addresses; the generic code of
``crawler.extraction`` reads any markup with them.  Nothing else in the project names a
host or a label of osce.org.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from crawler.extraction.furniture import FurnitureModel
from crawler.extraction.vocabulary import Vocabulary
from crawler.sites.profile import Politeness, SiteProfile

#: Content type labels seen on the site, as shown (lowercase), mapped to the record ``kind``.
TYPE_LABELS: dict[str, str] = {
    "press release": "press-release",
    "story": "story",
    "news": "news",
    "news item": "news",
    "spot report": "spot-report",
    "daily report": "daily-report",
    "statement": "statement",
    "feature": "feature",
    "speech": "speech",
    "interview": "interview",
    "op-ed": "op-ed",
    "opinion": "opinion",
    "announcement": "announcement",
    "media advisory": "media-advisory",
    "report": "report",
}

#: The labelled details of an item page.
DETAIL_LABELS = {
    "date": "date",
    "place": "place",
    "source": "sources",
    "sources": "sources",
    "field of work": "fields_of_work",
    "fields of work": "fields_of_work",
}

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

VOCABULARY = Vocabulary(
    type_labels=TYPE_LABELS,
    detail_labels=DETAIL_LABELS,
    listing_labels=LISTING_LABELS,
    byline_prefix="by",
    furniture_lines=FURNITURE_LINES,
    furniture_prefixes=FURNITURE_PREFIXES,
    furniture_headings=FURNITURE_HEADINGS,
    file_types=FILE_TYPES,
)

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


OSCE = OsceProfile(
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
    vocabulary=VOCABULARY,
    home="https://www.osce.org",
    alias_path=r"^/(?:[a-z]{2}/)?node/\d+/?$",
    politeness=Politeness(
        download_delay=0.5, autothrottle_target=2.0, concurrency_per_domain=4, obey_robots=True
    ),
)

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
