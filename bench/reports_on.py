"""The "reports on" rule at archive scale: its cost and its precision against the replica.

    .venv/bin/python bench/reports_on.py [--items 25000] [--articles 1000] [--seed 1]

Builds the catalogue of ``--items`` replica items (titles, dates, institutions, as the
archive hands them to the rule) and a news site of ``--articles`` articles reporting on
some of them (``replica.news``, without links, so every link is a match of title, date
and institution: the rule's hard way), then times the catalogue's index and the rule over
every article, and scores the links against the generator's truth.  No HTTP, no database:
the end-of-run refresh adds one read of the items' plain columns and of the articles'
texts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from crawler.extraction.reports import Article, Catalogue, Item, reports_on
from replica import Site
from replica.news import NewsSite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=25000)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    site = Site(items=args.items, seed=args.seed)
    items = []
    for it in site.items_live():
        content = site.content(it)
        items.append(Item(it.item_id, content.title, it.published.isoformat(), content.sources))
    news = NewsSite(site, articles=args.articles, seed=args.seed)
    articles = [
        Article(a.path, a.title, "\n\n".join(a.paragraphs), a.published.date().isoformat())
        for a in news.articles
    ]
    start = time.perf_counter()
    catalogue = Catalogue.of(items)
    indexed = time.perf_counter()
    found = {a.id: reports_on(a, catalogue) for a in articles}
    matched = time.perf_counter()
    truth = {(a.path, a.about.item_id) for a in news.articles if a.about is not None}
    made = {(k, link.id) for k, links in found.items() for link in links}
    result = {
        "items": len(items),
        "articles": len(articles),
        "index_seconds": round(indexed - start, 3),
        "rule_seconds": round(matched - indexed, 3),
        "links": len(made),
        "expected": len(truth),
        "precision": len(made & truth) / len(made) if made else 1.0,
        "recall": len(made & truth) / len(truth) if truth else 1.0,
        "evidence": dict(Counter(link.evidence for ls in found.values() for link in ls)),
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
