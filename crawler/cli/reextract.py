"""`osce-archive reextract [--json]`: the current extraction over stored raw pages."""

from __future__ import annotations

import argparse
import json
import sys

from archive.store import Archive


def run(args: argparse.Namespace) -> int:
    from crawler.extract import EXTRACTOR_VERSION, extract  # only this command needs it

    with Archive.open(args.db) as archive:
        counters = archive.reextract(extract, EXTRACTOR_VERSION)
    if args.json:
        sys.stdout.write(json.dumps({"extractor_version": EXTRACTOR_VERSION, **counters}) + "\n")
    else:
        summary = ", ".join(f"{k} {v}" for k, v in counters.items())
        print(f"reextract (extractor {EXTRACTOR_VERSION}): {summary}")
    return 0
