"""The relevance rule (crawler/data/relevance.toml): a third-party article is kept when
its title or text names an OSCE term, institution or official, and only then.

Ground truth comes from the replica's third-party news site (``replica.news``): its
generator knows which articles report on an OSCE item; the rule, applied to what the
generic extraction reads from each page, must say the same.
"""

from __future__ import annotations

import pytest

from crawler.extraction.relevance import Rule, about_osce, default_rule
from crawler.sites.generic import GENERIC
from replica import Site
from replica.news import NewsSite


@pytest.mark.parametrize(
    ("title", "text", "terms"),
    [
        ("Security Review Conference Convened by OSCE Chairpersonship", "", ("OSCE",)),
        ("Conference in Vienna", "The OSCE's Secretary General spoke.", ("OSCE",)),
        ("Elections", "the Office for Democratic\nInstitutions and Human Rights", None),
        ("Interview", "Helga Maria Schmid on the organisation's budget", ("Helga Maria Schmid",)),
        ("Die OSZE tagt in Wien", "", ("OSZE",)),
    ],
)
def test_terms_institutions_and_officials_keep_an_article(
    title: str, text: str, terms: tuple[str, ...] | None
) -> None:
    found = about_osce(title, text)
    assert found.kept
    if terms is not None:
        assert found.terms == terms


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Vienna State Opera opens its season", "A sold-out premiere on the Ring."),
        ("Tram line 18", "KOSCE and osceola are no acronyms of the organisation."),
        ("Markets", "The osce in lower case is not the acronym."),
    ],
)
def test_unrelated_articles_are_not_kept(title: str, text: str) -> None:
    assert not about_osce(title, text).kept


def test_the_rule_is_the_data_file() -> None:
    rule = default_rule()
    assert "OSCE" in rule.acronyms and "Helga Maria Schmid" in rule.names
    assert Rule(["ACME"], []).check("ACME news", "").kept
    assert not Rule([], []).check("OSCE", "OSCE").kept


def test_generic_extraction_and_the_rule_agree_with_the_news_site_ground_truth() -> None:
    news = NewsSite(Site(items=60, seed=3), articles=16, seed=3)
    news.osce_base = "http://127.0.0.1:1"
    truth = news.truth()
    assert {t["about_osce"] for t in truth.values()} == {True, False}
    for path, expected in truth.items():
        base = "http://127.0.0.1:2"
        record = GENERIC.extract(news.serve(path, "127.0.0.1:2").body, base + path)
        assert record.is_item, path
        assert about_osce(record.title, record.text).kept == expected["about_osce"], path
        assert record.title == expected["title"]
        assert record.text == expected["text"]  # no comments, ads, boxes or byline
        assert record.byline == expected["byline"]
