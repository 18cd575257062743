"""`osce-archive export`."""

from __future__ import annotations

import argparse

from archive.errors import NotImplementedYet


def run(args: argparse.Namespace) -> int:
    raise NotImplementedYet("'export' is not implemented yet (issue #6)")
