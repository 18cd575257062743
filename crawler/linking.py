"""The archive's third-party articles linked to the OSCE items they report on.

Run at the end of every crawl that ends normally (and of ``reextract``): every kept
article is read against every archived item with the rule of
``crawler.extraction.reports``, and the archive keeps the answer (``archive.reports``).
Links are computed over the whole archive, not page by page as pages arrive, because an
article is often crawled before the item it reports on (in the same run, or the item in
a later one): the article is linked by the first run that ends with both archived. A
refresh that finds what the archive holds writes nothing new; one pair is one row.

How an address an article links to becomes an item: the archive saw the item at that
address (any spelling); else it is an item address of the osce.org profile
(``/<section>/<node>``, ``/node/<node>``) on osce.org or on the host the archive holds
that item from (a copy of the site crawled with ``--site``), and that item is archived.

Plain Python (no Scrapy): the pipeline and the command line call :func:`refresh`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler.extraction.reports import Article, Catalogue, Item, reports_on
from crawler.sites.osce import OSCE

if TYPE_CHECKING:
    from archive.store import Archive

logger = logging.getLogger(__name__)


def _netloc(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return ""
    host = host[4:] if host.startswith("www.") else host
    return f"{host}:{port}" if port else host


def refresh(archive: Archive) -> dict[str, int]:
    """Link every third-party article of ``archive`` to the items it reports on; returns
    ``articles`` (read), ``linked`` (articles with a link) and the rows ``added``,
    ``updated``, ``removed`` and ``kept``. An archive without articles costs one query."""
    if not archive.has_articles():
        return {"articles": 0, "linked": 0, "added": 0, "updated": 0, "removed": 0, "kept": 0}
    rows = archive.report_items()
    hosts = {row.id: _netloc(row.url) for row in rows}
    items = [Item(r.id, r.title, r.published, r.sources) for r in rows]
    articles = [
        Article(a.id, a.title, a.text, a.published, a.links) for a in archive.report_articles()
    ]
    known = archive.item_addresses(sorted({u for a in articles for u in a.links}))

    def resolve(url: str) -> str | None:
        if url in known:
            return known[url]
        node = OSCE.node_id(url)
        if node is None:
            return None
        item_id = OSCE.id_prefix + node
        if item_id not in hosts:
            return None
        if OSCE.owns(url) or _netloc(url) == hosts[item_id]:
            return item_id
        return None

    catalogue = Catalogue.of(items, resolve)
    found = {a.id: [link.to_json() for link in reports_on(a, catalogue)] for a in articles}
    counts = archive.save_reports(found)
    counts["articles"] = len(articles)
    counts["linked"] = sum(1 for links in found.values() if links)
    logger.info(
        "reports on: %d of %d third-party articles linked to OSCE items "
        "(%d links added, %d updated, %d removed)",
        counts["linked"],
        counts["articles"],
        counts["added"],
        counts["updated"],
        counts["removed"],
    )
    return counts
