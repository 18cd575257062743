"""`osce-archive reextract [--workers N] [--json]`: the current extraction over stored raw
pages, in worker processes (one per core unless ``--workers``; 1 or 0: in this process)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from archive.store import Archive


def run(args: argparse.Namespace) -> int:
    from crawler.extraction import EXTRACTOR_VERSION
    from crawler.sites import extract  # only this command needs it

    with Archive.open(args.db) as archive:
        # The CLI reads with the bundled furniture model (extract's default), in the
        # workers as in this process: no model has to travel to them.
        workers = (os.cpu_count() or 1) if args.workers is None else args.workers
        counters = archive.reextract(extract, EXTRACTOR_VERSION, workers=workers)
    if args.json:
        sys.stdout.write(json.dumps({"extractor_version": EXTRACTOR_VERSION, **counters}) + "\n")
    else:
        summary = ", ".join(f"{k} {v}" for k, v in counters.items())
        print(f"reextract (extractor {EXTRACTOR_VERSION}): {summary}")
    return 0
