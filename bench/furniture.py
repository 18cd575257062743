"""Learned furniture on the replica: text exactness, furniture left, learning cost.

    .venv/bin/python bench/furniture.py [--items 25000] [--themes 20] [--theme-items 200]
                                        [--seed 1] [--json]

For the default theme (``--items`` items) and ``--themes`` random themes (``--theme-items``
each), renders every live item page in memory (``replica.Site``, no HTTP), reads the
listings as the crawl does (entries and pager, for listing-only dates), then:

1. learns the host's furniture model from the item pages (``Learner``), timed;
2. extracts every item with the learned model and with the frozen bundled model, timed;
3. compares each record with the gold record from the generator's data: all fields
   exact, ``text`` exact, and furniture lines left in the text
   (``replica.themes.furniture_count`` against the furniture the page showed).

Prints one row per theme and the totals.  The learning cost is reported as a share of
the extraction time (issue 13: under 10%).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from archive.records import RECORD_FIELDS, ListingEntry
from crawler.extraction.furniture import FurnitureModel, Learner
from crawler.extraction.page import parse
from crawler.sites import DEFAULT
from replica import Site
from replica.themes import furniture_count

HOST = "127.0.0.1:8000"
BASE = "http://" + HOST
MAX_LISTING_PAGES = 2000


@dataclass
class Row:
    theme: int
    items: int = 0
    fields_exact: int = 0
    text_exact: int = 0
    text_exact_frozen: int = 0
    records_with_furniture: int = 0
    furniture_lines: int = 0
    learn_s: float = 0.0
    extract_learned_s: float = 0.0
    extract_frozen_s: float = 0.0
    model_version: str = ""
    warnings: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def learn_share(self) -> float:
        return self.learn_s / self.extract_learned_s if self.extract_learned_s else 0.0


def fetch(site: Site, path: str) -> tuple[int, bytes]:
    status, _headers, body = site.render(path, host=HOST)
    return status, body if isinstance(body, bytes) else body.encode()


def listing_entries(site: Site) -> dict[str, ListingEntry]:
    """Every entry of the all-kinds listing, following the pager the page shows."""
    out: dict[str, ListingEntry] = {}
    url: str | None = DEFAULT.listing_url(BASE, DEFAULT.newsroom_path or "/", 0, 50)
    seen: set[str] = set()
    while url and url not in seen and len(seen) < MAX_LISTING_PAGES:
        seen.add(url)
        status, body = fetch(site, url[len(BASE) :])
        if status != 200:
            break
        page = DEFAULT.read_listing(body, url)
        fresh = [e for e in page.entries if DEFAULT.node_id(e.url) not in out]
        if not fresh:
            break  # an empty page, or the last page again
        for entry in fresh:
            out[DEFAULT.node_id(entry.url) or ""] = entry
        url = page.next_url
    return out


def _norm(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


def measure(theme: int, items: int, seed: int) -> Row:
    site = Site(items=items, seed=seed, epoch=0, theme=theme)
    row = Row(theme=theme)
    entries = listing_entries(site)
    pages = []
    for item in site.items_live():
        status, body = fetch(site, item.path)
        if status == 200:
            pages.append((item, BASE + item.path, body))
    # The crawl parses a page once and hands the parsed page to both the learner and
    # extraction, so learning costs what ``add_page`` and ``model`` cost.
    learner = Learner(HOST, default=DEFAULT.default_furniture())
    for _, url, body in pages:
        parsed = parse(body)
        start = time.perf_counter()
        if parsed is not None:
            learner.add_page(url, parsed)
        row.learn_s += time.perf_counter() - start
    start = time.perf_counter()
    model = learner.model()
    row.learn_s += time.perf_counter() - start
    row.model_version = model.version
    frozen = DEFAULT.default_furniture()
    row.extract_learned_s, learned = _extract_all(pages, entries, model)
    row.extract_frozen_s, plain = _extract_all(pages, entries, frozen)
    for (item, _, _), record, frozen_record in zip(pages, learned, plain, strict=True):
        _score(site, item, record, frozen_record, row)
    return row


def _extract_all(
    pages: list[tuple[Any, str, bytes]], entries: dict[str, ListingEntry], model: FurnitureModel
) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    out = [
        DEFAULT.extract(body, url, entries.get(str(item.node)), model) for item, url, body in pages
    ]
    return time.perf_counter() - start, out


def _score(site: Site, item: Any, record: Any, frozen_record: Any, row: Row) -> None:
    gold = site.gold(item, BASE, HOST)
    got = record.to_json()
    row.items += 1
    row.warnings += bool(record.warnings)
    wrong = [n for n in RECORD_FIELDS if n != "text" and _norm(got[n]) != _norm(gold[n])]
    row.fields_exact += not wrong
    row.text_exact += record.text == gold["text"]
    row.text_exact_frozen += frozen_record.text == gold["text"]
    lines = furniture_count(record.text, set(gold["furniture"]), gold["text"])
    row.records_with_furniture += lines > 0
    row.furniture_lines += lines
    if (wrong or record.text != gold["text"]) and len(row.wrong) < 3:
        row.wrong.append(
            f"{gold['id']}: {wrong + (['text'] if record.text != gold['text'] else [])} "
            f"{record.warnings}"
        )


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def print_table(rows: list[Row]) -> None:
    head = (
        "theme", "items", "fields", "text", "text(frozen)", "w/ furniture", "furn. lines",
        "learn s", "extract s", "frozen s", "learn/extract",
    )  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(
            f"| {r.theme} | {r.items} | {_pct(r.fields_exact, r.items)} | "
            f"{_pct(r.text_exact, r.items)} | {_pct(r.text_exact_frozen, r.items)} | "
            f"{r.records_with_furniture} | {r.furniture_lines} | {r.learn_s:.2f} | "
            f"{r.extract_learned_s:.2f} | {r.extract_frozen_s:.2f} | {r.learn_share:.1%} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=25_000, help="items of the default theme")
    parser.add_argument("--themes", type=int, default=20, help="random themes to measure")
    parser.add_argument("--theme-items", type=int, default=200, help="items of each theme")
    parser.add_argument("--seed", type=int, default=1, help="seed of the theme draw and sites")
    parser.add_argument("--list", default="", help="theme numbers, comma-separated (override)")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args(argv)
    themes = [int(x) for x in args.list.split(",") if x.strip()]
    if not themes:
        rng = random.Random(f"bench-furniture-{args.seed}")
        themes = sorted(rng.sample(range(1, 100_000), args.themes))
    print(f"themes (seed {args.seed}): {','.join(map(str, themes))}", file=sys.stderr)
    rows = []
    if args.items:
        rows.append(measure(0, args.items, args.seed))
    for number in themes:
        rows.append(measure(number, args.theme_items, args.seed))
        print(f"theme {number}: done", file=sys.stderr)
    if args.json:
        for r in rows:
            print(json.dumps({**asdict(r), "learn_share": r.learn_share}))
    else:
        print_table(rows)
        for r in rows:
            for w in r.wrong:
                print(f"  theme {r.theme}: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
