"""Epochs: what changes from one day to the next, and the ground truth that says so."""

from __future__ import annotations

import re

import pytest

from replica import Rates, Site
from replica.navigation import drift_epochs
from replica.textview import visible_lines

ITEMS = 800
CONTENT = ("kind", "title", "published", "place", "sources", "fields_of_work", "byline", "text")


@pytest.fixture(scope="module")
def sites() -> list[Site]:
    return [Site(ITEMS, seed=2, epoch=e) for e in range(5)]


@pytest.mark.parametrize("epoch", [1, 2, 3, 4])
def test_changes_match_the_ground_truth(sites: list[Site], epoch: int) -> None:
    before, after = sites[epoch - 1].ground_truth(), sites[epoch].ground_truth()
    ch = sites[epoch].changes(epoch)
    assert set(after) == (set(before) - set(ch["deleted"])) | set(ch["new"])
    assert not set(ch["new"]) & set(before)
    assert ch["new"] and ch["edited"] and ch["deleted"] and ch["markup_only"]
    assert len(ch["moved"]) == 1 and len(ch["republished"]) == 1
    moved = {m["id"]: m for m in ch["moved"]}
    for item_id in set(before) & set(after):
        old, new = before[item_id], after[item_id]
        differs = {k for k in CONTENT if old[k] != new[k]}
        if item_id in ch["edited"]:
            expected = {"body": "text", "title": "title", "date": "published"}
            assert differs == {expected[ch["edits"][item_id]]}, item_id
        else:
            assert not differs, item_id
        if item_id in moved:
            assert old["url"].endswith(moved[item_id]["old"])
            assert new["url"].endswith(moved[item_id]["new"]) and old["url"] != new["url"]
        else:
            assert old["url"] == new["url"]
    rep = ch["republished"][0]
    assert after[rep["id"]]["text"] == before[rep["duplicate_of"]]["text"]
    assert rep["id"] != rep["duplicate_of"]
    assert ch["nav_drift"] == (epoch in drift_epochs())


def test_new_items_lead_the_listings(sites: list[Site]) -> None:
    site = sites[3]
    new = set(site.changes(3)["new"])
    newest = site.listing_order["newsroom"][: len(new) + 3]
    assert {it.item_id for it in newest[:3]} <= new
    assert newest[0].published == site.day(3)


def test_markup_only_changes_bytes_not_content(sites: list[Site]) -> None:
    before, after = sites[2], sites[3]
    for item_id in after.changes(3)["markup_only"][:5]:
        old_it, new_it = before.find(item_id), after.find(item_id)
        assert before.record(old_it) == after.record(new_it)
        a, b = before.render(old_it.path), after.render(new_it.path)
        assert a.body != b.body and a.etag != b.etag
        strip = {"Site", "Date:", "DATE:", "Date :"}
        assert [x for x in visible_lines(a.body) if x not in strip] != [] and visible_lines(
            a.body
        ).count(before.content(old_it).paragraphs[0]) >= 1


def test_untouched_item_keeps_etag_and_last_modified(sites: list[Site]) -> None:
    # epochs 2 -> 3 have no menu drift
    ch = sites[3].changes(3)
    touched = set(ch["edited"]) | set(ch["markup_only"]) | {m["id"] for m in ch["moved"]}
    item = next(it for it in sites[2].items_live() if it.item_id not in touched and it.seed is None)
    a, b = sites[2].render(item.path), sites[3].render(item.path)
    assert a.etag == b.etag
    assert a.headers["Last-Modified"] == b.headers["Last-Modified"]


def test_sitemap_lastmod_moves_only_with_content(sites: list[Site]) -> None:
    site = sites[1]
    ch = site.changes(1)
    day = site.day(1).isoformat()
    sitemap = site.render("/sitemap.xml?page=1").text
    lastmod = dict(re.findall(r"<loc>http://[^/]+(/[^<]+)</loc><lastmod>([^<]+)<", sitemap))
    for item_id in ch["edited"]:
        assert lastmod[site.find(item_id).path].startswith(day)
    for item_id in ch["markup_only"]:
        assert not lastmod[site.find(item_id).path].startswith(day)


def test_silent_edits_keep_the_sitemap_lastmod() -> None:
    site = Site(300, seed=2, epoch=1, rates=Rates(silent_edits=True))
    sitemap = site.render("/sitemap.xml?page=1").text
    day = site.day(1).isoformat()
    for item_id in site.changes(1)["edited"]:
        path = site.find(item_id).path
        entry = re.search(re.escape(path) + r"</loc><lastmod>([^<]+)<", sitemap)
        assert entry and not entry.group(1).startswith(day)


def test_rates_are_configurable() -> None:
    busy = Site(1000, seed=2, epoch=1, rates=Rates(edit=0.05, delete=0.01))
    assert len(busy.changes(1)["edited"]) == 50
    assert len(busy.changes(1)["deleted"]) == 10


def test_navigation_drifts(sites: list[Site]) -> None:
    path = next(
        it.path
        for it in sites[0].items_live()[100:]
        if all(it.path in s.by_path and s.by_path[it.path].live for s in sites)
    )
    lines = {e: visible_lines(sites[e].render(path).body) for e in (0, 1, 2, 4)}
    assert "Czech Republic" in lines[0] and "Czechia" not in lines[0]
    assert "Czechia" in lines[1] and "Gender Equality Review Conferences" in lines[1]
    assert "Gender equality conferences" in lines[2]
    assert "Switzerland – OSCE Chairpersonship 2026" in lines[4]
    assert sites[0].render(path).etag != sites[1].render(path).etag


def test_going_back_in_time_rebuilds_the_same_site(sites: list[Site]) -> None:
    site = Site(ITEMS, seed=2, epoch=4)
    site.set_epoch(1)
    assert site.ground_truth() == sites[1].ground_truth()
    assert site.changes(1) == sites[1].changes(1)
    assert sites[0].changes(3) == sites[3].changes(3)  # asked of the past site: computed
