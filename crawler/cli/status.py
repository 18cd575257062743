"""`osce-archive status [--json]`: documents, versions, last runs and their outcome."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy import func, select

from archive.db import display_url
from archive.schema import Body, Capture, Change, Document, Lock, Run, Version
from archive.store import Archive

LAST_RUNS = 5


def collect(archive: Archive) -> dict[str, Any]:
    with archive.session() as s:
        kinds = dict(
            s.execute(
                select(Document.kind, func.count()).group_by(Document.kind).order_by(Document.kind)
            ).all()
        )
        stored, raw = s.execute(
            select(
                func.coalesce(func.sum(func.length(Body.data)), 0),
                func.coalesce(func.sum(Body.size), 0),
            )
        ).one()
        runs = s.scalars(select(Run).order_by(Run.id.desc()).limit(LAST_RUNS)).all()
        lock = s.get(Lock, "crawl")
        return {
            "database": display_url(archive.engine.url),
            "documents": sum(kinds.values()),
            "kinds": kinds,
            "deleted": s.scalar(select(func.count()).where(Document.deleted.is_(True))),
            "duplicates": s.scalar(select(func.count()).where(Document.duplicate_of.is_not(None))),
            "versions": s.scalar(select(func.count()).select_from(Version)),
            "captures": s.scalar(select(func.count()).select_from(Capture)),
            "bodies": s.scalar(select(func.count()).select_from(Body)),
            "body_bytes": {"raw": int(raw), "stored": int(stored)},
            "change_log_head": s.scalar(select(func.coalesce(func.max(Change.seq), 0))),
            "lock": None
            if lock is None
            else {
                "run_id": lock.run_id,
                "host": lock.host,
                "pid": lock.pid,
                "heartbeat_at": lock.heartbeat_at.isoformat(),
            },
            "runs": [
                {
                    "id": r.id,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "outcome": r.outcome,
                    "counters": r.counters,
                    "options": r.options,
                }
                for r in runs
            ],
        }


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
