"""The "reports on" rule (``crawler.extraction.reports``) on the cases that make it hard,
and the article links it reads (``crawler.extraction.generic.body_links``)."""

from __future__ import annotations

import pytest

from crawler.extraction.reports import (
    DAYS_AFTER,
    DAYS_BEFORE,
    Article,
    Catalogue,
    Item,
    reports_on,
)
from crawler.sites.generic import for_host
from replica import Site
from replica.news import LINK_STYLES, NewsSite

VISIT = "OSCE Chairperson-in-Office visits Ukraine"
ITEMS = [
    Item("osce.org/1", VISIT, "2023-03-01", ("OSCE Chairmanship",)),
    Item("osce.org/2", VISIT, "2023-09-14", ("OSCE Special Monitoring Mission to Ukraine",)),
    Item(
        "osce.org/3",
        "OSCE Mission to Moldova co-hosts expert conference on judicial reform",
        "2023-05-10",
        ("OSCE Mission to Moldova",),
    ),
    Item("osce.org/4", "Annual report published", "2023-05-10", ("OSCE Secretariat",)),
    Item(
        "osce.org/5",
        "OSCE Mission to Moldova co-hosts expert conference on judicial reform in Chisinau",
        "2023-05-11",
        ("OSCE Mission to Moldova",),
    ),
    Item("osce.org/6", "Media freedom conference opens", "2023-05-10", ("RFoM",)),
    Item("osce.org/7", "Media freedom conference opens", "2023-05-10", ("RFoM",)),
]
ADDRESSES = {
    "https://www.osce.org/cio/1": "osce.org/1",
    "https://www.osce.org/node/3": "osce.org/3",
}


def catalogue(items: list[Item] = ITEMS) -> Catalogue:
    return Catalogue.of(items, ADDRESSES.get)


def article(text: str, published: str, title: str = "News", links: tuple[str, ...] = ()) -> Article:
    return Article("news.example/a", title, text, published, links)


def ids(text: str, published: str, **kw: object) -> list[tuple[str, str]]:
    return [(x.id, x.evidence) for x in reports_on(article(text, published, **kw), catalogue())]


def test_a_generic_title_is_linked_only_when_date_and_institution_agree() -> None:
    said = f"{VISIT}. The OSCE Chairmanship said the visit went well."
    assert ids(said, "2023-03-02") == [("osce.org/1", "title+date+institution")]
    # the same words six months later: the other item of that title, if its institution
    assert ids(said, "2023-09-15") == []
    said_smm = f"{VISIT}, the OSCE Special Monitoring Mission to Ukraine reported."
    assert ids(said_smm, "2023-09-15") == [("osce.org/2", "title+date+institution")]
    # the title and the date without an institution: a generic title is not enough
    assert ids(f"{VISIT}.", "2023-03-02") == []


def test_the_same_title_words_on_another_date_are_no_link() -> None:
    text = (
        "OSCE Mission to Moldova co-hosts expert conference on judicial reform, "
        "said the OSCE Mission to Moldova."
    )
    assert ids(text, "2023-05-10") == [("osce.org/3", "title+date+institution")]
    assert ids(text, "2023-05-09") == [("osce.org/3", "title+date+institution")]  # a day early
    assert ids(text, "2023-05-08") == []  # before the item
    assert ids(text, "2022-05-10") == []  # a year before
    assert ids(text, "2023-06-10") == []  # a month later
    assert DAYS_BEFORE == 1 and DAYS_AFTER == 14


def test_a_distinctive_title_and_the_date_suffice_without_institution() -> None:
    text = "Experts met: 'OSCE Mission to Moldova co-hosts expert conference on judicial reform'."
    assert ids(text, "2023-05-12") == [("osce.org/3", "title+date")]


def test_case_punctuation_and_spacing_do_not_matter() -> None:
    text = "osce   CHAIRPERSON in office -- visits UKRAINE!  (OSCE chairmanship)"
    assert ids(text, "2023-03-01") == [("osce.org/1", "title+date+institution")]


def test_a_short_title_is_never_matched_by_its_words() -> None:
    assert ids("Annual report published by the OSCE Secretariat.", "2023-05-10") == []


def test_a_title_inside_a_longer_title_is_not_the_one_meant() -> None:
    text = (
        "OSCE Mission to Moldova co-hosts expert conference on judicial reform in Chisinau, "
        "the OSCE Mission to Moldova announced."
    )
    assert ids(text, "2023-05-11") == [("osce.org/5", "title+date+institution")]


def test_two_items_of_one_title_that_both_pass_are_neither_linked() -> None:
    assert ids("Media freedom conference opens, RFoM says.", "2023-05-10") == []


def test_a_link_to_the_item_is_evidence_and_decides_between_same_titles() -> None:
    found = reports_on(
        article(f"{VISIT}, said the OSCE Chairmanship.", "2023-03-02",
                links=("https://www.osce.org/cio/1", "https://example.org/elsewhere")),
        catalogue(),
    )  # fmt: skip
    assert [x.to_json() for x in found] == [
        {"id": "osce.org/1", "evidence": "link", "detail": "https://www.osce.org/cio/1"}
    ]
    # a link needs no date, no title; an address that is no archived item is nothing
    assert ids("Read it there.", "2001-01-01", links=("https://www.osce.org/node/3",)) == [
        ("osce.org/3", "link")
    ]
    assert ids("Read it there.", "2023-05-10", links=("https://www.osce.org/node/99",)) == []


def test_a_title_split_between_headline_and_text_is_no_match() -> None:
    found = ids("visits Ukraine, said the OSCE Chairmanship", "2023-03-01",
                title="OSCE Chairperson-in-Office")  # fmt: skip
    assert found == []


def test_no_date_no_match() -> None:
    text = "OSCE Mission to Moldova co-hosts expert conference on judicial reform."
    assert reports_on(article(text, None), catalogue()) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("style", LINK_STYLES)
def test_an_articles_links_are_its_bodys_only(style: str) -> None:
    """The news site's pages link to other articles (most read), advertisements and the
    site's own pages; only the body's link to the OSCE item is the article's."""
    site = Site(items=40, seed=2)
    news = NewsSite(site, articles=12, seed=2)
    news.osce_base = "https://www.osce.org"
    a = next(
        a
        for a in news.articles
        if a.about is not None and LINK_STYLES[(a.idx // 2) % len(LINK_STYLES)] == style
    )
    page = news.serve(a.path, host="news.example")
    record = for_host("news.example").extract(page.body, "http://news.example" + a.path)
    expected = {
        "canonical": ["https://www.osce.org" + a.about.path],
        "node": [f"https://www.osce.org/node/{a.about.node}"],
        "none": [],
    }[style]
    assert record.links == expected
    assert record.provenance_json().get("links", []) == expected
