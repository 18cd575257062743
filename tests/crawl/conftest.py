"""Fixtures of the crawl tests: the replica on loopback, and the crawl as a subprocess.

The crawl runs as ``python -m crawler.cli crawl`` in a child process, exactly as cron
runs it: Scrapy's reactor cannot restart inside one test process, and signals (SIGTERM,
SIGKILL) must hit a real process. The replica serves from a thread of the test process,
so the tests read its request log directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from replica import Faults, ReplicaServer, Site

ROOT = Path(__file__).resolve().parents[2]
#: Loopback needs no politeness; everything else stays as shipped.
LOOPBACK = [
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s",
    "OSCE_RETRY_BACKOFF_BASE=0.05",
    "-s",
    "OSCE_RETRY_AFTER_MAX=0.2",
]
KINDS = ("press-release", "story")


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads(self.stdout.strip().splitlines()[-1])


def crawl_command(site: str, db: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        "--site",
        site,
        "--db",
        db,
        "--json",
        *LOOPBACK,
        *extra,
    ]


def run_crawl(site: str, db: str, *extra: str, cwd: Path, timeout: float = 180) -> CrawlResult:
    proc = subprocess.run(
        crawl_command(site, db, *extra),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def crawl(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``crawl(site_url, db_url, *options)`` -> CrawlResult (asserting nothing)."""

    def _crawl(site: str, db: str, *extra: str, timeout: float = 180) -> CrawlResult:
        return run_crawl(site, db, *extra, cwd=tmp_path, timeout=timeout)

    return _crawl


@pytest.fixture
def serve(replica_factory: Any) -> Any:
    """``serve(items=..., seed=..., faults=...)`` -> a started ReplicaServer (200 items by
    default), stopped after the test: the replica's own factory with this suite's size."""

    def _serve(items: int = 200, seed: int = 1, faults: Faults | None = None) -> ReplicaServer:
        return replica_factory(items=items, seed=seed, faults=faults)

    return _serve


@contextmanager
def news_site(osce: ReplicaServer, news: Any) -> Iterator[ReplicaServer]:
    """The replica's news site ``news`` (a ``replica.news.NewsSite`` reporting on the
    started ``osce``) served on loopback for the block."""
    news.osce_base = osce.url
    server = ReplicaServer(news).start()
    try:
        yield server
    finally:
        server.stop()


def wanted_truth(site: Site, base: str) -> dict[str, dict[str, Any]]:
    """The ground truth of the kinds a default crawl archives."""
    return {k: v for k, v in site.ground_truth(base).items() if v["kind"] in KINDS}


def archived_records(db: str) -> dict[str, dict[str, Any]]:
    from archive.api import open_archive

    with open_archive(db) as reader:
        return {r["id"]: r for r in reader.records()}


def documents_and_versions(db: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What "identical archives" compares: documents and versions, without times (each
    version's title read from its pack, where it is since revision 0024)."""
    from sqlalchemy import select, text

    from archive import texts
    from archive.db import make_engine
    from archive.schema import Version

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            docs = conn.execute(
                text(
                    "select id, kind, url, deleted, duplicate_of, current_version "
                    "from documents order by id"
                )
            ).all()
            reader = texts.TextReader(conn)
            versions = [
                (*row[:6], reader.fields(row)["title"])
                for row in conn.execute(
                    select(
                        Version.document_id,
                        Version.number,
                        Version.content_hash,
                        Version.url,
                        Version.published,
                        Version.date_source,
                        *texts.columns(),
                    ).order_by(Version.document_id, Version.number)
                )
            ]
    finally:
        engine.dispose()
    return [tuple(d) for d in docs], versions
