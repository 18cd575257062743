"""`osce-archive demo`."""

from __future__ import annotations

import argparse

from archive.errors import NotImplementedYet


def run(args: argparse.Namespace) -> int:
    raise NotImplementedYet("'demo' is not implemented yet (issue #5)")
