"""The archive against the replica: real pages, real extraction, two epochs of the site.

Between epochs the replica edits some items, changes only the markup of others,
drifts the navigation, moves, deletes and republishes items (``Site.changes``). The
archive must turn exactly the edits into new versions, the deletions into tombstones,
the republication into ``duplicate_of``, and a move into one document with two
addresses. Pages are fetched by calling the replica's router directly (the same
answers its HTTP server gives), following redirects as a crawler would.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

from archive.records import Capture
from archive.store import Archive, IngestResult
from crawler.sites import extract
from replica import Site

BASE = "http://127.0.0.1:8000"
T0 = datetime(2025, 7, 1, 6, 0, tzinfo=timezone.utc)


def fetch(site: Site, path: str, when: datetime) -> Capture:
    url, hops = BASE + path, []
    for _ in range(5):
        status, headers, body = site.render(url[len(BASE) :], host="127.0.0.1:8000")
        if status in (301, 302, 307, 308) and headers.get("Location"):
            hops.append(url)
            url = urljoin(url, headers["Location"])
            continue
        break
    return Capture(
        url=BASE + path,
        status=status,
        fetched_at=when,
        final_url=url if hops else None,
        redirects=hops,
        etag=headers.get("ETag"),
        last_modified=headers.get("Last-Modified"),
        body=body,
    )


def visit(
    archive: Archive, site: Site, paths: list[str], when: datetime
) -> dict[str, IngestResult]:
    results = {}
    for path in paths:
        capture = fetch(site, path, when)
        record = extract(capture.body, capture.answered_url) if capture.status == 200 else None
        results[path] = archive.ingest(capture, record)
    return results


def test_two_epochs_of_the_replica(archive: Archive) -> None:
    site = Site(items=120, seed=1, epoch=0)
    first_paths = site.item_paths()
    first = visit(archive, site, first_paths, T0)
    assert Counter(r.outcome for r in first.values()) == {"new_document": len(first_paths)}
    assert {r.document_id for r in first.values()} == set(site.ground_truth())

    site.set_epoch(1)
    changes = site.changes(1)
    for kind in ("new", "edited", "deleted", "moved", "republished", "markup_only"):
        assert changes[kind], f"the replica's epoch 1 has no {kind} item: the test would be empty"
    moved_from = [m["old"] for m in changes["moved"]]
    paths = sorted(set(site.item_paths()) | set(first_paths) | set(moved_from))
    second = visit(archive, site, paths, T0 + timedelta(days=1))
    by_outcome: dict[str, set[str | None]] = {}
    for result in second.values():
        by_outcome.setdefault(result.outcome, set()).add(result.document_id)

    assert by_outcome.get("new_version", set()) == set(changes["edited"])
    assert by_outcome.get("new_document", set()) == set(changes["new"])
    assert by_outcome.get("deleted", set()) == set(changes["deleted"])
    for item in changes["markup_only"]:
        assert item in by_outcome["unchanged"]  # raw bytes changed, content did not
    duplicates = {r.document_id: r.duplicate_of for r in second.values() if r.duplicate_of}
    assert duplicates == {r["id"]: r["duplicate_of"] for r in changes["republished"]}
    for move in changes["moved"]:
        history = archive.history(move["id"])
        assert len(history.versions) == 1  # a move is not an edit
        assert {BASE + move["old"], BASE + move["new"]} <= set(history.addresses)
    with archive.session() as s:
        from sqlalchemy import func, select

        from archive.schema import Document

        live = s.scalar(select(func.count()).where(Document.deleted.is_(False)))
    assert live == len(site.ground_truth())
    assert archive.verify() == []
