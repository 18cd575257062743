"""`osce-archive verify`."""

from __future__ import annotations

import argparse

from archive.errors import NotImplementedYet


def run(args: argparse.Namespace) -> int:
    raise NotImplementedYet("'verify' is not implemented yet (issue #4)")
