"""`osce-archive history ID_OR_URL [--json]`: a document's versions, oldest first."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from typing import Any

from archive.query import History
from crawler.cli.reading import read_archive, zulu


def run(args: argparse.Namespace) -> int:
    with read_archive(args.db) as archive:
        found = archive.history(args.target)
    if args.json:
        json.dump(zulu(found.to_json()), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(found))
    return 0


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _wrapped(label: str, value: str, indent: str = "  ") -> list[str]:
    """``label: value`` wrapped to the terminal's width, continuation lines indented:
    whole values, never cut."""
    width = max(40, shutil.get_terminal_size((100, 24)).columns)
    return textwrap.wrap(
        value,
        width=width,
        initial_indent=f"{indent}{label}",
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
    ) or [f"{indent}{label}"]


def render(found: History) -> str:
    """The history as people read it: one block per version, what changed in it."""
    lines = [f"{found.document_id}  {found.url}"]
    state = "deleted" if found.deleted else "live"
    if found.duplicate_of:
        state += f", duplicate of {found.duplicate_of}"
    lines.append(
        f"  {state}; {len(found.versions)} version(s); seen at {len(found.addresses)} address(es)"
    )
    for view in found.versions:
        head = (
            f"v{view.number}  {view.first_seen:%Y-%m-%d %H:%MZ} .. {view.last_seen:%Y-%m-%d %H:%MZ}"
        )
        lines.append("")
        lines.append(
            f"{head}  {view.reason}  {view.content_hash[:19]}  "
            f"extractor {view.extractor_version or '-'}"
        )
        if view.number == 1:
            lines.extend(_wrapped("title: ", _text(view.record["title"])))
            continue
        if not view.changes:
            lines.append("  (same content)")
        for name, change in view.changes.items():
            if name == "text" and "diff" in change:
                lines.append(f"  text: +{change['added']} / -{change['removed']} paragraph(s)")
                for line in change["diff"][:12]:
                    if not line.startswith("@@"):
                        lines.extend(_wrapped("", line, indent="    "))
            else:
                change_text = f"{_text(change['old'])} -> {_text(change['new'])}"
                lines.extend(_wrapped(f"{name}: ", change_text))
    deletions = [e for e in found.events if e["kind"] == "deleted"]
    if deletions:
        lines.append("")
        for event in deletions:
            lines.append(f"deleted at {zulu(event['at'])} (after v{event['version']})")
    return "\n".join(lines) + "\n"
