"""The frontier's decisions, one rule per test: what is visited, why, and with what."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from archive.records import ListingEntry
from archive.store import AddressState, Validators
from crawler.frontier import (
    ChainState,
    Frontier,
    Site,
    decide,
    merge_listing,
    revisit_due,
    revisit_interval,
    spread,
)
from crawler.middlewares import retry_after_seconds, site_netlocs
from crawler.spiders.newsroom import parse_feed, parse_kinds, parse_sitemap

NOW = datetime(2026, 1, 10, 6, 0, tzinfo=timezone.utc)
BASE = "https://www.osce.org"


def state(**kw: object) -> AddressState:
    values: dict[str, object] = {
        "url": "https://osce.org/fsc/55436",
        "document_id": "osce.org/55436",
        "etag": 'W/"abc"',
        "last_modified": "Mon, 05 Jan 2026 10:00:00 GMT",
        "last_fetched": NOW - timedelta(hours=1),
        "last_status": 200,
        "last_changed": NOW - timedelta(days=400),
        "deleted": False,
        "listing": ListingEntry(
            url=f"{BASE}/fsc/55436",
            title="T",
            published="2003-06-27",
            kind_label="Press release",
            lastmod="2003-06-27T10:00:00+00:00",
        ),
    }
    values.update(kw)
    values["validators"] = Validators(values.pop("etag"), values.pop("last_modified"))
    return AddressState(**values)  # type: ignore[arg-type]


def listed(**kw: object) -> ListingEntry:
    values: dict[str, object] = {
        "url": f"{BASE}/fsc/55436",
        "title": "T",
        "published": "2003-06-27",
        "kind_label": "Press release",
    }
    values.update(kw)
    return ListingEntry(**values)  # type: ignore[arg-type]


def test_unknown_address_is_new() -> None:
    assert decide(listed(), None, full=False) == "new"


def test_known_and_unchanged_is_not_visited_unless_full() -> None:
    entry = listed(lastmod="2003-06-27T10:00:00+00:00")
    assert decide(entry, state(), full=False) is None
    assert decide(entry, state(), full=True) == "full"


def test_moved_lastmod_or_changed_label_means_revisit() -> None:
    assert decide(listed(lastmod="2026-01-09T08:00:00+00:00"), state(), False) == "lastmod"
    assert decide(listed(title="T, corrected"), state(), False) == "listing-changed"


def test_without_stored_lastmod_the_capture_time_decides() -> None:
    bare = state(listing=None)
    older = ListingEntry(url=f"{BASE}/fsc/55436", lastmod="2025-01-01", source="sitemap")
    newer = ListingEntry(url=f"{BASE}/fsc/55436", lastmod="2026-01-10T05:59:00Z", source="sitemap")
    assert decide(older, bare, False) is None
    assert decide(newer, bare, False) == "lastmod"


@pytest.mark.parametrize("status", [0, 429, 500, 503])
def test_a_failed_fetch_is_retried(status: int) -> None:
    assert decide(listed(), state(last_status=status), False) == "retry"


def test_feed_entries_never_count_as_label_changes() -> None:
    rss = ListingEntry(url=f"{BASE}/fsc/55436", title="Other wording", source="rss")
    assert decide(rss, state(), False) is None


def test_merge_keeps_stored_labels_under_fresh_values() -> None:
    stored = state().listing
    fresh = ListingEntry(url=f"{BASE}/new/55436", lastmod="2026-01-01", source="sitemap")
    merged = merge_listing(stored, fresh)
    assert merged is not None
    assert merged.url == f"{BASE}/new/55436" and merged.lastmod == "2026-01-01"
    assert merged.title == "T" and merged.published == "2003-06-27"
    assert merged.source == "listing"


def test_schedule_recent_items_often_old_ones_rarely() -> None:
    recent = state(listing=listed(published="2026-01-05"))
    month = state(listing=listed(published="2025-12-01"))
    year = state(listing=listed(published="2025-06-01"))
    old = state(listing=listed(published="2003-06-27"))
    intervals = [revisit_interval(s, NOW) for s in (recent, month, year, old)]
    assert intervals == sorted(intervals)
    assert intervals[0] == timedelta(days=1) and intervals[-1] == timedelta(days=180)


def test_schedule_spreads_deterministically_and_none_right_after_a_run() -> None:
    factors = [spread(f"osce.org/{n}") for n in range(2000)]
    assert all(0.5 <= f < 1.0 for f in factors)
    assert spread("osce.org/1") == spread("osce.org/1")
    assert min(factors) < 0.55 and max(factors) > 0.95  # spread over the whole half
    recent = state(listing=listed(published="2026-01-09"), last_fetched=NOW - timedelta(minutes=5))
    assert not revisit_due(recent, NOW)
    assert revisit_due(
        state(listing=listed(published="2026-01-09"), last_fetched=NOW - timedelta(days=1)), NOW
    )
    old = state(last_fetched=NOW - timedelta(days=89))
    assert not revisit_due(old, NOW)
    assert revisit_due(state(last_fetched=NOW - timedelta(days=181)), NOW)


def frontier(full: bool = False, margin: int = 1) -> Frontier:
    return Frontier(
        Site(BASE), frozenset({"press-release", "story"}), full=full, margin=margin, now=NOW
    )


def test_paging_stops_at_once_when_the_newest_page_brings_nothing() -> None:
    f, chain = frontier(), ChainState("press-release", "/press-releases", frozenset())
    assert f.next_page(chain, 50, brought_new=False) is False


def test_paging_reads_the_margin_past_the_last_new_page() -> None:
    f, chain = frontier(margin=1), ChainState("press-release", "/press-releases", frozenset())
    assert f.next_page(chain, 50, brought_new=True) is True  # page 0 new -> page 1
    assert f.next_page(chain, 50, brought_new=True) is True  # page 1 new -> page 2
    assert f.next_page(chain, 50, brought_new=False) is True  # page 2 quiet: margin
    assert f.next_page(chain, 50, brought_new=False) is False  # two quiet pages: stop
    full, chain = frontier(full=True), ChainState("story", "/stories", frozenset())
    assert all(full.next_page(chain, 50, brought_new=False) for _ in range(10))
    assert full.next_page(chain, 0, brought_new=False) is False  # an empty page ends it


def test_each_item_is_visited_once_per_run_and_max_items_holds() -> None:
    f = Frontier(Site(BASE), None, max_items=2, now=NOW)
    entries = [listed(url=f"{BASE}/fsc/{n}") for n in (1, 2, 3)]
    entries.append(listed(url=f"{BASE}/node/1"))  # another address of node 1
    visits, brought_new = f.from_listing(entries, [None] * 4)
    assert [v.url for v in visits] == [f"{BASE}/fsc/1", f"{BASE}/fsc/2"]
    assert brought_new and not f.complete


def test_revisits_carry_the_archive_validators() -> None:
    f = frontier()
    visits, _ = f.from_listing([listed(lastmod="2026-01-09")], [state()])
    assert visits[0].validators == {
        "url": f"{BASE}/fsc/55436",
        "etag": 'W/"abc"',
        "last_modified": "Mon, 05 Jan 2026 10:00:00 GMT",
    }


def test_off_site_and_mirror_addresses() -> None:
    site = Site("http://127.0.0.1:8800")
    assert site.rebase("https://www.osce.org/fsc/1?x=1") == "http://127.0.0.1:8800/fsc/1?x=1"
    assert site.rebase("/stories/2") == "http://127.0.0.1:8800/stories/2"
    assert site.rebase("https://www.vindobona.org/article/3") is None
    assert site.rebase("http://127.0.0.1:9999/fsc/1") is None
    assert site_netlocs("https://www.osce.org") == {"osce.org", "www.osce.org"}


def test_sitemap_and_feed_parsing() -> None:
    index = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
        b'sitemap/0.9"><sitemap><loc>https://www.osce.org/sitemap.xml?page=1</loc>'
        b"<lastmod>2025-06-16T12:11:00+00:00</lastmod></sitemap></sitemapindex>"
    )
    assert parse_sitemap(index) == (
        "index",
        [("https://www.osce.org/sitemap.xml?page=1", "2025-06-16T12:11:00+00:00")],
    )
    assert parse_sitemap(b"<not xml") == ("urlset", [])
    rss = (
        b'<rss version="2.0"><channel><item><title>A  title</title><link>/fsc/9</link>'
        b"<pubDate>Fri, 27 Jun 2003 10:00:00 +0000</pubDate></item></channel></rss>"
    )
    (entry,) = parse_feed(rss, BASE)
    assert (entry.url, entry.title, entry.published, entry.source) == (
        f"{BASE}/fsc/9",
        "A title",
        "2003-06-27",
        "rss",
    )


def test_retry_after_values_and_kinds() -> None:
    assert retry_after_seconds(b"3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 10) == 10.0
    assert retry_after_seconds(b"soon") is None
    assert parse_kinds("all") is None
    assert parse_kinds(None) == frozenset({"press-release", "story"})
    assert parse_kinds("news, story") == frozenset({"news", "story"})


def _dated(
    node: int, published: str, *, source: str = "markup", lastmod: str = "L0"
) -> AddressState:
    return state(
        url=f"https://osce.org/fsc/{node}",
        document_id=f"osce.org/{node}",
        kind="press-release",
        published=published,
        date_source=source,
        listing=listed(url=f"{BASE}/fsc/{node}", published=published, lastmod=lastmod),
    )


def test_listing_dated_item_whose_lastmod_moved_has_its_listing_page_read_again() -> None:
    """A date correction of an item whose page carries no date shows only on its listing
    page: the frontier finds that page from the item's rank by date."""
    f = Frontier(Site(BASE), frozenset({"press-release"}), now=NOW, rows=50)
    # 200 archived press releases, newest first: node 1000+i published i days before.
    day0 = datetime(2020, 1, 1).date()
    states = [_dated(1000 + i, (day0 - timedelta(days=i)).isoformat()) for i in range(200)]
    target = states[75] = _dated(1075, states[75].published or "", source="listing")
    f.add_sitemap([(f"{BASE}/fsc/{1000 + i}", "L0") for i in range(200)])
    assert f.listing_targets(states) == []  # nothing moved
    f.add_sitemap([(f"{BASE}/fsc/1075", "L1")])  # its <lastmod> moved
    pages = [(c.name, c.page) for c in f.listing_targets(states)]
    assert pages == [("press-release", 1)]  # place 25 of page 1: far from both edges
    assert ("press-release", 1) in f.read_pages  # asked for: never asked for twice
    # twenty new items on top push it to place 45: near the edge, the next page too
    f.read_pages.clear()
    f.new_by_kind["press-release"] = 20
    assert [c.page for c in f.listing_targets(states)] == [1, 2]
    # a page this run already read is not read again
    f.read_pages = {("press-release", 2)}
    assert [c.page for c in f.listing_targets(states)] == [1]
    # an item dated by its own page needs no listing page
    states[75] = _dated(1075, target.published or "", source="markup")
    assert f.listing_targets(states) == []


def _page(
    first: int, day0: datetime, rows: int = 50, skip: int | None = None
) -> list[ListingEntry]:
    """Press releases ``first``.. (0 = newest, node 1000 + i) of a listing page, one a day
    back from ``day0``; ``skip``: the one not shown."""
    return [
        listed(
            url=f"{BASE}/fsc/{1000 + i}", published=(day0 - timedelta(days=i)).date().isoformat()
        )
        for i in range(first, first + rows)
        if i != skip
    ]


def _archived() -> tuple[Frontier, list[AddressState]]:
    """A frontier and 200 archived press releases, one a day back from 2020-01-01, the
    76th (node 1075, rank 75: page 1 of 50-row pages) dated by its listing alone and its
    sitemap ``<lastmod>`` moved."""
    f = Frontier(Site(BASE), frozenset({"press-release"}), now=NOW, rows=50)
    day0 = datetime(2020, 1, 1)
    states = [_dated(1000 + i, (day0 - timedelta(days=i)).date().isoformat()) for i in range(200)]
    states[75] = _dated(1075, states[75].published or "", source="listing")
    f.add_sitemap([(f"{BASE}/fsc/1075", "L1")])
    return f, states


def _seek() -> tuple[Frontier, ChainState, str]:
    """A frontier seeking one listing-dated item at rank 75 (page 1 of 50-row pages)."""
    f, states = _archived()
    [chain] = f.listing_targets(states)
    assert (chain.page, list(f.sought)) == (1, ["1075"])
    f.listing_url(chain)  # requested, as the spider does
    return f, chain, states[75].published or ""


def test_a_sought_item_not_on_its_page_is_followed_by_the_dates_the_site_shows() -> None:
    """Items added ahead of it since the archive counted move it down: the page its rank
    gave shows only newer entries, so the next page is read, and there it is found."""
    f, chain, _ = _seek()
    day0 = datetime(2020, 1, 1) + timedelta(days=60)  # 60 new entries ahead of everything
    [after] = f.steer(chain, _page(50, day0))  # its page: entries 60 days newer and more
    assert after.page == 2 and after.url is None
    f.listing_url(after)
    page2 = _page(100, day0)  # where it is now: place 135
    entries = [*page2[:35], listed(url=f"{BASE}/fsc/1075", published=page2[35].published)]
    f.from_listing(entries, [None] * len(entries))
    assert f.steer(after, entries) == [] and f.sought == {}
    # the other way: entries removed ahead of it move it up
    f, chain, _ = _seek()
    [before] = f.steer(chain, _page(50, datetime(2020, 1, 1) - timedelta(days=70)))
    assert before.page == 0


def test_a_sought_item_on_a_page_phase_2_read_without_it_is_sought_from_that_page_on() -> None:
    f, states = _archived()
    day0 = datetime(2020, 1, 1)
    [chain] = f.chains()
    for page in (0, 1):  # phase 2 read two pages, both newer than it now (60 items added)
        chain.page = page
        f.listing_url(chain)
        f.saw(chain, _page(50 * page, day0 + timedelta(days=60)))
    [target] = f.listing_targets(states)
    assert target.page == 2 and f.sought["1075"].page == 2


def test_a_sought_item_moved_by_its_correction_sends_the_search_to_both_neighbours() -> None:
    f, chain, published = _seek()
    day0 = datetime(2020, 1, 1)
    # page 1 spans its date but its correction took it off the page
    entries = _page(50, day0, skip=75)
    assert published in {e.published for e in _page(50, day0)} - {e.published for e in entries}
    f.from_listing(entries, [None] * len(entries))
    pages = sorted(p.page for p in f.steer(chain, entries))
    assert pages == [0, 2] and f.sought == {}
    # where the same page shows it, the search ends there
    f, chain, _ = _seek()
    entries = _page(50, day0)
    f.from_listing(entries, [None] * len(entries))
    assert f.steer(chain, entries) == [] and f.sought == {} and f.unfound() == []


def test_a_page_without_dates_ends_the_search_and_the_item_is_reported_unfound() -> None:
    f, chain, _ = _seek()
    undated = [listed(url=f"{BASE}/fsc/{2000 + i}", published=None) for i in range(50)]
    assert f.steer(chain, undated) == []  # no way to tell which way it went: not a page back
    assert f.unfound() == ["1075"]


def test_a_sought_item_search_ends_at_the_listing_end_and_within_its_steps() -> None:
    f, chain, _ = _seek()
    [back] = f.steer(chain, [])  # an empty page (past the end): the search steps back
    assert back.page == 0
    # a site that shows only newer entries page after page: the walk ends at MAX_STEER
    from crawler.frontier import MAX_STEER

    f, chain, _ = _seek()
    far = datetime(2020, 1, 1) + timedelta(days=10_000)  # the site shows only newer entries
    asked = [chain]
    for _ in range(MAX_STEER + 3):
        nxt = f.steer(asked[-1], _page(50 * asked[-1].page, far))
        if not nxt:
            break
        f.listing_url(nxt[0])
        asked.append(nxt[0])
    assert [c.page for c in asked] == list(range(1, 2 + MAX_STEER))
    assert f.sought == {}
