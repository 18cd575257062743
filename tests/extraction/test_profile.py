"""Site profile pieces: node ids, listing pages, date parsing, the furniture model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.extraction import dates
from crawler.extraction.furniture import FurnitureModel, learn
from crawler.sites import DEFAULT, extract
from tests.extraction.pages import Item, render

node_id, parse_listing = DEFAULT.node_id, DEFAULT.parse_listing

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url, node",
    [
        ("https://www.osce.org/fsc/55436", "55436"),
        ("https://osce.org/node/55436", "55436"),
        ("http://127.0.0.1:9/cio/102889/", "102889"),
        ("https://www.osce.org/ru/pc/46723?x=1", "46723"),
        ("https://www.osce.org/partnerships", None),
        ("https://www.osce.org/press-releases?page=3", None),
        ("not a url", None),
    ],
)
def test_node_id(url: str, node: str | None) -> None:
    assert node_id(url) == node


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2003-06-27", "2003-06-27"),
        ("2003-06-27T23:30:00-05:00", "2003-06-27"),  # the publisher's calendar day
        ("27 June 2003", "2003-06-27"),
        ("June 27, 2003", "2003-06-27"),
        ("27.06.2003", "2003-06-27"),
        ("Friday, 27 June 2003", "2003-06-27"),
        ("July 4, 2023; 23:31", None),  # not a format we trust without a full parse
        ("June 27", None),  # no year: never guessed from today
        ("", None),
        ("2003-13-45", None),
        ("1900-01-01", None),
    ],
)
def test_parse_date(text: str, expected: str | None) -> None:
    parsed = dates.parse_date(text)
    if expected is None and parsed is not None:
        assert text.startswith("July")  # dateutil may read it; fine, as long as it is right
        assert parsed.isoformat() == "2023-07-04"
        return
    assert (parsed.isoformat() if parsed else None) == expected


def test_dateline() -> None:
    c = dates.dateline_candidates("YERAVAN, 13 March 2006- The OSCE Office in Yerevan ...")
    assert [(x.source, x.value) for x in c] == [("dateline", "2006-03-13")]
    assert dates.dateline_candidates("The OSCE said on 13 March 2006 - that") == []


LISTING = """<html><body><nav><a href="/fsc/1">menu</a></nav><main>
<div class="views-row">
<h3><a href="/press-releases/520">OSCE Office helps open Aarhus Centre</a></h3>
<div>Publishing date: 13 March 2006</div><div>Content type: Press release</div>
<div>Where we are: OSCE Office in Yerevan (closed)</div>
<div>What we do: Environmental activities</div>
<p>YERAVAN, 13 March 2006- The OSCE Office in Yerevan has supported ...</p></div>
<div class="views-row"><h3><a href="/stories/521">A story</a></h3>
<dl><dt>Publishing date:</dt><dd>2 April 2006</dd><dt>Content type:</dt><dd>Story</dd></dl></div>
<ul class="pager"><li><a href="/press-releases?page=1">next</a></li></ul>
</main></body></html>"""


def test_parse_listing() -> None:
    entries = parse_listing(LISTING, "http://127.0.0.1:8000/press-releases?page=0")
    assert [(e.url, e.title, e.published, e.kind_label) for e in entries] == [
        (
            "http://127.0.0.1:8000/press-releases/520",
            "OSCE Office helps open Aarhus Centre",
            "2006-03-13",
            "Press release",
        ),
        ("http://127.0.0.1:8000/stories/521", "A story", "2006-04-02", "Story"),
    ]
    assert entries[0].where == "OSCE Office in Yerevan (closed)"
    assert entries[0].what == "Environmental activities"
    assert parse_listing(b"\x00\xff garbage", "http://x/") == []


def test_furniture_model_learns_repeated_blocks_and_is_data(tmp_path: Path) -> None:
    pages = []
    for n in range(8):
        item = Item(
            node=1000 + n,
            paragraphs=[
                f"Paragraph number {n} of a body that is unique to item {n}.",
                "Follow the OSCE on social media for more updates.",  # furniture nobody listed
            ],
        )
        pages.append((f"https://www.osce.org/pc/{1000 + n}", render(item)))
    model = learn(pages, host="osce.org")
    assert model.is_furniture("Follow the OSCE on social media for more updates.")
    # The menu sits in <nav>: probable chrome is never body, so nothing is learned there.
    assert not model.is_furniture("Czech Republic")
    assert not model.is_furniture("Paragraph number 3 of a body that is unique to item 3.")
    record = extract(pages[3][1], pages[3][0], furniture=model)
    assert record.text == "Paragraph number 3 of a body that is unique to item 3."
    assert record.furniture_version == model.version
    # Without the model that line is text: the model, not crawl order, decides.
    assert "social media" in extract(pages[3][1], pages[3][0]).text
    # Order of learning does not matter; the model round-trips through JSON.
    assert learn(reversed(pages), host="osce.org").version == model.version
    path = tmp_path / "m.json"
    model.save(path)
    again = FurnitureModel.load(path)
    assert again.version == model.version and again.lines == model.lines


def test_default_model_is_bundled() -> None:
    model = DEFAULT.default_furniture()
    data = json.loads((ROOT / "crawler/data/furniture-default.json").read_text())
    assert model.version == data["version"]
    assert model.is_furniture("Czechia") and model.is_furniture("Participating States")


def test_cli_extract(tmp_path: Path) -> None:
    page = tmp_path / "item.html"
    page.write_text(render(Item()), encoding="utf-8")
    cmd = [sys.executable, "-m", "crawler.cli", "extract", str(page)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert list(record) == [
        "id",
        "url",
        "kind",
        "title",
        "published",
        "date_source",
        "place",
        "sources",
        "fields_of_work",
        "byline",
        "language",
        "text",
        "attachments",
        "warnings",
    ]
    assert record["id"] == "osce.org/55436" and record["kind"] == "press-release"
    other = tmp_path / "p.html"
    other.write_text("<html><body><h1>Partnerships</h1><p>Hello</p></body></html>")
    out = subprocess.run(
        cmd[:-1] + [str(other), "--url", "https://www.osce.org/partnerships"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 0 and json.loads(out.stdout)["kind"] == "page"
    out = subprocess.run(
        cmd[:-1] + [str(tmp_path / "missing.html")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "missing.html" in out.stderr
