"""A small archive that went through create, edit, delete and return, on either database.

``scenario`` ingests four rounds of fetches through ``Archive.ingest`` and, after each
round, keeps what a downstream reader would have taken then: the full export, and
the change feed since the previous round's cursor. Tests compare these.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from archive.api import ArchiveReader, open_archive
from archive.store import Archive
from tests.export.builders import at, feed, gone, make_record, not_modified, ok, paragraphs, url_of


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
    """Rounds 0-3 (see the module docstring); node 5 is a story, the rest releases."""
    docs = {n: make_record(n, f"Release {n}", paragraphs(n)) for n in (1, 2, 3, 4, 6)}
    docs[5] = make_record(
        5,
        'Déclaration – ОБСЕ "quotes", commas',
        paragraphs(5),
        kind="story",
        section="stories",
        place=None,
        byline="Marc Perrin de Brichambaut, OSCE Secretary General",
        sources=[],
    )
    edited = make_record(2, "Release 2 (corrected)", paragraphs(2, variant=1))
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
