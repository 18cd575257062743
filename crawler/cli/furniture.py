"""`osce-archive furniture show|learn|diff [HOST]`: what the crawl learned of each host's furniture.

``show`` lists the models kept in the archive (with HOST: the current model's lines and
boxes); ``learn HOST`` learns a model from the archive's newest stored pages of HOST and
shows how it differs from the current one (``--save`` keeps it: the next crawl then
corrects the documents it reads differently); ``diff HOST [A [B]]`` compares two kept
versions (default: the two newest).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from archive import furniture as kept
from archive.errors import ArchiveError
from crawler.extraction.furniture import FurnitureModel, Learner


def run(args: argparse.Namespace) -> int:
    from archive.store import Archive
    from crawler.cli.reading import read_archive

    write = args.action == "learn" and args.save
    with Archive.open(args.db) if write else read_archive(args.db) as archive:
        if args.action == "show":
            return _show(archive, args)
        if args.action == "learn":
            return _learn(archive, args)
        return _diff(archive, args)


def _show(archive: Any, args: argparse.Namespace) -> int:
    if args.host:
        stored = archive.furniture_model(args.host)
        if stored is None:
            raise ArchiveError(f"no furniture model kept for {args.host}; crawl it first")
        model = FurnitureModel.from_json(stored.model)
        info = _summary(stored)
        if args.json:
            print(json.dumps({**info, "lines": sorted(model.lines), "boxes": sorted(model.boxes)}))
            return 0
        print(_line(info))
        for key in sorted(model.boxes):
            print(f"  box   {key}")
        for key in sorted(model.lines - model.boxes):
            print(f"  line  {key}")
        return 0
    rows = [_summary(m) for m in archive.furniture_models()]
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print("no furniture model kept yet: the first crawl learns one per host")
    for info in rows if not args.json else []:
        print(_line(info))
    return 0


def _learn(archive: Any, args: argparse.Namespace) -> int:
    if not args.host:
        raise ArchiveError("furniture learn needs a HOST (see `osce-archive furniture show`)")
    if args.sample <= 0:
        raise ArchiveError("--sample must be a positive count")
    stored = archive.furniture_model(args.host)
    previous = FurnitureModel.from_json(stored.model) if stored else None
    learner = Learner(args.host)
    for url, body in archive.recent_pages(args.host, args.sample):
        learner.add(url, body)
    model = learner.model(keep=previous)
    if model.fallback:
        raise ArchiveError(
            f"{args.host}: {learner.pages} stored pages, too few to learn from (need 5)"
        )
    change = _changes(previous, model)
    saved = False
    if args.save:
        saved = archive.save_furniture_model(args.host, model.version, model.to_json(), model.pages)
    if args.json:
        print(
            json.dumps(
                {
                    "host": args.host,
                    "version": model.version,
                    "pages": model.pages,
                    "previous": previous.version if previous else None,
                    "saved": saved,
                    **change,
                }
            )
        )
        return 0
    was = previous.version if previous else "none"
    print(f"{args.host}: learned {model.version} from {model.pages} stored pages (current {was})")
    _print_changes(change)
    if args.save:
        print(
            "saved: the next crawl corrects the documents it reads differently"
            if saved
            else "already kept: nothing to save"
        )
    return 0


def _diff(archive: Any, args: argparse.Namespace) -> int:
    if not args.host:
        raise ArchiveError("furniture diff needs a HOST")
    versions = {m.version: m for m in archive.furniture_models(args.host)}
    order = list(versions)
    if args.a is None and len(order) < 2:
        raise ArchiveError(f"{args.host}: fewer than two models kept; nothing to compare")
    a = args.a or order[-2]
    b = args.b or order[-1]
    for v in (a, b):
        if v not in versions:
            raise ArchiveError(f"{args.host}: no model {v} (known: {', '.join(order)})")
    change = _changes(
        FurnitureModel.from_json(versions[a].model), FurnitureModel.from_json(versions[b].model)
    )
    if args.json:
        print(json.dumps({"host": args.host, "a": a, "b": b, **change}))
        return 0
    print(f"{args.host}: {a} -> {b}")
    _print_changes(change)
    return 0


def _changes(old: FurnitureModel | None, new: FurnitureModel) -> dict[str, list[str]]:
    old_lines = old.lines if old else frozenset()
    old_boxes = old.boxes if old else frozenset()
    return {
        "added_lines": sorted(new.lines - old_lines),
        "removed_lines": sorted(old_lines - new.lines),
        "added_boxes": sorted(new.boxes - old_boxes),
        "removed_boxes": sorted(old_boxes - new.boxes),
    }


def _print_changes(change: dict[str, list[str]]) -> None:
    if not any(change.values()):
        print("  no difference")
    for name, keys in change.items():
        sign = "+" if name.startswith("added") else "-"
        what = "box " if name.endswith("boxes") else "line"
        for key in keys:
            print(f"  {sign} {what}  {key}")


def _summary(stored: kept.StoredModel) -> dict[str, Any]:
    model = stored.model
    return {
        "host": stored.host,
        "version": stored.version,
        "pages": stored.pages,
        "learned_at": stored.learned_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run_id": stored.run_id,
        "lines": len(model.get("blocks") or []),
        "boxes": len(model.get("boxes") or []),
    }


def _line(info: dict[str, Any]) -> str:
    return (
        f"{info['host']}  {info['version']}  learned {info['learned_at']} from "
        f"{info['pages']} pages: {info['lines']} lines, {info['boxes']} boxes"
    )
