"""Generated items: deterministic, OSCE-like, varied where SITE.md says, paragraphs unique."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date

import pytest
from lxml import html as lxml_html

from replica import Site
from replica.generator import DEFAULT_TODAY, FIRST_DAY, unique_sentence
from replica.pages import variant_for
from replica.textview import visible_lines
from replica.vocab import FIELDS_OF_WORK, KIND_LABELS


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(items=2000, seed=3)


def test_same_seed_same_site_other_seed_other_site() -> None:
    a, b, c = Site(400, seed=7, epoch=2), Site(400, seed=7, epoch=2), Site(400, seed=8, epoch=2)
    assert a.ground_truth() == b.ground_truth()
    assert a.changes(2) == b.changes(2)
    for path in a.item_paths()[::37] + [
        "/press-releases?page=1",
        "/sitemap.xml?page=1",
        "/press-releases/rss",
        "/stories",
    ]:
        assert a.render(path).body == b.render(path).body
    assert a.ground_truth() != c.ground_truth()


def test_today_is_a_parameter_with_a_fixed_default() -> None:
    assert Site(50).today == DEFAULT_TODAY
    later = Site(50, today=date(2026, 1, 15), epoch=1)
    assert max(r["published"] for r in later.ground_truth().values()) <= "2026-01-16"


def test_items_look_like_the_newsroom(site: Site) -> None:
    truth = site.ground_truth()
    assert len(truth) == 2000
    kinds = Counter(r["kind"] for r in truth.values())
    assert set(kinds) == set(KIND_LABELS)
    assert kinds["press-release"] > kinds["story"] > kinds["news"]
    nodes = [int(i.split("/")[1]) for i in truth]
    assert len(set(nodes)) == len(nodes)
    days = sorted(r["published"] for r in truth.values())
    assert days[0] >= FIRST_DAY.isoformat() and days[-1] <= DEFAULT_TODAY.isoformat()
    assert days[0] < "1997-01-01" and days[-1] > "2025-01-01"
    fields = Counter(f for r in truth.values() for f in r["fields_of_work"])
    assert set(fields) <= set(FIELDS_OF_WORK) and len(fields) > 15
    places = {r["place"] for r in truth.values() if r["place"]}
    assert len(places) > 20 and all(p == p.upper() for p in places)
    assert sum(1 for r in truth.values() if r["byline"]) > 50
    assert all(not r["byline"] or r["kind"] == "story" for r in truth.values())
    sections = {r["url"].rsplit("/", 1)[0] for r in truth.values()}
    assert len(sections) > 15
    assert all(r["title"] and r["text"] for r in truth.values())


def test_date_sources_vary_and_datelines_lag(site: Site) -> None:
    items = site.items_live()
    sources = Counter(it.date_source for it in items)
    assert set(sources) == {"markup", "meta", "json-ld", "listing", "dateline"}
    assert min(sources.values()) >= 20
    lagging = [it for it in items if it.dateline and it.dateline < it.published]
    assert len(lagging) > 100
    assert all(it.dateline == it.published for it in items if it.date_source == "dateline")
    assert all(not it.listed for it in items if it.date_source == "dateline")


def _date_evidence(body: bytes) -> dict[str, set[str]]:
    doc = lxml_html.document_fromstring(body)
    found: dict[str, set[str]] = {"markup": set(), "meta": set(), "json-ld": set()}
    for t in doc.xpath("//main//article//time[@datetime]"):
        found["markup"].add(t.get("datetime")[:10])
    for m in doc.xpath("//meta[@property='article:published_time' or @name='dcterms.date']"):
        found["meta"].add(m.get("content")[:10])
    for s in doc.xpath("//script[@type='application/ld+json']"):
        data = json.loads(s.text)
        for node in data.get("@graph", [data]):
            if "datePublished" in node:
                found["json-ld"].add(node["datePublished"][:10])
    return found


def test_each_page_carries_its_date_where_its_source_says(site: Site) -> None:
    order = ["markup", "meta", "json-ld", "listing", "dateline"]
    for it in site.items_live()[::4]:
        status, _, body = site.render(it.path)
        assert status == 200
        evidence = _date_evidence(body)
        rank = order.index(it.date_source)
        for source in order[:3]:
            if order.index(source) < rank:
                assert not evidence[source], (it.path, source, "outranks", it.date_source)
            elif evidence[source]:
                assert evidence[source] == {it.published.isoformat()}
        if rank < 3:
            assert evidence[it.date_source] == {it.published.isoformat()}


def test_the_date_label_never_shows_a_value(site: Site) -> None:
    for it in site.items_live()[::25]:
        lines = visible_lines(site.render(it.path).body)
        labels = [i for i, line in enumerate(lines) if line.replace(" ", "").lower() in ("date:",)]
        assert len(labels) == 1, it.path
        following = lines[labels[0] + 1]
        assert following.split(":")[0].strip().lower() in ("place", "source", "fields of work")


def test_type_label_sits_on_its_own_line_before_the_title(site: Site) -> None:
    for it in site.items_live()[::50]:
        lines = visible_lines(site.render(it.path).body)
        title = site.content(it).title
        at = lines.index(title)
        assert lines[at - 1] == KIND_LABELS[it.kind]


def test_markup_varies_between_items(site: Site) -> None:
    variants = [variant_for(site, it) for it in site.items_live()[3:600]]
    assert {v.style for v in variants} == {"ul", "dl", "div", "p", "span"}
    assert {v.label_form for v in variants} == {"{}:", "UPPER", "{} :"}
    assert len({v.classes for v in variants}) > 500
    bodies = [site.render(it.path).text for it in site.items_live()[3:40]]
    assert any("DATE:" in b for b in bodies) or any("Date :" in b for b in bodies)


def test_stories_end_with_the_promotion_block(site: Site) -> None:
    stories = [it for it in site.items_live() if it.kind == "story"][:40]
    with_block = 0
    for it in stories:
        lines = visible_lines(site.render(it.path).body)
        if "OSCE Impact" in lines:
            with_block += 1
            at = lines.index("OSCE Impact")
            assert lines[at + 1] == "Discover more stories about how the OSCE improves lives."
            last = len(lines) - 1 - lines[::-1].index(site.content(it).paragraphs[-1])
            assert last < at
    assert with_block > 25


def test_some_bodies_repeat_like_seed_001(site: Site) -> None:
    repeated = [it for it in site.items_live() if site.content(it).repeated]
    assert len(repeated) > 40
    it = repeated[-1]
    lines = visible_lines(site.render(it.path).body)
    paras = site.content(it).paragraphs
    assert all(lines.count(p) == 2 for p in paras[1:]) and lines.count(paras[0]) == 1


def test_no_paragraph_is_in_two_items_except_republished_copies() -> None:
    site = Site(1500, seed=5)
    owners: dict[str, set[str]] = {}
    allowed: set[frozenset[str]] = set()
    for epoch in range(4):
        site.set_epoch(epoch)
        for rep in site.changes(epoch)["republished"]:
            allowed.add(frozenset((rep["id"], rep["duplicate_of"])))
        for record in site.ground_truth().values():
            for paragraph in record["text"].split("\n\n"):
                owners.setdefault(paragraph, set()).add(record["id"])
    shared = [frozenset(ids) for ids in owners.values() if len(ids) > 1]
    assert shared, "the republished copies must share their text"
    assert all(ids in allowed for ids in shared)
    assert len(owners) > 8000


def test_unique_sentence_is_injective() -> None:
    sample = random.Random(1).sample(range(40_000_000), 20_000) + list(range(5000))
    texts = {unique_sentence(n, 3, random.Random(0)) for n in sample}
    assert len(texts) == len(set(sample))


def test_site_scales_to_25000_items() -> None:
    big = Site(25_000, seed=1)
    assert len(big.item_paths()) == 25_000
    assert len(big.listing_order["newsroom"]) > 23_000
    status, _, body = big.render(big.item_paths()[-1])
    assert status == 200 and len(body) > 10_000
