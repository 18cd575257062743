"""Hostile input: extraction never raises, never hangs, always returns a record."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.records import Record
from crawler.sites import extract
from tests.extraction.pages import LAYOUTS, Item, render

URL = "https://www.osce.org/fsc/55436"
PAGE = render(Item(byline="Someone", promotion=True))


def _ok(record: Record) -> None:
    assert isinstance(record, Record)
    assert record.kind and isinstance(record.text, str) and record.id.startswith("osce.org/")
    assert record.is_item or record.published is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layout=st.sampled_from(LAYOUTS),
    cut=st.integers(min_value=0, max_value=len(PAGE)),
    span=st.integers(min_value=0, max_value=400),
    junk=st.text(max_size=60),
)
def test_mutated_pages(layout: str, cut: int, span: int, junk: str) -> None:
    page = render(Item(), layout=layout)
    cut = min(cut, len(page))
    _ok(extract(page[:cut] + junk + page[cut + span :], URL))
    _ok(extract(page[:cut], URL))
    _ok(extract(page[:cut].encode("utf-8") + junk.encode("utf-16"), URL))


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=2000))
def test_binary(body: bytes) -> None:
    _ok(extract(body, URL))


@settings(max_examples=20, deadline=None)
@given(st.text(alphabet="<>/=\"' adivpulith1:\n", max_size=500))
def test_tag_soup(body: str) -> None:
    _ok(extract(body, URL))


def test_extremes() -> None:
    for body in (b"", "", None, b"\x00" * 100, "<html>", "<" * 10000):
        _ok(extract(body, URL))  # type: ignore[arg-type]
    deep = "<div>" * 20000 + "Date: x" + "</div>" * 20000
    _ok(extract(deep, URL))
    huge = PAGE.replace("</main>", "<p>" + "word " * 400_000 + "</p></main>")
    _ok(extract(huge, URL))
    _ok(extract(PAGE, "::not a url::"))
    _ok(extract(PAGE.encode("utf-16"), URL))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(min_value=0, max_value=39),
    cut=st.floats(min_value=0, max_value=1),
    drop=st.integers(min_value=0, max_value=2000),
    junk=st.binary(max_size=40),
)
def test_mutated_replica_pages(which: int, cut: float, drop: int, junk: bytes) -> None:
    """Real replica pages cut, spliced with junk bytes and with a span removed."""
    body = _replica_pages()[which % len(_replica_pages())]
    at = int(len(body) * cut)
    _ok(extract(body[:at] + junk + body[at + drop :], URL))


_PAGES: list[bytes] = []


def _replica_pages() -> list[bytes]:
    if not _PAGES:
        from replica import Site

        site = Site(items=40, seed=5, epoch=0)
        _PAGES.extend(bytes(site.render(p).body) for p in site.item_paths()[:40])
    return _PAGES
