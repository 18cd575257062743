"""`osce-archive reextract`."""

from __future__ import annotations

import argparse

from archive.errors import NotImplementedYet


def run(args: argparse.Namespace) -> int:
    raise NotImplementedYet("'reextract' is not implemented yet (issue #4)")
