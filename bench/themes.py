"""Soak over structure-randomised replica themes: how the real crawl fares on markup
nobody here wrote (issue 13 point 5).

For each theme: a full crawl of a small themed replica, then a run where nothing changed
(the same harness as ``tests/crawl/test_themes.py``), and one row of a table:

    theme  items  archived  fields  text  furniture  full/budget  no-change

``fields`` and ``text`` are records exactly right out of the items of the crawled kinds
(fields: every field but ``text``); ``furniture`` is the number of archived text lines
that are furniture the page showed (gold from the generator, never from the extractor);
``full/budget`` the full crawl's requests against ``items + listing pages + 10%``;
``no-change`` the requests of the second run (the goal is at most 10).

    python bench/themes.py                     # themes 1..200
    python bench/themes.py --count 20 --start 1000 --workers 2
    python bench/themes.py --themes 3,11,40 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replica.themes import furniture_count  # noqa: E402
from tests.crawl.test_themes import ThemeRun, crawl_theme, full_budget  # noqa: E402


def score(run: ThemeRun) -> dict[str, Any]:
    """One row of the table."""
    fields_ok = text_ok = furniture = 0
    for key, gold in run.gold.items():
        record = run.records.get(key)
        if record is None:
            continue
        if all(record.get(f) == gold[f] for f in gold if f != "text"):
            fields_ok += 1
        if record.get("text") == gold["text"]:
            text_ok += 1
        furniture += furniture_count(record.get("text") or "", run.furniture[key], gold["text"])
    return {
        "theme": run.number,
        "items": len(run.gold),
        "archived": len(run.records),
        "fields_exact": fields_ok,
        "text_exact": text_ok,
        "furniture_lines": furniture,
        "requests_full": len(run.full_requests),
        "budget_full": full_budget(run.site, run.full_requests),
        "requests_nochange": len(run.nochange_requests),
        "errors": [e.splitlines()[-1][:120] for e in run.errors],
    }


HEADER = (
    f"{'theme':>6} {'items':>5} {'archived':>8} {'fields':>7} {'text':>6} {'furniture':>9} "
    f"{'full/budget':>12} {'no-change':>9}  notes"
)


def line(row: dict[str, Any]) -> str:
    full = f"{row['requests_full']}/{row['budget_full']}"
    return (
        f"{row['theme']:>6} {row['items']:>5} {row['archived']:>8} "
        f"{row['fields_exact']:>7} {row['text_exact']:>6} "
        f"{row['furniture_lines']:>9} {full:>12} {row['requests_nochange']:>9}  "
        + "; ".join(row["errors"])
    )


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    items = sum(r["items"] for r in rows) or 1
    return {
        "themes": len(rows),
        "items": items,
        "fields_exact_pct": round(100 * sum(r["fields_exact"] for r in rows) / items, 1),
        "text_exact_pct": round(100 * sum(r["text_exact"] for r in rows) / items, 1),
        "themes_all_fields_exact": sum(r["fields_exact"] == r["items"] for r in rows),
        "themes_all_text_exact": sum(r["text_exact"] == r["items"] for r in rows),
        "furniture_lines": sum(r["furniture_lines"] for r in rows),
        "themes_without_furniture": sum(
            r["furniture_lines"] == 0 and r["archived"] > 0 for r in rows
        ),
        "themes_full_within_budget": sum(r["requests_full"] <= r["budget_full"] for r in rows),
        "themes_nochange_within_10": sum(r["requests_nochange"] <= 10 for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="themes to run (default 200)")
    parser.add_argument("--start", type=int, default=1, help="first theme number (default 1)")
    parser.add_argument("--themes", default="", help="exact theme numbers, comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="themes crawled at once")
    parser.add_argument("--json", action="store_true", help="rows and summary as JSON lines")
    args = parser.parse_args(argv)
    try:
        numbers = (
            [int(x) for x in args.themes.split(",") if x.strip()]
            if args.themes
            else list(range(args.start, args.start + args.count))
        )
    except ValueError:
        print("bench/themes.py: --themes takes integers, comma-separated", file=sys.stderr)
        return 1
    if not numbers or min(numbers) < 0 or args.workers < 1:
        print("bench/themes.py: no themes to run (or --workers < 1)", file=sys.stderr)
        return 1
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    if not args.json:
        print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-themes-") as tmp:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            futures = {}
            for n in numbers:
                work = Path(tmp) / f"theme-{n}"
                work.mkdir()
                futures[pool.submit(crawl_theme, n, work)] = n
            for future in as_completed(futures):
                row = score(future.result())
                rows.append(row)
                print(json.dumps(row) if args.json else line(row), flush=True)
    total = summary(sorted(rows, key=lambda r: r["theme"]))
    total["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(total) if args.json else "summary: " + json.dumps(total), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
