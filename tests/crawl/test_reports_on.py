"""Third-party articles linked to the OSCE items they report on (issue 16, points 3 and 5).

The replica of osce.org and its news site (``replica.news``) on loopback; the real crawl
as a subprocess into a real SQLite archive; ground truth from the news site's generator:
the item each article about the OSCE reports on (its ``reports_on``).  The news site
links one article in three to the item's address, one to its ``/node/<n>`` alias and
leaves one without a link, so all three ways of the rule are crawled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from archive.db import make_engine
from archive.export import record_validator
from replica import ReplicaServer
from replica.news import NewsSite
from tests.crawl.conftest import ROOT, archived_records, news_site
from web.app import create_app

OSCE_ITEMS = 60
ARTICLES = 18
FAST = ["-s", "OSCE_EXTRACT_WORKERS=0"]


@pytest.fixture
def sites(replica_factory: Any) -> Iterator[tuple[ReplicaServer, ReplicaServer]]:
    osce = replica_factory(items=OSCE_ITEMS, seed=3)
    with news_site(osce, NewsSite(osce.site, articles=ARTICLES, seed=3)) as server:
        yield osce, server


def _sources(tmp_path: Path, news: ReplicaServer) -> str:
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "danube"\nfeeds = ["{news.url}/rss.xml"]\n'
        f'sitemaps = ["{news.url}/sitemap.xml"]\ndelay = 0\nconcurrency = 4\n',
        encoding="utf-8",
    )
    return str(path)


def _truth(news: ReplicaServer) -> dict[str, dict[str, Any]]:
    """The news site's truth by document id (``host:port/path``)."""
    site = news.site
    assert isinstance(site, NewsSite)
    netloc = urlsplit(news.url).netloc
    return {f"{netloc}{path}": t for path, t in site.truth().items()}


def _report_rows(db: str) -> list[tuple[Any, ...]]:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text(
                        "select article_id, item_id, evidence, detail, removed_at from reports "
                        "order by article_id, item_id"
                    )
                )
            ]
    finally:
        engine.dispose()


def _score(records: dict[str, dict[str, Any]], truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Precision and recall of the links against the truth, over the kept articles."""
    made = {(a, link["id"]) for a, r in records.items() if a in truth for link in r["reports_on"]}
    expected = {
        (a, t["reports_on"])
        for a, t in truth.items()
        if a in records and t["reports_on"] and t["reports_on"] in records
    }
    right = made & expected
    return {
        "made": len(made),
        "expected": len(expected),
        "precision": len(right) / len(made) if made else 1.0,
        "recall": len(right) / len(expected) if expected else 1.0,
        "wrong": sorted(made - expected),
        "missed": sorted(expected - made),
    }


def test_kept_articles_are_linked_to_exactly_their_items_with_evidence(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = sites
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    sources = _sources(tmp_path, news)
    result = crawl(osce.url, db, "--kinds", "all", "--sources", sources, *FAST)
    assert result.returncode == 0, result.stderr
    truth = _truth(news)
    records = archived_records(db)
    articles = {k: r for k, r in records.items() if k in truth}
    # the relevance rule as before: the articles about the OSCE kept, the others skipped
    assert set(articles) == {
        k for k, t in truth.items() if t["about_osce"] and not t["robots_forbidden"]
    }
    score = _score(records, truth)
    kinds = sorted(
        ("link /node/" if "/node/" in x["detail"] else x["evidence"])
        for r in articles.values()
        for x in r["reports_on"]
    )
    print(f"\nreports_on on the replica's news site: {score}; evidence {kinds}")
    assert score["precision"] == 1.0, score["wrong"]  # no false link
    assert score["recall"] == 1.0, score["missed"]
    assert score["expected"] == len(articles)  # every kept article's item is archived
    assert result.summary["reports_linked"] == len(articles)

    evidence = {r["reports_on"][0]["evidence"] for r in articles.values()}
    assert evidence == {"link", "title+date+institution"}
    node_links = [
        r for r in articles.values() if "/node/" in r["reports_on"][0]["detail"]
    ]  # an alias the archive resolves through the item's node number
    assert node_links and all(r["reports_on"][0]["evidence"] == "link" for r in node_links)
    for r in articles.values():
        [link] = r["reports_on"]
        item = records[link["id"]]
        if link["evidence"] != "link":  # the matched strings are the evidence
            assert f"title '{item['title']}'" in link["detail"]
            assert item["published"] in link["detail"] and r["published"] in link["detail"]
        # "reported by" on the item, both directions agree
        assert r["id"] in item["reported_by"]
    reported = {k for k, r in records.items() if r["reported_by"]}
    assert reported == {r["reports_on"][0]["id"] for r in articles.values()}
    # only articles report on something; an OSCE item never does
    assert all(not r["reports_on"] for k, r in records.items() if k.startswith("osce.org/"))
    validator = record_validator()
    for record in records.values():
        assert not list(validator.iter_errors(record)), record["id"]

    # a second run finds the same links: one row per pair, nothing new, no new version
    rows = _report_rows(db)
    again = crawl(osce.url, db, "--kinds", "all", "--sources", sources, *FAST)
    assert again.returncode == 0, again.stderr
    assert again.summary["new_versions"] == 0
    assert _report_rows(db) == rows
    assert len(rows) == len(articles)
    assert archived_records(db) == records

    # the reading room shows both directions, and its API carries the fields
    engine = make_engine(db)
    try:
        client = TestClient(create_app(engine))
        article_id, article = sorted(articles.items())[0]
        item_id = article["reports_on"][0]["id"]
        page = client.get(f"/doc/{article_id}")
        assert page.status_code == 200
        assert "Reports on" in page.text and f'href="/doc/{item_id}"' in page.text
        assert article["reports_on"][0]["evidence"] in page.text
        item_page = client.get(f"/doc/{item_id}")
        assert "Reported by" in item_page.text and f'href="/doc/{article_id}"' in item_page.text
        api = client.get(f"/api/doc/{article_id}").json()
        assert api["reports_on"] == article["reports_on"]
        assert client.get(f"/api/doc/{item_id}").json()["reported_by"] == [article_id]
    finally:
        engine.dispose()


@pytest.fixture
def later_items(replica_factory: Any) -> Iterator[tuple[ReplicaServer, ReplicaServer]]:
    """(osce.org's replica at epoch 0, a news site that also reports on items the OSCE
    publishes only in epoch 1): the articles come before their items."""
    osce = replica_factory(items=OSCE_ITEMS, seed=4)
    osce.site.set_epoch(1)
    news = NewsSite(osce.site, articles=ARTICLES, seed=4)
    osce.site.set_epoch(0)
    with news_site(osce, news) as server:
        yield osce, server


def test_an_article_crawled_before_its_item_is_linked_when_the_item_arrives(
    later_items: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = later_items
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    sources = _sources(tmp_path, news)
    truth = _truth(news)
    first = crawl(osce.url, db, "--sources", sources, *FAST)
    assert first.returncode == 0, first.stderr
    before = archived_records(db)
    waiting = [k for k, r in before.items() if k in truth and truth[k]["reports_on"] not in before]
    assert len(waiting) == 3  # kept, but their items are not published yet
    assert all(not before[k]["reports_on"] for k in waiting)
    assert _score(before, truth)["precision"] == 1.0

    export = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "export", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert export.returncode == 0, export.stderr
    cursor = export.stderr.strip().splitlines()[-1].removeprefix("cursor: ")

    osce.site.set_epoch(1)  # the OSCE publishes them
    second = crawl(osce.url, db, "--sources", sources, *FAST)
    assert second.returncode == 0, second.stderr
    after = archived_records(db)
    for k in waiting:
        assert [link["id"] for link in after[k]["reports_on"]] == [truth[k]["reports_on"]]
        assert after[k]["version"] == before[k]["version"]  # a link is not a version
        assert k in after[truth[k]["reports_on"]]["reported_by"]
    score = _score(after, truth)
    print(f"\nreports_on after the items arrived: {score}")
    assert score["precision"] == 1.0, score["wrong"]

    # an export since the first run's cursor carries the newly linked articles
    since = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "export", "--db", db, "--since", cursor],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert since.returncode == 0, since.stderr
    exported = {json.loads(line)["id"]: json.loads(line) for line in since.stdout.splitlines()}
    assert set(waiting) <= set(exported)
    assert all(exported[k]["reports_on"] == after[k]["reports_on"] for k in waiting)
