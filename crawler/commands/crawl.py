"""`osce-archive crawl`."""

from __future__ import annotations

import argparse

from archive.errors import NotImplementedYet


def run(args: argparse.Namespace) -> int:
    raise NotImplementedYet("'crawl' is not implemented yet (issue #5)")
