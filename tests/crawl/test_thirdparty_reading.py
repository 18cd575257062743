"""Reading a third-party source's feeds and sitemaps (crawler/thirdparty.py), without a
crawl: what is an entry, what is a problem, and that a bomb costs bounded memory."""

from __future__ import annotations

import gzip

from crawler.sources import Source
from crawler.thirdparty import SourceRun, profile_for, read_feed, read_sitemap

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>
<item><title>OSCE  conference</title><link>/news/1</link>
<pubDate>Tue, 04 Jul 2023 23:31:00 +0200</pubDate><description>About it</description></item>
</channel></rss>"""
ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>N</title>
<entry><title>A</title><link href="http://n.example/a"/>
<published>2023-07-04T21:31:00Z</published><updated>2023-07-06T08:00:00Z</updated></entry>
</feed>"""
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def test_feed_entries_carry_title_date_and_updated() -> None:
    [(entry, summary)], problem = read_feed(RSS, "http://n.example/rss.xml")
    assert problem == ""
    assert (entry.url, entry.title, entry.published, entry.lastmod, entry.source) == (
        "http://n.example/news/1",
        "OSCE conference",
        "2023-07-04",
        None,
        "rss",
    )
    assert summary == "About it"
    [(atom, _)], _ = read_feed(ATOM, "http://n.example/atom.xml")
    assert atom.lastmod == "2023-07-06T08:00:00Z"


def test_a_page_that_is_not_a_feed_is_a_problem() -> None:
    entries, problem = read_feed(b"<html><body><h1>Maintenance</h1></body></html>", "http://x/")
    assert entries == [] and problem.startswith("not an RSS or Atom feed")
    assert read_feed(b"", "http://x/")[1].startswith("not an RSS or Atom feed")


def test_sitemaps_index_urlset_and_what_is_not_one() -> None:
    urlset = f'<urlset xmlns="{NS}"><url><loc>http://n.example/a</loc>'
    urlset += "<lastmod>2023-07-04</lastmod></url></urlset>"
    assert read_sitemap(urlset.encode()) == (
        "urlset",
        [("http://n.example/a", "2023-07-04")],
        "",
    )
    index = f'<sitemapindex xmlns="{NS}"><sitemap><loc>http://n.example/s1.xml</loc>'
    index += "</sitemap></sitemapindex>"
    assert read_sitemap(gzip.compress(index.encode()))[:2] == (
        "index",
        [("http://n.example/s1.xml", None)],
    )
    assert read_sitemap(b"<html><body>no</body></html>")[2].startswith("not a sitemap")
    assert read_sitemap(b"\x00\x01 binary")[2].startswith("not a sitemap")


def test_a_gzip_bomb_stops_at_the_size_limit() -> None:
    bomb = gzip.compress(f'<urlset xmlns="{NS}">'.encode() + b" " * 8_000_000 + b"</urlset>")
    assert len(bomb) < 20_000
    kind, entries, problem = read_sitemap(bomb, max_size=100_000)
    assert entries == [] and "inflates past the size limit (100000 bytes)" in problem


def test_a_source_reads_its_own_hosts_with_ids_of_host_and_path() -> None:
    source = Source(name="n", feeds=("https://www.n.example/rss.xml",))
    run = SourceRun(source, profile_for(source))
    assert run.rebase("https://n.example/a/b?x=1#top") == "https://www.n.example/a/b?x=1"
    assert run.rebase("https://other.example/a") is None
    page = (
        b'<html><head><link rel="canonical" href="https://www.n.example/a/b">'
        b"<title>T</title></head><body><article><h1>T</h1>"
        + b"<p>The OSCE met in Vienna on Tuesday to discuss the budget. </p>" * 5
        + b"</article></body></html>"
    )
    record = run.profile.extract(page, "https://www.n.example/a/b")
    assert record.id == "n.example/a/b"
