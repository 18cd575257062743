"""`osce-archive status [--json]`: documents, versions, last runs and their outcome."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from archive.db import display_url
from archive.store import Archive


def collect(archive: Archive) -> dict[str, Any]:
    """What ``status`` shows: the database (password hidden), then the archive's summary."""
    return {"database": display_url(archive.engine.url), **archive.summary()}


def render(info: dict[str, Any]) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in info["kinds"].items()) or "none"
    raw, stored = info["body_bytes"]["raw"], info["body_bytes"]["stored"]
    lines = [
        f"archive   {info['database']}",
        f"documents {info['documents']} ({kinds}); {info['deleted']} deleted, "
        f"{info['duplicates']} duplicates",
        f"versions  {info['versions']}; captures {info['captures']}; "
        f"change log at {info['change_log_head']}",
        f"bodies    {info['bodies']} distinct, {raw:,} bytes raw, {stored:,} stored",
    ]
    if info["lock"]:
        lock = info["lock"]
        lines.append(
            f"lock      held by run {lock['run_id']} (pid {lock['pid']} on {lock['host']})"
        )
    lines.append("last runs" if info["runs"] else "no runs yet")
    for r in info["runs"]:
        counters = " ".join(f"{k}={v}" for k, v in sorted(r["counters"].items()))
        lines.append(f"  #{r['id']} {r['started_at'][:19]} {r['outcome']:<11} {counters}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    with Archive.open(args.db) as archive:
        info = collect(archive)
    if args.json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render(info))
    return 0
