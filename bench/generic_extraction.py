"""The generic profile against general tools, on public benchmark sets, in one run.

    python bench/generic_extraction.py BENCHMARKS [--jobs 2] [--limit N] [--json]

BENCHMARKS is a folder holding the two public sets and their scoring scripts, used as
they are: ``score_articles.py`` with ``article-extraction/`` (Scrapinghub's
article-extraction-benchmark: 181 pages with gold bodies) and ``score_dates.py`` with
``dates/`` (htmldate's evaluation set: 1,000 pages with gold publication dates).

Each extractor is scored by the set's own script in a child process (its ``--output``
JSON is read back), so the general tools and ours are measured by the same code on the
same pages in the same run:

* body: trafilatura's favor_precision and upstream configurations (the script's
  built-ins), trafilatura with its defaults, and ours (``crawler.sites.generic:body_text``,
  the profile's body);
* dates: htmldate with ``original_date=True`` (extensive and fast, the script's
  built-ins), htmldate with its defaults, and ours (``crawler.sites.generic:published``).

Ours reads each page alone: no furniture model, since no host of these sets has the
pages a model is learned from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: (label, scoring-script arguments that name the extractor)
BODY_EXTRACTORS = [
    ("trafilatura favor_precision", ["--extractor", "trafilatura"]),
    ("trafilatura upstream", ["--extractor", "trafilatura-upstream"]),
    ("trafilatura defaults", ["--module", "trafilatura:extract"]),
    ("ours (generic profile)", ["--module", "crawler.sites.generic:body_text"]),
]
DATE_EXTRACTORS = [
    ("htmldate original_date=True", ["--extractor", "htmldate"]),
    ("htmldate original_date=True, fast", ["--extractor", "htmldate-fast"]),
    ("htmldate defaults", ["--module", "htmldate:find_date"]),
    ("ours (generic profile)", ["--module", "crawler.sites.generic:published"]),
]
OURS = "ours (generic profile)"


def check_sets(sets: Path) -> str | None:
    """What is missing from the benchmark folder, or ``None``."""
    need = ["score_articles.py", "score_dates.py", "article-extraction", "dates"]
    missing = [name for name in need if not (sets / name).exists()]
    if missing:
        return f"no benchmark sets at {sets} (missing {', '.join(missing)}); pass their folder"
    return None


def score(script: Path, data: Path, extractor: list[str], args: argparse.Namespace) -> Any:
    """Run one scoring script on one extractor; its ``--output`` JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "score.json"
        cmd = [sys.executable, str(script), *extractor, "--data", str(data)]
        cmd += ["--jobs", str(args.jobs), "--output", str(out)]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        if script.name == "score_articles.py":
            cmd += ["--n-bootstrap", str(args.bootstrap)]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SystemExit(f"{script.name} {' '.join(extractor)} failed: {tail[0]}")
        result = json.loads(out.read_text("utf-8"))
        result["seconds"] = time.perf_counter() - started
        return result


def body_row(label: str, result: Any) -> dict[str, Any]:
    m = result["metrics"]
    return {
        "extractor": label,
        "precision": m["precision"],
        "recall": m["recall"],
        "f1": m["f1"],
        "f1_std": m.get("f1_std", 0.0),
        "accuracy": m["accuracy"],
        "failed": len(result.get("failed") or {}),
        "seconds": result["seconds"],
    }


def date_row(label: str, result: Any) -> dict[str, Any]:
    m = result["metrics"]
    row = {k: m[k] for k in ("accuracy", "precision", "recall", "f1", "tp", "fp", "tn", "fn")}
    return {
        "extractor": label,
        **row,
        "failed": len(result.get("failed") or {}),
        "seconds": result["seconds"],
    }


def machine() -> str:
    versions = []
    for name in ("trafilatura", "htmldate"):
        try:
            from importlib.metadata import version

            versions.append(f"{name} {version(name)}")
        except Exception:  # noqa: BLE001 - a missing package is reported by the scoring run
            versions.append(f"{name} ?")
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f}"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs{load}; "
        f"Python {platform.python_version()}; " + ", ".join(versions)
    )


def print_tables(report: dict[str, Any]) -> None:
    pages = report["body_pages"]
    print(f"Article bodies ({pages} pages with gold bodies; 4-token shingles):\n")
    print("| extractor | precision | recall | F1 | accuracy | seconds |")
    print("|---|---|---|---|---|---|")
    for r in report["body"]:
        print(
            f"| {r['extractor']} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"{r['f1']:.3f} ± {r['f1_std']:.3f} | {r['accuracy']:.3f} | {r['seconds']:.0f} |"
        )
    pages = report["date_pages"]
    print(f"\nPublication dates ({pages} pages with gold dates):\n")
    print("| extractor | accuracy | precision | recall | F1 | TP / FP / TN / FN | seconds |")
    print("|---|---|---|---|---|---|---|")
    for r in report["dates"]:
        print(
            f"| {r['extractor']} | {r['accuracy']:.3f} | {r['precision']:.3f} | "
            f"{r['recall']:.3f} | {r['f1']:.3f} | {r['tp']} / {r['fp']} / {r['tn']} / {r['fn']} "
            f"| {r['seconds']:.0f} |"
        )
    t = report["targets"]
    print(
        f"\nbody F1: ours {t['body_ours']:.3f}, best trafilatura {t['body_best']:.3f} "
        f"({'met' if t['body_met'] else 'MISSED'}); date accuracy: ours {t['date_ours']:.3f}, "
        f"htmldate original_date=True {t['date_htmldate']:.3f} "
        f"({'met' if t['date_met'] else 'MISSED'})"
    )
    print(f"machine: {report['machine']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "benchmarks",
        type=Path,
        help="folder with score_articles.py, score_dates.py, article-extraction/ and dates/",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per scoring run")
    parser.add_argument("--limit", type=int, help="only the first N pages of each set")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="resamples for the body F1's ± (0: none)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args(argv)
    sets = args.benchmarks.resolve()
    problem = check_sets(sets)
    if problem:
        print(problem, file=sys.stderr)
        return 1

    articles, dates = sets / "score_articles.py", sets / "score_dates.py"
    body, pages = [], 0
    for label, extractor in BODY_EXTRACTORS:
        result = score(articles, sets / "article-extraction", extractor, args)
        pages = result["pages"]
        body.append(body_row(label, result))
    date_rows, date_pages = [], 0
    for label, extractor in DATE_EXTRACTORS:
        result = score(dates, sets / "dates", extractor, args)
        date_pages = result["metrics"]["pages"]
        date_rows.append(date_row(label, result))

    ours_body = next(r for r in body if r["extractor"] == OURS)
    best_body = max(r["f1"] for r in body if r["extractor"] != OURS)
    ours_date = next(r for r in date_rows if r["extractor"] == OURS)
    htmldate = date_rows[0]["accuracy"]
    report = {
        "body_pages": pages,
        "date_pages": date_pages,
        "body": body,
        "dates": date_rows,
        "targets": {
            "body_ours": ours_body["f1"],
            "body_best": best_body,
            "body_met": ours_body["f1"] >= best_body,
            "date_ours": ours_date["accuracy"],
            "date_htmldate": htmldate,
            "date_met": ours_date["accuracy"] >= htmldate,
        },
        "machine": machine(),
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_tables(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
