"""The README stays true: its published schema is the package's, its commands exist."""

from __future__ import annotations

import argparse
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


def _options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    """Each subcommand's option strings (with the main parser's, taken before it)."""
    top = {s for a in parser._actions for s in a.option_strings}
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        name: top | {s for a in p._actions for s in a.option_strings}
        for name, p in sub.choices.items()
    }


def _invocations(prog: str) -> list[str]:
    """Every ``PROG ...`` the README shows: in code blocks, inline code and the table."""
    found = []
    for line in README.splitlines():
        for match in re.finditer(r"(?<![\w/.=-])" + re.escape(prog) + r" ([^`|\n#>]*)", line):
            found.append(match.group(1).strip())
    return found


def _check(prog: str, parser: argparse.ArgumentParser, lines: list[str]) -> list[str]:
    commands = _options(parser)
    wrong = []
    for rest in lines:
        words = rest.split()
        name = next((w for w in words if not w.startswith("-")), None)
        if name not in commands:
            wrong.append(f"{prog} {rest}: no command {name!r}")
            continue
        for word in words:
            option = word.split("=")[0]
            if re.fullmatch(r"-{1,2}[a-z][a-z-]*", option) and option not in commands[name]:
                wrong.append(f"{prog} {rest}: {name} has no option {option}")
    return wrong


def test_every_command_and_option_in_the_readme_exists() -> None:
    lines = _invocations("osce-archive")
    # The table's rows name a command and its options without the program's name.
    lines += [m.group(1).replace("\\|", " ") for m in re.finditer(r"^\| `(\w[^`]*)`", README, re.M)]
    assert len(lines) > 20
    assert _check("osce-archive", build_parser(), lines) == []


def test_every_replica_command_in_the_readme_exists() -> None:
    from replica.__main__ import build_parser as replica_parser

    lines = _invocations("python -m replica")
    assert len(lines) >= 4
    assert _check("python -m replica", replica_parser(), lines) == []


def test_no_link_leaves_the_repository() -> None:
    assert "../" not in README
    for target in re.findall(r"\]\(([^)]+)\)", README):
        assert not target.startswith(("http", "/", "..")), target
    for path in re.findall(r"`((?:archive|crawler|replica|bench|docs|tests)/[\w./-]*)`", README):
        assert (ROOT / path).exists(), path
