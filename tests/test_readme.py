"""The README stays true: its published schema is the package's, its commands exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from crawler.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_published_schema_is_the_package_schema() -> None:
    section = README.split("## Record schema", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert block is not None
    published = json.loads(block.group(1))
    shipped = json.loads((ROOT / "archive" / "record.schema.json").read_text(encoding="utf-8"))
    assert published == shipped


def test_every_command_in_the_table_exists() -> None:
    parser = build_parser()
    documented = set(re.findall(r"^\| `(\w+)[ `]", README, re.M))
    choices = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert documented == choices
