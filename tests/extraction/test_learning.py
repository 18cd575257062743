"""The furniture learner, the body's boundaries and what extraction says when it cannot read.

Pages are written with :func:`tests.extraction.pages.render` (a hand-written item in many
markups); the expected values come from the :class:`~tests.extraction.pages.Item`, never
from the extractor.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from crawler import sites
from crawler.extraction.furniture import FurnitureModel, Learner
from crawler.extraction.listing import read_pager
from crawler.extraction.page import load
from crawler.sites import DEFAULT
from tests.extraction.pages import Item, render

ROOT = Path(__file__).resolve().parents[2]
LONG = (
    "The Permanent Council reaffirmed that the comprehensive concept of security links "
    "politico-military, economic and environmental, and human aspects, and it asked every "
    "participating State to report on the implementation of its commitments before the "
    "next Ministerial Council meeting, as agreed in the decision adopted last year in Vienna."
)


def _item(n: int, extra_paragraphs: tuple[str, ...] = ()) -> Item:
    return Item(
        node=2000 + n,
        paragraphs=[
            f"Body paragraph one of item {n}, which says something only item {n} says.",
            f"Body paragraph two of item {n}: the second thing only this item says here.",
            *extra_paragraphs,
        ],
    )


def _box(n: int) -> str:
    """A "Latest news" box inside the content column whose links differ on every page."""
    links = "".join(
        f"<li><a href='/pc/{n * 10 + k}'>Other story {n * 10 + k}</a></li>" for k in range(3)
    )
    return f"<div><h3>In the news</h3><ul>{links}</ul></div>"


def _pages(count: int, **kwargs: object) -> list[tuple[str, str, Item]]:
    out = []
    for n in range(count):
        item = _item(n, **kwargs)  # type: ignore[arg-type]
        url = f"https://www.osce.org/pc/{item.node}"
        body = render(item).replace("</p><p>", "</p>" + _box(n) + "<p>", 1)  # mid-body
        out.append((url, body, item))
    return out


def test_learner_finds_boxes_whose_links_differ_and_removes_them_whole() -> None:
    pages = _pages(12)
    learner = Learner("osce.org", default=DEFAULT.default_furniture())
    for url, body, _ in pages:
        learner.add(url, body)
    model = learner.model()
    assert "in the news" in model.boxes
    assert not any(key.startswith("other story") for key in model.lines)  # links vary
    url, body, item = pages[4]
    record = DEFAULT.extract(body, url, furniture=model)
    assert record.text == "\n\n".join(item.paragraphs)
    assert record.furniture_version == model.version and not record.warnings
    # Without the learned model the box's heading stays in the text (its links do not:
    # link lines are never body).
    assert "In the news" in DEFAULT.extract(body, url).text


def test_long_paragraphs_are_never_furniture_however_often_republished() -> None:
    pages = _pages(12, extra_paragraphs=(LONG,))
    learner = Learner("osce.org")
    for url, body, _ in pages:
        learner.add(url, body)
    model = learner.model()
    assert LONG.casefold() not in model.lines
    forced = FurnitureModel(lines=frozenset({" ".join(LONG.split()).casefold()}))
    assert not forced.is_furniture(LONG)
    url, body, item = pages[0]
    for furniture in (model, forced):
        assert LONG in DEFAULT.extract(body, url, furniture=furniture).text.split("\n\n")


def test_under_five_pages_the_default_is_used_and_the_record_says_so() -> None:
    pages = _pages(3)
    learner = Learner("osce.org", default=DEFAULT.default_furniture())
    for url, body, _ in pages:
        learner.add(url, body)
    model = learner.model()
    assert model.fallback and model.pages == 3
    assert model.version == DEFAULT.default_furniture().version
    record = DEFAULT.extract(pages[0][1], pages[0][0], furniture=model)
    assert any("bundled default" in w for w in record.warnings)


def test_a_model_removing_most_of_a_body_is_rejected_for_that_page() -> None:
    third = "A third paragraph of the body, about as long as the other two are."
    item = _item(0, extra_paragraphs=(third,))
    url, body = f"https://www.osce.org/pc/{item.node}", render(item)
    greedy = FurnitureModel(
        lines=frozenset(" ".join(p.split()).casefold() for p in item.paragraphs[1:])
    )
    record = DEFAULT.extract(body, url, furniture=greedy)
    assert record.text == "\n\n".join(item.paragraphs)
    assert any("rejected" in w and greedy.version in w for w in record.warnings)
    assert record.furniture_version is None  # the record says no learned model made it


def test_model_hysteresis_version_and_json() -> None:
    learner = Learner("osce.org", min_share=0.5, min_pages=2)
    common = "<p>Common line</p>"
    for n in range(10):
        extra = "<p>Sometimes line</p>" if n < 5 else ""
        learner.add(f"https://www.osce.org/pc/{n}", f"<html><body>{common}{extra}</body></html>")
    plain = learner.model()
    assert "common line" in plain.lines and "sometimes line" in plain.lines  # 5 of 10
    for n in range(10, 14):
        learner.add(f"https://www.osce.org/pc/{n}", f"<html><body>{common}</body></html>")
    assert "sometimes line" not in learner.model().lines  # 5 of 14: under half
    kept = learner.model(keep=plain)
    assert "sometimes line" in kept.lines  # still seen on half the needed pages
    again = FurnitureModel.from_json(json.loads(json.dumps(kept.to_json())))
    assert again.version == kept.version and again == kept
    assert FurnitureModel(lines=frozenset({"a"})).version != FurnitureModel().version


def test_a_label_whose_value_cannot_be_read_is_a_warning() -> None:
    item = Item(sources=["Permanent Council"])
    page = render(item, layout="rows").replace(">Permanent Council<", "><")
    record = DEFAULT.extract(page, "https://www.osce.org/pc/55436")
    assert record.sources == []
    assert any("Source" in w and "no readable value" in w for w in record.warnings)


def test_long_label_values_in_any_layout() -> None:
    sources = [f"OSCE Field Office number {n} in a long list" for n in range(18)]
    fields = [f"Field of work {n}" for n in range(10)]
    item = Item(sources=sources, fields_of_work=fields)
    for layout in ("list", "flat", "dl", "rows", "strong", "plain", "nested", "spans"):
        record = DEFAULT.extract(render(item, layout=layout), "https://www.osce.org/pc/55436")
        assert record.sources == sources, layout
        assert record.fields_of_work == fields, layout


def test_pager_read_from_the_page() -> None:
    url = "https://www.osce.org/newsroom?page=2"
    rel = load("<html><body><a rel='next' href='?page=3'>more</a></body></html>")
    named = load(
        "<html><body><ul><li class='pager-next'><a href='?page=3'>›</a></li></ul></body></html>"
    )
    window = load(
        "<html><body><div><a href='?page=1'>2</a> <span>3</span> <a href='?page=3'>4</a> "
        "<a href='?page=4'>5</a></div></body></html>"
    )
    last = load("<html><body><div><a href='?page=1'>2</a> <span>3</span></div></body></html>")
    none = load("<html><body><p>no pager</p></body></html>")
    expected = "https://www.osce.org/newsroom?page=3"
    assert rel is not None and read_pager(rel, url) == (expected, True)
    assert named is not None and read_pager(named, url) == (expected, True)
    assert window is not None and read_pager(window, url) == (expected, True)
    assert last is not None and read_pager(last, url) == (None, True)
    assert none is not None and read_pager(none, url) == (None, False)


def test_generic_profile_reads_any_page(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(render(Item()), encoding="utf-8")
    cmd = [sys.executable, "-m", "crawler.cli", "extract", str(page), "--profile", "generic"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["title"] == Item().title
    assert Item().paragraphs[1] in record["text"]
    assert record["kind"] == "article"
    bad = subprocess.run([*cmd[:-1], "nope"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 1 and "unknown site profile" in bad.stderr


def test_registry() -> None:
    assert sites.get("osce") is DEFAULT and set(sites.PROFILES) >= {"osce", "generic"}
    assert sites.for_url("https://osce.org/pc/1") is DEFAULT
    assert DEFAULT.canonical_url("https://www.osce.org/pc/1#top") == "https://www.osce.org/pc/1"
    assert DEFAULT.host_spellings("osce.org") == {"osce.org", "www.osce.org"}
    assert DEFAULT.document_id("https://www.osce.org/node/55436", "") == "osce.org/55436"


def test_extraction_names_no_site() -> None:
    """Hosts, labels and known lines of a site live in its profile, not in extraction."""
    pattern = re.compile(r"osce\.org|Fields of work|Publishing date|Press release", re.I)
    for path in (ROOT / "crawler" / "extraction").glob("*.py"):
        assert not pattern.search(path.read_text("utf-8")), path.name
