"""The same item in many markups gives the same record (issue 3, variant tests)."""

from __future__ import annotations

import pytest

from archive.records import ListingEntry
from crawler.sites import extract
from tests.extraction.pages import LAYOUTS, Item, render

URL = "https://www.osce.org/fsc/55436"
EXPECTED_TEXT = "\n\n".join(Item().paragraphs)


def check(record, item: Item, date_source: str = "markup") -> None:
    # The expected kind of every label these tests render (a missing label fails loudly).
    assert record.kind == {"Press release": "press-release", "Story": "story"}[item.type_label]
    assert record.id == f"osce.org/{item.node}"
    assert record.url == f"https://www.osce.org/{item.section}/{item.node}"
    assert record.title == item.title
    assert record.place == item.place
    assert record.sources == item.sources
    assert record.fields_of_work == item.fields_of_work
    assert record.byline == item.byline
    assert record.published == item.published
    assert record.date_source == date_source
    assert record.text == "\n\n".join(item.paragraphs)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("cls", ["field", "zz9-q", "node__meta"])
def test_layouts_and_class_names(layout: str, cls: str) -> None:
    item = Item()
    check(extract(render(item, layout=layout, cls=cls), URL), item)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "labels",
    [
        {"date": "DATE:", "place": "PLACE:", "source": "SOURCE:", "fields": "FIELDS OF WORK:"},
        {"date": "date :", "place": "place :", "source": "source :", "fields": "fields of work :"},
        {"date": "Date", "place": "Place:", "source": "Sources:", "fields": "Fields of Work:"},
    ],
)
def test_label_case_and_colon(layout: str, labels: dict[str, str]) -> None:
    item = Item()
    check(extract(render(item, layout=layout, labels=labels), URL), item)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_missing_optional_fields_story_with_byline(layout: str) -> None:
    item = Item(
        node=102889,
        section="cio",
        type_label="Story",
        title="A security community for the 21st century",
        place=None,
        sources=["Summits / Ministerial Councils"],
        fields_of_work=[],
        byline="Marc Perrin de Brichambaut, OSCE Secretary General",
        paragraphs=[
            "Security is a complex notion and can be approached in different ways.",
            "Security is about feeling relatively certain that tomorrow will not differ.",
        ],
        published="2010-11-29",
        promotion=True,
    )
    record = extract(render(item, layout=layout), "https://www.osce.org/cio/102889")
    assert record.kind == "story"
    check(record, item)


@pytest.mark.parametrize("layout", ["list", "dl", "strong"])
def test_no_h1_title_found_by_label_order(layout: str) -> None:
    item = Item()
    check(extract(render(item, layout=layout, h1=False), URL), item)


@pytest.mark.parametrize("layout", ["list", "dl", "rows"])
def test_repeated_body_each_paragraph_once(layout: str) -> None:
    item = Item()
    record = extract(render(item, layout=layout, repeat_body=True), URL)
    assert record.text == EXPECTED_TEXT


@pytest.mark.parametrize(
    "date_in, listing, source",
    [
        (("time",), None, "markup"),
        (("meta",), None, "meta"),
        (("jsonld",), None, "json-ld"),
        ((), "2003-06-27", "listing"),
        (("meta", "jsonld", "time"), "2003-06-27", "markup"),
        (("meta", "jsonld"), "2003-06-27", "meta"),
        (("jsonld",), "2003-06-27", "json-ld"),
    ],
)
@pytest.mark.parametrize("layout", ["list", "dl", "plain"])
def test_date_sources(
    date_in: tuple[str, ...], listing: str | None, source: str, layout: str
) -> None:
    item = Item()
    entry = ListingEntry(url=URL, published=listing) if listing else None
    record = extract(render(item, layout=layout, date_in=date_in), URL, listing=entry)
    check(record, item, source)
    assert any(c.source == "dateline" and c.value == "2003-06-26" for c in record.date_candidates)
    assert record.date_conflict is None  # a dateline a day early is not a conflict


def test_date_only_in_dateline() -> None:
    item = Item(published="2003-06-26")
    record = extract(render(item, date_in=()), URL)
    check(record, item, "dateline")


def test_date_heuristic_when_nothing_else() -> None:
    item = Item(paragraphs=["The Conference closed yesterday with its main aim met."])
    page = render(item, date_in=()).replace(
        "<head>", '<head><meta name="citation_publication_date" content="2003/06/27">'
    )
    record = extract(page, URL)
    assert (record.published, record.date_source) == ("2003-06-27", "heuristic")
    assert [c.source for c in record.date_candidates] == ["heuristic"]
    bare = extract(render(item, date_in=()), URL)  # no date anywhere: none is invented
    assert (bare.published, bare.date_source) == (None, None)


def test_conflict_beyond_a_day_is_kept_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    item = Item()
    entry = ListingEntry(url=URL, published="2003-07-15")
    with caplog.at_level("INFO", logger="crawler.extraction.dates"):
        record = extract(render(item, date_in=("time",)), URL, listing=entry)
    assert record.published == "2003-06-27" and record.date_source == "markup"
    assert record.date_conflict and "listing 2003-07-15" in record.date_conflict
    assert any("date conflict" in r.getMessage() for r in caplog.records)


def test_navigation_drift_and_unknown_furniture() -> None:
    item = Item()
    drifted = ["Our work", "Czechia", "Gender equality conferences", "Türkiye"]
    a = extract(render(item, nav=drifted), URL)
    b = extract(render(item), URL)
    assert a.to_json() == b.to_json()
    assert "Czech" not in a.text and "Our work" not in a.text


@pytest.mark.parametrize(
    "label, kind",
    [
        ("Story", "story"),
        ("News", "news"),
        ("Spot report", "spot-report"),
        ("Daily report", "daily-report"),
        ("Statement", "statement"),
        ("Press release", "press-release"),
    ],
)
def test_type_labels_slugged(label: str, kind: str) -> None:
    record = extract(render(Item(type_label=label)), URL)
    assert record.kind == kind


def test_node_url_and_canonical() -> None:
    item = Item()
    page = render(item).replace('<link rel="canonical" href="https://www.osce.org/fsc/55436">', "")
    record = extract(page, "https://osce.org/node/55436?utm_source=x#top")
    assert record.id == "osce.org/55436"
    assert record.url == "https://osce.org/node/55436?utm_source=x"
    relative = render(item).replace("https://www.osce.org/fsc/55436", "/fsc/55436")
    record = extract(relative, "http://127.0.0.1:8000/node/55436")
    assert record.url == "http://127.0.0.1:8000/fsc/55436"


def test_language_declared_and_checked() -> None:
    item = Item(
        paragraphs=[
            "The OSCE is the largest regional security organization in the world, and it works "
            "for stability, peace and democracy for more than a billion people through the "
            "political dialogue about shared values and through practical work that aims to "
            "make a lasting difference.",
        ]
    )
    assert extract(render(item, lang="en"), URL).language == "en"
    assert extract(render(item, lang=None), URL).language == "en"  # from the text
    assert extract(render(item, lang="en-GB"), URL).language == "en"
    ru = Item(
        paragraphs=[
            "ОБСЕ и Совет Европы подчеркнули важность сотрудничества и это для "
            "мира в регионе, а также для защиты прав и свобод и на благо людей "
            "по всей Европе, что не было бы возможно без диалога и доверия к "
            "партнёрам из других стран и о том же в будущем."
        ]
    )
    assert extract(render(ru, lang="en"), URL).language == "ru"  # text outweighs the markup


def test_non_items_are_pages() -> None:
    partnerships = (
        "<html lang='en'><head><title>Partnerships | OSCE</title></head><body>"
        "<nav><ul><li>Our work</li></ul></nav><main><h1>Partnerships</h1>"
        "<p>The OSCE regularly co-operates with many other international, regional and "
        "sub-regional organizations.</p><h2>Partnerships with other international "
        "organizations</h2><p>The Organization's most important large partner organizations "
        "are the United Nations, the European Union and the Council of Europe.</p></main>"
        "</body></html>"
    )
    record = extract(partnerships, "https://www.osce.org/partnerships")
    assert record.kind == "page"
    assert record.title == "Partnerships"
    assert record.id == "osce.org/partnerships"
    assert record.published is None


@pytest.mark.parametrize("layout", ["list", "dl", "strong", "rows"])
def test_visible_date_beside_label(layout: str) -> None:
    """Older captures showed ``VIENNA 27 June 2003`` as the Date value: markup, not dateline."""
    item = Item()
    page = (
        render(item, layout=layout, date_in=("meta",))
        .replace("Date:", "Date:<span> VIENNA 27 June 2003</span>", 1)
        .replace("2003-06-27T10", "2003-06-20T10")
    )
    record = extract(page, URL)
    assert (record.published, record.date_source) == ("2003-06-27", "markup")
    assert record.date_conflict and "meta 2003-06-20" in record.date_conflict
    check(record, item, "markup")
