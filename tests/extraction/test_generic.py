"""The generic profile (sites without a profile): title, body, date with its source, furniture.

The pages are written here, for these tests: a small local paper's article with a menu,
a "Most read" box and a footer around it.  Expected values come from the page as written,
never from the extractor.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from archive.records import DateCandidate
from crawler.extraction import dates, text
from crawler.extraction.furniture import FurnitureModel, Learner
from crawler.extraction.page import norm_key
from crawler.sites.generic import GENERIC, body_text, published

ROOT = Path(__file__).resolve().parents[2]
URL = "https://gazette.example/news/river-rises"
TITLE = "River rises in Millbrook"
PARAGRAPHS = [
    "The river rose by two metres overnight, and the town council opened the school gym "
    "as a shelter for the families whose houses stood closest to the bank.",
    "Volunteers filled sandbags until dawn. The mayor said the old dyke had held, but that "
    "the new pumping station, promised for years, would now be built before winter.",
    "Farmers upstream reported flooded fields and lost hay; the regional office will assess "
    "the damage next week and publish a list of the areas that qualify for relief.",
]
#: Text around the article that is not the article.
BOILERPLATE = ["Weather", "Most read", "Council votes on the new bridge budget", "Contact us"]
PROMO = "Support local news: subscribe to the Gazette today."


def page(
    paragraphs: list[str] = PARAGRAPHS,
    meta_date: str | None = "2021-03-04T08:15:00+01:00",
    jsonld_date: str | None = None,
    visible_date: str | None = None,
    promo: bool = False,
) -> str:
    head = f"<title>{TITLE} | Riverside Gazette</title><meta name='author' content='Ada Lovelace'>"
    if meta_date:
        head += f"<meta property='article:published_time' content='{meta_date}'>"
    if jsonld_date:
        data = {"@type": "NewsArticle", "datePublished": jsonld_date}
        head += f"<script type='application/ld+json'>{json.dumps(data)}</script>"
    body = [f"<p>{p}</p>" for p in paragraphs]
    if promo:
        body.insert(2, f"<p>{PROMO}</p>")
    shown = f"<p class='date'>Published {visible_date}</p>" if visible_date else ""
    return f"""<!doctype html><html lang="en"><head>{head}</head><body>
<header><a href="/">Riverside Gazette</a><nav><ul><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav></header>
<main><article><h1>{TITLE}</h1>{shown}<p class="byline">By Ada Lovelace</p>{"".join(body)}</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Council votes on the new bridge budget</a></li>
<li><a href="/b">Bakery wins regional prize for rye bread</a></li></ul></aside></main>
<footer><p>© 2019 Riverside Gazette</p><p><a href="/privacy">Privacy</a>
<a href="/contact">Contact us</a></p></footer></body></html>"""


def other_article(n: int) -> list[str]:
    """Paragraphs of another article of the same paper (what the learner sees)."""
    return [
        f"Story {n}: the library of district {n} reopened after a long renovation, and "
        f"{n * 7} readers came on the first morning to borrow books and see the new hall.",
        f"Story {n}: the head librarian thanked the carpenters and said that a reading "
        f"corner for children, the {n}th of its kind in the county, would open in spring.",
        f"Story {n}: the council will decide in {2020 + n} whether the library may also "
        f"stay open on Sundays, as {n * 11} residents asked in a petition last year.",
    ]


def test_title_body_byline_and_date_with_its_source() -> None:
    record = GENERIC.extract(page(), URL)
    assert record.title == TITLE
    assert record.kind == "article" and record.byline == "Ada Lovelace"
    assert record.text == "\n\n".join(PARAGRAPHS)  # in order, each once, no headline
    for line in BOILERPLATE:
        assert line not in record.text
    assert (record.published, record.date_source) == ("2021-03-04", "meta")
    assert record.language == "en" and record.furniture_version is None
    assert {c.source for c in record.date_candidates} == {"meta", "heuristic"}


@pytest.mark.parametrize(
    "kwargs, url, expected",
    [
        ({"meta_date": None, "jsonld_date": "2021-03-05"}, URL, ("2021-03-05", "json-ld")),
        # The date labelled under the headline says htmldate's day: the label names it.
        ({"meta_date": None, "visible_date": "6 March 2021"}, URL, ("2021-03-06", "markup")),
        # htmldate reads the address's date; the meta tag says the same day: meta names it.
        ({}, "https://gazette.example/2021/03/04/river", ("2021-03-04", "meta")),
        # A UTC timestamp a day after the day in the address: htmldate's day leads.
        (
            {"meta_date": "2021-03-05T01:30:00+00:00"},
            "https://gazette.example/2021/03/04/river",
            ("2021-03-04", "heuristic"),
        ),
        # Only the footer's "© 2019": a copyright year is not a publication day.
        ({"meta_date": None}, URL, (None, None)),
    ],
)
def test_date_and_source(kwargs: dict[str, Any], url: str, expected: tuple[str, str]) -> None:
    record = GENERIC.extract(page(**kwargs), url)
    assert (record.published, record.date_source) == expected
    assert record.date_conflict is None  # one day apart is a time zone, not a conflict


def test_entry_points_read_as_the_profile_does() -> None:
    html = page(meta_date=None, jsonld_date="2021-03-05")
    record = GENERIC.extract(html, URL)
    assert body_text(html) == record.text
    assert published(html) == published(html.encode("utf-8"), URL) == record.published
    assert body_text("") == "" and published(b"\x00\x00") is None


def test_learned_furniture_leaves_the_body() -> None:
    learner = Learner("gazette.example")
    for n in range(1, 7):
        learner.add(f"https://gazette.example/news/{n}", page(other_article(n), promo=True))
    model = learner.model()
    assert norm_key(PROMO) in model.lines

    plain = GENERIC.extract(page(promo=True), URL)
    assert PROMO in plain.text  # trafilatura alone keeps it: it is one page's paragraph
    cleaned = GENERIC.extract(page(promo=True), URL, furniture=model)
    assert cleaned.text == "\n\n".join(PARAGRAPHS)
    assert cleaned.furniture_version == model.version and not cleaned.warnings


def test_a_model_that_would_take_most_of_the_body_is_not_applied() -> None:
    model = FurnitureModel(lines=frozenset(norm_key(p) for p in PARAGRAPHS[:2]), host="x")
    record = GENERIC.extract(page(), URL, furniture=model)
    assert record.text == "\n\n".join(PARAGRAPHS)
    assert record.furniture_version is None
    assert any("rejected for this page" in w for w in record.warnings)


def test_the_precise_reading_unless_it_cut_into_the_article(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    long = "\n".join(PARAGRAPHS)

    def readings(precise: str) -> text.MainText | None:
        doc = SimpleNamespace(text=precise, title=TITLE, author=None)
        monkeypatch.setattr(text.trafilatura, "bare_extraction", lambda *a, **k: doc)
        monkeypatch.setattr(text.trafilatura, "extract", lambda *a, **k: long)
        return text.main_text("<html></html>")

    trimmed = readings("\n".join(PARAGRAPHS[:2]))  # two thirds of the broad text
    assert trimmed is not None and trimmed.reading == "precise"
    assert trimmed.paragraphs == PARAGRAPHS[:2]
    cut = readings(PARAGRAPHS[0][:60])  # a fragment: the precise reading lost the article
    assert cut is not None and cut.reading == "broad" and cut.paragraphs == PARAGRAPHS


def test_htmldate_leads_and_the_page_names_the_source() -> None:
    meta = DateCandidate("meta", "2023-11-09")
    jsonld = DateCandidate("json-ld", "2023-11-08")
    guess = DateCandidate("heuristic", "2023-11-08")
    assert dates.choose_led([meta, jsonld, guess]) is jsonld
    assert dates.choose_led([meta, DateCandidate("heuristic", "2023-10-01")]).source == "heuristic"
    assert dates.choose_led([jsonld, meta]) is meta  # no htmldate date: precedence
    # A 1st of the month that a feed's date puts later in the month: htmldate read only
    # the address's /2018/06/; the feed has the day (a third-party source's article).
    feed = DateCandidate("listing", "2018-06-29")
    assert dates.choose_led([feed, DateCandidate("heuristic", "2018-06-01")]) is feed
    assert dates.choose_led([feed, DateCandidate("heuristic", "2018-07-01")]).source == "heuristic"
    assert dates.choose_led([]) is None


def courier(published: str, before_headline: str = "", after: str = "") -> str:
    """A news site's article as seed 004's kind of page shows one: a ``Published:`` line
    with a late-evening time under the headline, comments dated hours later (the next
    day), and a "Most read" box whose links carry another month in their addresses."""
    most_read = "".join(
        f'<li><a href="https://courier.example/news/2025/06/story-{n}">Story {n}</a></li>'
        for n in range(5)
    )
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!doctype html><html lang="en"><head><title>{TITLE}</title></head><body>
<div id="top">{before_headline}</div>
<div class="article-view"><h1 class="headline">{TITLE}</h1>
<div class="meta-line"><span class="cat">Region</span> &diams; {published} &diams;
(Courier)</div>{after}<div class="author-line">By Ada Lovelace</div>
<div class="article-text">{paragraphs}</div>
<div class="comments"><h3>2 Comments</h3>
<div class="cmt"><div class="cmt-head">Reader &ndash; July 5, 2023; 02:31</div>
<div class="cmt-body">Thank you for the report, at last someone writes about it.</div></div>
<div class="cmt"><div class="cmt-head">Neighbour &ndash; July 5, 2023; 03:31</div>
<div class="cmt-body">The dyke was repaired in spring, I saw the workers there.</div></div>
</div></div><div class="col-side"><h4>Most read</h4><ul>{most_read}</ul></div>
<div id="foot">&copy; 2025 Courier Media</div></body></html>"""


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"published": "Published: July 4, 2023; 23:31"}, ("2023-07-04", "markup")),
        ({"published": "Veröffentlicht am 04.07.2023, 23:31"}, ("2023-07-04", "markup")),
        ({"published": "Posted on 4 July 2023 at 23:31"}, ("2023-07-04", "markup")),
        # A labelled date above the headline belongs to something else (a ticker, a
        # teaser): only the stretch after the headline is read.
        (
            {"published": "July 4, 2023", "before_headline": "Published: 1 June 2025"},
            ("2023-07-04", "heuristic"),
        ),
        # An update line is not the publication day; the labelled day after it is.
        (
            {"published": "Updated: July 9, 2023", "after": "<p>Published: July 4, 2023</p>"},
            ("2023-07-04", "markup"),
        ),
    ],
)
def test_the_date_labelled_under_the_headline(
    kwargs: dict[str, str], expected: tuple[str, str]
) -> None:
    """htmldate alone reads such a page as 2025-06-01 (the links' month) or as the next
    day (a comment's date): the label under the headline is the page's own word."""
    record = GENERIC.extract(courier(**kwargs), "https://courier.example/news/river")
    assert (record.published, record.date_source) == expected


def test_a_label_does_not_outvote_machine_readable_dates_that_agree() -> None:
    meta = DateCandidate("meta", "2023-11-08")
    guess = DateCandidate("heuristic", "2023-11-08")
    label = DateCandidate("markup", "2023-11-01")
    assert dates.choose_led([label, meta, guess]) is meta
    assert dates.choose_led([label, DateCandidate("heuristic", "2025-06-01")]) is label
    assert dates.choose_led([label]) is label


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2020/10/04 15:05:21", "2020-10-04"),  # not 10 April: the year comes first
        ("2020.10.04", "2020-10-04"),
        ("20231102", "2023-11-02"),
        ("20231102T080000Z", "2023-11-02"),
        ("2020/13/04", None),
        ("120200622120908039", None),  # a long number is no date
    ],
)
def test_year_first_dates(raw: str, expected: str | None) -> None:
    found = dates.parse_date(raw)
    assert (found.isoformat() if found else None) == expected


def test_cli_prints_the_generic_record(tmp_path: Path) -> None:
    saved = tmp_path / "river.html"
    saved.write_text(page(jsonld_date="2021-03-04"), encoding="utf-8")
    cmd = [sys.executable, "-m", "crawler.cli", "extract", str(saved), "--profile", "generic"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["title"] == TITLE and record["text"].startswith(PARAGRAPHS[0])
    assert (record["published"], record["date_source"]) == ("2021-03-04", "meta")
    assert record["warnings"] == []
