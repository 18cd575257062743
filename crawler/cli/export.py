"""`osce-archive export`: records (JSONL, CSV, Parquet) or raw captures (WARC).

The work lives in :func:`archive.api.export`; this module maps options to it and
prints the cursor last, on stderr, as ``CONTRACT.md`` asks (also when nothing changed).
"""

from __future__ import annotations

import argparse
import sys

from archive.api import export
from crawler.cli.reading import read_records


def _current_extractor() -> str | None:
    try:
        from crawler.extraction import EXTRACTOR_VERSION
    except ImportError:  # extraction not installed in this checkout yet
        return None
    return str(EXTRACTOR_VERSION)


def run(args: argparse.Namespace) -> int:
    from archive.export import resolve_output
    from crawler.cli import check_kinds

    kinds = check_kinds(args.kinds, allow_all=False, articles=True)
    if args.output is None or args.output == "-":  # options first: nothing opened or made
        resolve_output(args.output, args.format)
    with read_records(args.db) as reader:
        result = export(
            reader,
            fmt=args.format,
            output=args.output,
            since=args.since,
            history=args.history,
            as_of=args.as_of,
            kinds=kinds,
            extractor_version=_current_extractor(),
        )
    if result.path is not None:
        what = "captures" if args.format in ("warc", "wacz") else "records"
        print(f"wrote {result.count} {what} to {result.path}", file=sys.stderr)
    if result.manifest is not None:
        print(f"wrote {result.manifest}", file=sys.stderr)
    print(f"cursor: {result.cursor}", file=sys.stderr)
    return 0
