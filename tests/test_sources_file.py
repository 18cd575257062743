"""The sources file (crawler/sources.py): TOML checked entry by entry, one line naming the
file, the entry and the key per problem, the good entries kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sources import DEFAULT_DELAY, Source, SourcesError, load, parse

GOOD = """
[[source]]
name = "vindobona"
feeds = ["https://www.vindobona.org/rss"]
sitemaps = ["https://www.vindobona.org/sitemap.xml"]
delay = 5
concurrency = 2
keywords = ["OSCE"]
url_pattern = "/article/"
"""


def test_a_good_source_is_read_with_its_politeness_and_filter() -> None:
    found = parse(GOOD, "s.toml")
    assert found.problems == []
    [source] = found.sources
    assert source == Source(
        name="vindobona",
        feeds=("https://www.vindobona.org/rss",),
        sitemaps=("https://www.vindobona.org/sitemap.xml",),
        delay=5.0,
        concurrency=2,
        keywords=("OSCE",),
        url_pattern="/article/",
    )
    assert source.owns("https://vindobona.org/article/1")
    assert not source.owns("https://example.org/article/1")
    assert source.wants("https://www.vindobona.org/article/1", "An OSCE conference")
    assert not source.wants("https://www.vindobona.org/article/2", "The opera ball")
    assert not source.wants("https://www.vindobona.org/video/3", "OSCE")


def test_defaults_are_polite() -> None:
    [source] = parse('[[source]]\nname = "a"\nfeeds = ["http://a.example/rss"]\n').sources
    assert source.delay == DEFAULT_DELAY and source.concurrency == 1


def test_each_bad_entry_is_one_line_and_the_good_ones_stay() -> None:
    text = (
        GOOD
        + """
[[source]]
name = "typo"
feeds = ["http://a.example/rss"]
delay_s = 3

[[source]]
name = "badurl"
feeds = ["htp:/nowhere"]

[[source]]
name = "vindobona"
feeds = ["http://b.example/rss"]

[[source]]
name = "nothing"

[[source]]
name = "rude"
feeds = ["http://c.example/rss"]
concurrency = 100
"""
    )
    found = parse(text, "sources.toml")
    assert [s.name for s in found.sources] == ["vindobona"]
    assert found.problems == [
        "sources.toml: source 2 ('typo'): delay_s: unknown key (known: name, feeds, sitemaps, "
        "delay, concurrency, keywords, url_pattern)",
        "sources.toml: source 3 ('badurl'): feeds: not an http(s) address: 'htp:/nowhere'",
        "sources.toml: source 4 ('vindobona'): name: 'vindobona' is used by an earlier source",
        "sources.toml: source 5 ('nothing'): feeds: a source needs at least one feed or sitemap",
        "sources.toml: source 6 ('rude'): concurrency: a whole number from 1 to 8 (got 100)",
    ]


def test_a_file_that_is_not_toml_or_cannot_be_read_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="not valid TOML"):
        parse("[[source]\nname=", "x.toml")
    with pytest.raises(SourcesError, match="cannot read sources file"):
        load(tmp_path / "missing.toml")
    assert parse("title = 'x'\n", "y.toml").problems == [
        "y.toml: unknown key 'title' (sources are [[source]] tables)"
    ]
