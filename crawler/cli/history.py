"""`osce-archive history ID_OR_URL [--json]`: a document's versions, oldest first."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from archive.query import History
from archive.store import Archive


def run(args: argparse.Namespace) -> int:
    with Archive.open(args.db) as archive:
        found = archive.history(args.target)
    if args.json:
        json.dump(found.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(found))
    return 0


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"


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
            f"v{view.number}  {view.first_seen:%Y-%m-%d %H:%M} .. {view.last_seen:%Y-%m-%d %H:%M}"
        )
        lines.append("")
        lines.append(
            f"{head}  {view.reason}  {view.content_hash[:19]}  "
            f"extractor {view.extractor_version or '-'}"
        )
        if view.number == 1:
            lines.append(f"  title: {_short(view.record['title'])}")
            continue
        if not view.changes:
            lines.append("  (same content)")
        for name, change in view.changes.items():
            if name == "text" and "diff" in change:
                lines.append(f"  text: +{change['added']} / -{change['removed']} paragraph(s)")
                for line in change["diff"][:12]:
                    if not line.startswith("@@"):
                        lines.append(f"    {_short(line, 90)}")
            else:
                lines.append(
                    f"  {name}: {_short(change['old'], 40)} -> {_short(change['new'], 40)}"
                )
    deletions = [e for e in found.events if e["kind"] == "deleted"]
    if deletions:
        lines.append("")
        for event in deletions:
            lines.append(f"deleted at {event['at']} (after v{event['version']})")
    return "\n".join(lines) + "\n"
