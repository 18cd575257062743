"""``crawl --sources``: third-party sites crawled with osce.org (issue 16, points 1, 3, 5).

The replica of osce.org and a third-party news site reporting on it (``replica.news``,
modelled on seed 004) are served on loopback; the real crawl runs as a subprocess into
a real SQLite archive.  Ground truth is the news site generator's: which articles are
about the OSCE, their titles, texts, bylines and dates, which one robots.txt forbids.
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

from archive.export import record_validator
from replica import ReplicaServer
from replica.news import NewsSite
from tests.crawl.conftest import ROOT, archived_records, news_site

OSCE_ITEMS = 60
ARTICLES = 12
FAST = ["-s", "OSCE_EXTRACT_WORKERS=0"]


@pytest.fixture
def sites(replica_factory: Any) -> Iterator[tuple[ReplicaServer, ReplicaServer]]:
    """(the osce.org replica, the news site reporting on it), both started."""
    osce = replica_factory(items=OSCE_ITEMS, seed=1)
    with news_site(osce, NewsSite(osce.site, articles=ARTICLES, seed=1)) as server:
        yield osce, server


def _sources_file(path: Path, body: str) -> str:
    path.write_text(body, encoding="utf-8")
    return str(path)


def _good(news: ReplicaServer, delay: float = 0.0, concurrency: int = 4) -> str:
    return (
        f'[[source]]\nname = "danube"\nfeeds = ["{news.url}/rss.xml"]\n'
        f'sitemaps = ["{news.url}/sitemap.xml"]\ndelay = {delay}\nconcurrency = {concurrency}\n'
    )


def _article_gets(news: ReplicaServer) -> list[Any]:
    return [e for e in news.log if e.path.startswith(("/news/", "/premium/"))]


def _third_party(records: dict[str, dict[str, Any]], netloc: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in records.items() if k.startswith(netloc + "/")}


def test_articles_about_the_osce_are_kept_unrelated_ones_skipped(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = sites
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    sources = _sources_file(tmp_path / "sources.toml", _good(news, delay=0.2, concurrency=1))
    result = crawl(osce.url, db, "--sources", sources, *FAST)
    assert result.returncode == 0, result.stderr
    site = news.site
    assert isinstance(site, NewsSite)
    truth = site.truth()
    netloc = urlsplit(news.url).netloc
    wanted = {
        f"{netloc}{path}": t
        for path, t in truth.items()
        if t["about_osce"] and not t["robots_forbidden"]
    }
    unrelated = [p for p, t in truth.items() if not t["about_osce"]]
    summary = result.summary
    assert summary["sources_kept"] == len(wanted)
    assert summary["sources_unrelated"] == len(unrelated)
    assert summary["source_problems"] == []

    records = archived_records(db)
    kept = _third_party(records, netloc)
    assert set(kept) == set(wanted)
    validator = record_validator()
    for doc_id, record in kept.items():
        expected = wanted[doc_id]
        assert not list(validator.iter_errors(record)), doc_id  # the published schema holds
        assert record["site"] == netloc
        assert record["kind"] == "article"
        assert record["title"] == expected["title"]
        assert record["text"] == expected["text"]
        assert record["byline"] == expected["byline"]
        assert record["published"] == expected["published"]
    # osce.org is crawled as before, its records carry their own site
    assert sum(1 for r in records.values() if r["site"] == "osce.org") > 0
    assert not set(records) - set(kept) - {k for k in records if k.startswith("osce.org/")}

    gets = _article_gets(news)
    fetched = {e.path for e in gets}
    assert set(unrelated) <= fetched  # read, found unrelated, not archived
    assert not any(p.startswith("/premium/") for p in fetched)  # robots.txt obeyed
    assert any(e.path == "/robots.txt" for e in news.log)
    # the source's own pace: one request at a time, 0.2 s apart
    times = sorted(e.time for e in gets)
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.15


def test_a_second_run_is_incremental_and_conditional(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = sites
    site = news.site
    assert isinstance(site, NewsSite)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    sources = _sources_file(tmp_path / "sources.toml", _good(news))
    first = crawl(osce.url, db, "--sources", sources, *FAST)
    assert first.returncode == 0, first.stderr
    netloc = urlsplit(news.url).netloc
    before = _third_party(archived_records(db), netloc)

    news.log.clear()
    again = crawl(osce.url, db, "--sources", sources, *FAST)
    assert again.returncode == 0, again.stderr
    assert again.summary["new_documents"] == again.summary["new_versions"] == 0
    assert _article_gets(news) == []  # the feed and sitemap say nothing moved

    news.log.clear()
    full = crawl(osce.url, db, "--sources", sources, "--full", *FAST)
    assert full.returncode == 0, full.stderr
    assert full.summary["new_documents"] == full.summary["new_versions"] == 0
    revisits = [
        e
        for e in _article_gets(news)
        if e.path in {urlsplit(r["url"]).path for r in before.values()}
    ]
    assert revisits and all(e.if_none_match and e.status == 304 for e in revisits)

    site.set_epoch(1)
    changes = site.changes(1)
    truth = site.truth()
    news.log.clear()
    moved = crawl(osce.url, db, "--sources", sources, *FAST)
    assert moved.returncode == 0, moved.stderr
    after = _third_party(archived_records(db), netloc)
    [edited] = changes["edited"]
    edited_id = f"{netloc}{edited}"
    assert after[edited_id]["version"] == before[edited_id]["version"] + 1
    assert after[edited_id]["text"] == truth[edited]["text"]
    new_about = [p for p in changes["new"] if truth[p]["about_osce"]]
    assert set(after) - set(before) == {f"{netloc}{p}" for p in new_about}
    assert moved.summary["sources_unrelated"] == len(changes["new"]) - len(new_about)
    # only the changed and the new were fetched; the edited one conditionally
    fetched = [e for e in _article_gets(news)]
    assert {e.path for e in fetched} == {edited, *changes["new"]}
    assert all(e.if_none_match for e in fetched if e.path == edited)


def test_bad_entries_and_unreachable_feeds_are_one_line_each_the_rest_is_crawled(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = sites
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    body = _good(news) + (
        '\n[[source]]\nname = "typo"\nfeeds = ["http://a.example/rss"]\ndelay_s = 1\n'
        '\n[[source]]\nname = "badurl"\nfeeds = ["htp:/nowhere"]\n'
        '\n[[source]]\nname = "gone"\nfeeds = ["http://127.0.0.1:9/rss.xml"]\ndelay = 0\n'
    )
    result = crawl(osce.url, db, "--sources", _sources_file(tmp_path / "s.toml", body), *FAST)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("osce-archive: ")]
    assert [line for line in lines if "'typo'" in line] == [
        f"osce-archive: {tmp_path / 's.toml'}: source 2 ('typo'): delay_s: unknown key "
        "(known: name, feeds, sitemaps, delay, concurrency, keywords, url_pattern)"
    ]
    assert len([line for line in lines if "'badurl'" in line and "feeds:" in line]) == 1
    gone = [line for line in lines if "source gone:" in line]
    assert len(gone) == 1 and "refused" in gone[0].lower()
    assert lines[-1].startswith("osce-archive: 3 problem(s) with third-party sources")
    assert result.summary["sources_kept"] > 0  # the good source was crawled
    assert len(result.summary["source_problems"]) == 3


def test_a_broken_feed_and_sitemap_bombs_are_bounded_and_reported(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = sites
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    hostile = "".join(
        f'\n[[source]]\nname = "{name}"\n{key} = ["{news.url}{path}"]\ndelay = 0\n'
        for name, key, path in (
            ("broken", "feeds", "/feeds/broken.xml"),
            ("huge", "sitemaps", "/sitemaps/huge.xml"),
            ("nested", "sitemaps", "/sitemaps/nested/0.xml"),
            ("bomb", "sitemaps", "/sitemaps/bomb.xml.gz"),
        )
    )
    sources = _sources_file(tmp_path / "s.toml", _good(news) + hostile)
    limit = ["-s", "OSCE_SOURCES_MAXSIZE=300000", "-s", "OSCE_SOURCES_SITEMAP_DEPTH=2"]
    result = crawl(osce.url, db, "--sources", sources, *limit, *FAST, timeout=120)
    assert result.returncode == 1, result.stderr
    problems = result.summary["source_problems"]
    by_source = {
        name: [p for p in problems if p.startswith(f"source {name}:")]
        for name in ("broken", "huge", "nested", "bomb")
    }
    assert all(len(lines) == 1 for lines in by_source.values()), problems
    assert "not an RSS or Atom feed" in by_source["broken"][0]
    assert "size limit" in by_source["huge"][0]
    assert "nested deeper than 2 levels" in by_source["nested"][0]
    assert "inflates past the size limit" in by_source["bomb"][0]
    assert len(problems) == 4
    # bounded: the nested indexes were read two levels deep (1 + 2 + 4 files), no further
    nested = [e for e in news.log if e.path.startswith("/sitemaps/nested/")]
    assert len(nested) == 7
    assert result.summary["sources_kept"] > 0  # the good source was crawled all the same


def test_an_unreachable_site_still_fails_when_the_sources_answer(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    _, news = sites
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    sources = _sources_file(tmp_path / "sources.toml", _good(news))
    result = crawl("http://127.0.0.1:9", db, "--sources", sources, *FAST)
    assert result.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in result.stderr


def test_reextract_reads_third_party_articles_as_the_crawl_did(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = sites
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    sources = _sources_file(tmp_path / "sources.toml", _good(news))
    assert crawl(osce.url, db, "--sources", sources, *FAST).returncode == 0
    netloc = urlsplit(news.url).netloc
    documents = archived_records(db)
    before = _third_party(documents, netloc)
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "reextract", "--db", db, "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    # every document read again, the third-party ones too (with their generic profile)
    assert json.loads(proc.stdout)["unchanged"] == len(documents)
    after = archived_records(db)
    # no new version, no unrelated one kept
    third = _third_party(after, netloc)
    assert {k: {**r, "reports_on": []} for k, r in third.items()} == {
        k: {**r, "reports_on": []} for k, r in before.items()
    }
    # reextract reads every stored page, also the items of kinds the crawl did not ask
    # for (it archives them); an article reporting on one of those is linked to it now
    added = set(after) - set(documents)
    for k, record in third.items():
        gained = [x for x in record["reports_on"] if x not in before[k]["reports_on"]]
        assert all(x["id"] in added for x in gained)
        assert all(x in record["reports_on"] for x in before[k]["reports_on"])
    news_pages = [r for r in after.values() if urlsplit(r["url"]).netloc == netloc]
    assert all(r["site"] == netloc for r in news_pages)  # none read as an osce.org item


def test_the_keyword_filter_decides_what_is_fetched(
    sites: tuple[ReplicaServer, ReplicaServer], crawl: Any, tmp_path: Path
) -> None:
    osce, news = sites
    site = news.site
    assert isinstance(site, NewsSite)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    body = (
        f'[[source]]\nname = "danube"\nfeeds = ["{news.url}/rss.xml"]\ndelay = 0\n'
        'keywords = ["OSCE"]\nurl_pattern = "^http://[^/]+/news/"\n'
    )
    result = crawl(osce.url, db, "--sources", _sources_file(tmp_path / "s.toml", body), *FAST)
    assert result.returncode == 0, result.stderr
    # the feed shows each article's title and first paragraph
    expected = {
        path
        for path, t in site.truth().items()
        if path.startswith("/news/")
        and "osce" in (t["title"] + "\n" + t["text"].split("\n\n")[0]).casefold()
    }
    assert expected
    assert {e.path for e in _article_gets(news)} == expected
