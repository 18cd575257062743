"""Extraction on markup nobody here wrote: the replica's structure-randomised themes.

Per theme (20 drawn from the ISO week, printed; ``REPLICA_THEMES=3,17`` reruns some): a
small themed site rendered in memory, its listings read through their own pager, a
furniture model learned from its item pages, every item extracted with it and compared
with the gold record from the generator's data: every field exact, text exact, and no
furniture line the page showed left in any text.
"""

from __future__ import annotations

import os
import random
from datetime import date
from typing import Any

import pytest

from archive.records import RECORD_FIELDS
from bench.furniture import BASE, HOST, fetch, listing_entries
from crawler.extraction.furniture import Learner
from crawler.sites import DEFAULT
from replica import Site
from replica.themes import furniture_count

ITEMS = 30
COUNT = 20


def theme_numbers() -> list[int]:
    chosen = os.environ.get("REPLICA_THEMES", "").strip()
    if chosen:
        return [int(x) for x in chosen.split(",") if x.strip()]
    year, week, _ = date.today().isocalendar()
    rng = random.Random(f"extraction-themes-{year}-W{week:02d}")
    return sorted(rng.sample(range(1, 100_000), COUNT))


THEMES = theme_numbers()
print(f"extraction themes: {','.join(map(str, THEMES))}")


def _norm(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


def check_theme(number: int) -> list[str]:
    site = Site(items=ITEMS, seed=number % 7 + 1, epoch=0, theme=number)
    entries = listing_entries(site)
    pages = [(item, BASE + item.path, fetch(site, item.path)[1]) for item in site.items_live()]
    learner = Learner(HOST, default=DEFAULT.default_furniture())
    for _, url, body in pages:
        learner.add(url, body)
    model = learner.model()
    problems: list[str] = []
    for item, url, body in pages:
        record = DEFAULT.extract(body, url, entries.get(str(item.node)), model)
        gold: dict[str, Any] = site.gold(item, BASE, HOST)
        got = record.to_json()
        wrong = [n for n in RECORD_FIELDS if _norm(got[n]) != _norm(gold[n])]
        lines = furniture_count(record.text, set(gold["furniture"]), gold["text"])
        if wrong or lines:
            problems.append(f"{gold['id']}: wrong {wrong}, furniture lines {lines}")
    return problems


def test_themes_link_documents_in_many_forms() -> None:
    """The records compared above include attachments, linked in each theme's own form:
    at extension-less download addresses too, marked only by ``type=`` or a label."""
    linked = 0
    forms = set()
    for number in THEMES:
        site = Site(items=ITEMS, seed=number % 7 + 1, epoch=0, theme=number)
        linked += sum(1 for item in site.items_live() if site.record(item)["attachments"])
        assert site.theme is not None
        forms.add((site.theme.docs.container, site.theme.docs.address))
    assert linked >= len(THEMES)
    assert len(forms) >= min(3, len(THEMES))
    downloads = Site(items=ITEMS, seed=1, theme=15)  # a theme with download addresses
    assert downloads.theme is not None and downloads.theme.docs.address == "download"
    gold = [a for item in downloads.items_live() for a in downloads.record(item)["attachments"]]
    assert gold and all("/file/download?name=" in a["url"] for a in gold)


@pytest.mark.parametrize("number", THEMES)
def test_theme_records_exact_and_clean(number: int) -> None:
    problems = check_theme(number)
    assert not problems, f"theme {number}: " + "; ".join(problems[:5])
