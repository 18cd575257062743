"""Fixtures of the reliability tests: the real crawl in a child process, and what to
compare after a bad day.

The crawl runs as ``python -m crawler.cli crawl`` (what cron runs), so SIGKILL and
SIGTERM hit a real process, the database sees real connections, and the kernel reports
the child's peak memory (``wait4``'s ``ru_maxrss``). The replica serves from a thread
of the test process so its request log is read directly; ``hostile.HostileServer``
adds the answers the replica does not give.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from replica import Faults, ReplicaServer, Site
from tests.crawl.conftest import ROOT, crawl_command
from tests.reliability.hostile import HostileServer, OtherHost

#: The extraction pool is part of what a crash must not break: one worker, as on a
#: small box (the default is one per core, and this machine has two, shared).
WORKERS = ["-s", "OSCE_EXTRACT_WORKERS=1"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OSCE_PROGRESS": "off"}


@dataclass
class Finished:
    """A crawl (or any command) that ran to its end."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float  # the child's peak resident set (kernel's ru_maxrss)

    @property
    def summary(self) -> dict[str, Any]:
        import json

        return dict(json.loads(self.stdout.strip().splitlines()[-1]))

    @property
    def last_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


def run_command(
    cmd: list[str],
    cwd: Path,
    timeout: float = 180,
    env: dict[str, str] | None = None,
    preexec_fn: Any = None,
) -> Finished:
    """Run ``cmd`` to its end; its output, exit status and peak RSS."""
    out_path, err_path = cwd / f".out-{time.monotonic_ns()}", cwd / f".err-{time.monotonic_ns()}"
    started = time.monotonic()
    with open(out_path, "w+") as out, open(err_path, "w+") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=out,
            stderr=err,
            env=env or ENV,
            preexec_fn=preexec_fn,
            start_new_session=True,
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)  # the crawl and its workers
                os.wait4(proc.pid, 0)
                err.seek(0)
                raise AssertionError(
                    f"{cmd[3:5]} did not finish within {timeout} s (hung?): {err.read()[-2000:]}"
                )
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Finished(
            proc.returncode,
            out.read(),
            err.read(),
            time.monotonic() - started,
            usage.ru_maxrss / 1024,
        )
    out_path.unlink()
    err_path.unlink()
    return result


def crawl_args(site: str, db: str, *extra: str) -> list[str]:
    return [*crawl_command(site, db), *WORKERS, *extra]


@pytest.fixture
def crawl(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``crawl(site, db, *options, timeout=...)`` -> Finished (asserting nothing)."""

    def _crawl(site: str, db: str, *extra: str, timeout: float = 180, **kw: Any) -> Finished:
        return run_command(crawl_args(site, db, *extra), tmp_path, timeout, **kw)

    return _crawl


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``cli("verify", "--db", url)`` -> Finished: any ``osce-archive`` command."""

    def _cli(*args: str, timeout: float = 120) -> Finished:
        return run_command([sys.executable, "-m", "crawler.cli", *args], tmp_path, timeout)

    return _cli


@pytest.fixture
def serve(replica_factory: Any) -> Any:
    """``serve(items=..., seed=..., faults=...)`` -> a started ReplicaServer (100 items by
    default), stopped after the test: the replica's own factory with this suite's size."""

    def _serve(items: int = 100, seed: int = 1, faults: Faults | None = None) -> ReplicaServer:
        return replica_factory(items=items, seed=seed, faults=faults)

    return _serve


@pytest.fixture
def other_host() -> Iterator[OtherHost]:
    server = OtherHost().start()
    yield server
    server.stop()


@pytest.fixture
def hostile(other_host: OtherHost) -> Iterator[Any]:
    """``hostile(items=..., **options)`` -> a started HostileServer whose off-site
    redirects point at the ``other_host`` fixture."""
    servers: list[HostileServer] = []

    def _make(
        items: int = 40, seed: int = 1, faults: Faults | None = None, **options: Any
    ) -> HostileServer:
        server = HostileServer(
            Site(items=items, seed=seed), faults, other_base=other_host.url, **options
        ).start()
        servers.append(server)
        return server

    yield _make
    for server in servers:
        server.stop()


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A seeded random source; the seed is printed so a failure can be replayed
    (``OSCE_TEST_SEED=<n>``)."""
    seed = int(os.environ.get("OSCE_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"\n{request.node.name}: random seed {seed} (replay with OSCE_TEST_SEED={seed})")
    return random.Random(seed)


# --------------------------------------------------------------------------- what to compare


def query(db: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    from archive.db import make_engine

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def dump(db: str) -> dict[str, list[tuple[Any, ...]]]:
    """The archive in documents, versions and addresses, without times or row ids:
    two archives of the same site state compare equal whatever happened on the way."""
    return {
        "documents": query(
            db,
            "select id, kind, url, deleted, duplicate_of, current_version "
            "from documents order by id",
        ),
        "versions": query(
            db,
            "select document_id, number, content_hash, text_hash, url, kind, "
            "title, published, date_source from versions "
            "order by document_id, number",
        ),
        "addresses": query(db, "select url, document_id, how from addresses order by url"),
    }


def diff_dumps(got: dict[str, list[Any]], want: dict[str, list[Any]]) -> str:
    """A short account of how two dumps differ ('' when equal)."""
    out = []
    for table in want:
        extra = sorted(set(got[table]) - set(want[table]), key=repr)
        missing = sorted(set(want[table]) - set(got[table]), key=repr)
        if extra or missing or len(got[table]) != len(want[table]):
            out.append(
                f"{table}: {len(got[table])} rows vs {len(want[table])}; "
                f"extra {extra[:3]}, missing {missing[:3]}"
            )
    return "; ".join(out)


def runs(db: str) -> list[tuple[Any, ...]]:
    """(id, outcome, started_at, finished_at, counters) of every run, oldest first."""
    import json

    rows = query(db, "select id, outcome, started_at, finished_at, counters from runs order by id")
    return [
        (
            int(r[0]),
            str(r[1]),
            _time(r[2]),
            _time(r[3]),
            json.loads(r[4]) if isinstance(r[4], str) else r[4],
        )
        for r in rows
    ]


def _time(value: Any) -> Any:
    """A time column as an aware datetime (SQLite hands its stored integer back to a
    raw query)."""
    from archive.schema import from_sqlite_time

    if isinstance(value, (int, str)):
        return from_sqlite_time(value)
    return value


def records(db: str) -> dict[str, dict[str, Any]]:
    from archive.api import open_archive

    with open_archive(db) as reader:
        return {r["id"]: r for r in reader.records()}


def wanted_truth(site: Site, base: str) -> dict[str, dict[str, Any]]:
    from tests.crawl.conftest import wanted_truth as truth

    return truth(site, base)


def assert_records_equal_truth(db: str, truth: dict[str, dict[str, Any]]) -> None:
    """Every ground-truth item archived, once, live, and equal to the truth field by field."""
    got = records(db)
    live = {k: r for k, r in got.items() if not r.get("deleted")}
    assert set(live) == set(truth), (
        f"missing {sorted(set(truth) - set(live))[:5]}, extra {sorted(set(live) - set(truth))[:5]}"
    )
    wrong = {k: [f for f in truth[k] if live[k].get(f) != truth[k][f]] for k in truth}
    wrong = {k: v for k, v in wrong.items() if v}
    assert not wrong, f"{len(wrong)} records differ from the truth: {list(wrong.items())[:3]}"
    once = query(
        db, "select document_id, count(*) from versions group by document_id having count(*) > 1"
    )
    assert not once, f"items archived more than once: {once[:5]}"


def faults_injected(server: Any) -> Counter[str]:
    """Faults the replica applied, by type (transport faults from its log; content faults
    from its per-path decisions on every page it served)."""
    count: Counter[str] = Counter()
    items = server.site.by_path
    for entry in server.log:
        if entry.fault == "error":
            count[f"error {entry.status}"] += 1
        elif entry.fault:
            count[entry.fault] += 1
        if entry.status == 200 and entry.fault != "error":
            path = entry.path.split("?", 1)[0]
            for kind in ("malformed", "wrong_charset"):
                if server.faults.decide(kind, path):
                    count[kind] += 1
            if path.rstrip("/") in items and server.faults.decide("oversized", path.rstrip("/")):
                count["oversized"] += 1
        if entry.path.startswith("/loop/"):
            count["redirect loop hop"] += 1
    return count
