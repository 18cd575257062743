"""`osce-archive verify`: recompute every stored hash; exit 1 naming what is wrong."""

from __future__ import annotations

import argparse
import sys

from archive.store import Archive


def run(args: argparse.Namespace) -> int:
    with Archive.open(args.db) as archive:
        problems = archive.verify()
    for line in problems:
        print(f"osce-archive verify: {line}", file=sys.stderr)
    if problems:
        print(f"osce-archive: verify found {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("verify: every stored body and version matches its hash")
    return 0
