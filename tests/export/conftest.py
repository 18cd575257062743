"""A small archive that went through create, edit, delete and return, on either database.

``scenario`` ingests four rounds of fetches through ``Archive.ingest`` and, after each
round, keeps what a downstream reader would have taken then: the full export, and
the change feed since the previous round's cursor. Tests compare these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

from archive.api import ArchiveReader, open_archive
from archive.records import Attachment
from archive.store import Archive
from tests.export.builders import (
    BASE,
    at,
    feed,
    gone,
    make_record,
    not_modified,
    ok,
    paragraphs,
    url_of,
)

#: Documents the scenario's items link to.
ATTACHMENTS = (
    Attachment("Final report", f"{BASE}/files/f/documents/1/1.pdf"),
    Attachment('Annex 2: "Arms control", commas; semicolons', f"{BASE}/files/annex%202.docx"),
    Attachment("Доклад – déclaration", f"{BASE}/files/f/documents/5/5.pdf"),
)


@dataclass
class Round:
    """What a reader saw after one round of ingests."""

    when: float  # days after T0 at which the round's fetches happened
    full: list[dict[str, Any]]
    cursor: str
    changes: list[dict[str, Any]]  # the feed since the previous round's cursor
    changes_cursor: str


@dataclass
class Scenario:
    url: str
    rounds: list[Round] = field(default_factory=list)


def _take(reader: ArchiveReader, when: float, since: str) -> Round:
    with reader.changes(since=since) as changes:
        changed = list(changes)
    full = list(reader.records())
    return Round(when, full, reader.cursor, changed, changes.cursor)


def build_scenario(url: str) -> Scenario:
    """Rounds 0-3 (see the module docstring); node 5 is a story, the rest releases.
    Node 1 links two documents (one with commas and quotes in its title), the story one;
    node 2's edit adds one."""
    docs = {n: make_record(n, f"Release {n}", paragraphs(n)) for n in (1, 2, 3, 4, 6)}
    docs[1].attachments = [ATTACHMENTS[0], ATTACHMENTS[1]]
    docs[5] = make_record(
        5,
        'Déclaration – ОБСЕ "quotes", commas',
        paragraphs(5),
        kind="story",
        section="stories",
        place=None,
        byline="Marc Perrin de Brichambaut, OSCE Secretary General",
        sources=[],
        attachments=[ATTACHMENTS[2]],
    )
    edited = make_record(
        2, "Release 2 (corrected)", paragraphs(2, variant=1), attachments=[ATTACHMENTS[0]]
    )
    scenario = Scenario(url)
    archive = Archive.open(url)
    reader = open_archive(url)
    try:
        node3 = ok(docs[3], at(0.03))
        node3.capture.url = f"{url_of(3).rsplit('/', 2)[0]}/node/3"
        node3.capture.final_url = url_of(3)
        node3.capture.redirects = [node3.capture.url]
        feed(archive, *(ok(docs[n], at(0.01 * n)) for n in (1, 2, 4, 5)), node3)
        scenario.rounds.append(_take(reader, 0, "0"))

        feed(
            archive,
            ok(edited, at(1.01)),
            ok(docs[3], at(1.02), salt="rotating-token-1"),
            gone(url_of(4), at(1.03)),
            ok(docs[6], at(1.04)),
        )
        scenario.rounds.append(_take(reader, 1, scenario.rounds[-1].cursor))

        feed(
            archive,
            ok(docs[4], at(2.01)),
            gone(docs[5].url, at(2.02), status=410),
            not_modified(url_of(1), at(2.03)),
        )
        scenario.rounds.append(_take(reader, 2, scenario.rounds[-1].cursor))

        feed(archive, ok(docs[3], at(3.01), salt="rotating-token-2"))
        scenario.rounds.append(_take(reader, 3, scenario.rounds[-1].cursor))
    finally:
        reader.close()
        archive.close()
    return scenario


@pytest.fixture
def scenario(db_url: str) -> Scenario:
    return build_scenario(db_url)


@pytest.fixture
def reader(scenario: Scenario) -> Iterator[ArchiveReader]:
    with open_archive(scenario.url) as opened:
        yield opened


# --------------------------------------------------------------------------- the replica


@dataclass
class ReplicaRun:
    """What a reader took right after one visit of the replica."""

    epoch: int
    after: datetime  # a time after every fetch of this run and before the next run
    full: list[dict[str, Any]]
    cursor: str
    changes: list[dict[str, Any]]  # the feed since the previous run's cursor


@dataclass
class ReplicaArchive:
    """An archive of three epochs of the replica, fetched over HTTP on loopback as the
    crawler fetches (conditional requests, redirects followed hop by hop, every answer's
    status line and headers kept) and extracted by the real extraction: new items,
    edits, deletions (410), moves (the old address answers 301), republished duplicates,
    and every known address revisited each epoch (304s for what did not change)."""

    url: str
    site: Any
    moved_old: list[str] = field(default_factory=list)
    runs: list[ReplicaRun] = field(default_factory=list)


def _fetch(base: str, path: str, validators: dict[str, str]) -> Any:
    import http.client
    from urllib.parse import urljoin, urlsplit

    from archive.records import Capture

    url, hops, answers = base + path, [], []
    for _ in range(5):
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"User-Agent": "osce-archive-tests"}
        if not hops:
            headers.update(validators)
        conn.request("GET", parts.path or "/", headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        conn.close()
        answers.append(
            {
                "url": url,
                "status": answer.status,
                "reason": answer.reason,
                "protocol": "HTTP/1.1",
                "headers": [[k, v] for k, v in answer.getheaders()],
            }
        )
        if 300 <= answer.status < 400 and answer.getheader("Location"):
            hops.append(url)
            url = urljoin(url, answer.getheader("Location"))
            continue
        break
    return Capture(
        url=hops[0] if hops else url,
        status=answer.status,
        fetched_at=datetime.now(timezone.utc),
        final_url=url if hops else None,
        redirects=hops[1:],
        etag=answer.getheader("ETag"),
        last_modified=answer.getheader("Last-Modified"),
        content_type=answer.getheader("Content-Type"),
        body=body if answer.status == 200 else None,
        answers=answers,
    )


@pytest.fixture(scope="session")
def replica_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaArchive]:
    from crawler.sites import extract
    from replica import ReplicaServer, Site

    folder = tmp_path_factory.mktemp("replica-archive")
    url = f"sqlite:///{folder / 'archive.sqlite'}"
    server = ReplicaServer(Site(items=40, seed=1)).start()
    made = ReplicaArchive(url, server.site)
    archive = Archive.open(url)
    validators: dict[str, dict[str, str]] = {}
    known: set[str] = set()
    cursor = "0"
    try:
        for epoch in range(3):
            # Each epoch in its own second: a WARC date has whole seconds, and an address
            # fetched twice within one second replays ambiguously (pywb takes either).
            time.sleep(1.02 - time.time() % 1 if epoch else 0)
            server.site.set_epoch(epoch)
            if epoch:
                made.moved_old += [m["old"] for m in server.site.changes(epoch)["moved"]]
            known |= set(server.site.item_paths())
            for path in sorted(known):
                capture = _fetch(server.url, path, validators.get(path, {}))
                record = None
                if capture.status == 200:
                    record = extract(capture.body, capture.answered_url)
                    if not record.is_item:
                        record = None
                    sent = {"If-None-Match": capture.etag} if capture.etag else {}
                    validators[path] = sent
                archive.ingest(capture, record)
            time.sleep(0.02)
            after = datetime.now(timezone.utc)
            time.sleep(0.02)
            with open_archive(url) as reader:
                with reader.changes(since=cursor) as changes:
                    changed = list(changes)
                made.runs.append(
                    ReplicaRun(epoch, after, list(reader.records()), changes.cursor, changed)
                )
            cursor = changes.cursor
        yield made
    finally:
        archive.close()
        server.stop()
