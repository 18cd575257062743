"""`osce-archive verify`: recompute every stored hash; exit 1 naming what is wrong."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.reading import read_archive


def run(args: argparse.Namespace) -> int:
    with read_archive(args.db) as archive:
        problems = archive.verify()
    for line in problems:
        print(f"osce-archive verify: {line}", file=sys.stderr)
    if problems:
        print(f"osce-archive: verify found {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("verify: every stored body and version matches its hash")
    return 0
