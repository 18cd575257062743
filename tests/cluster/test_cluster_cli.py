"""``crawl --cluster`` refusals: one line on stderr, exit 1, nothing crawled."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import ENV, crawl_args, free_port

SITE = "http://127.0.0.1:9"  # never asked: each refusal comes first


def crawl(tmp_path: Path, db: str, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        crawl_args(SITE, db, *extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
    )


def last_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.strip().splitlines()[-1]


def test_cluster_needs_a_postgresql_archive(tmp_path: Path) -> None:
    proc = crawl(tmp_path, f"sqlite:///{tmp_path}/a.sqlite", "--cluster", "redis://127.0.0.1/0")
    assert proc.returncode == 1
    assert "needs a PostgreSQL archive" in last_line(proc)
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "a.sqlite").exists()


def test_cluster_address_must_be_redis(tmp_path: Path) -> None:
    proc = crawl(tmp_path, "postgresql://postgres@127.0.0.1/x", "--cluster", "http://127.0.0.1/")
    assert proc.returncode == 1
    assert "--cluster expects redis://HOST:PORT/DB" in last_line(proc)


@pytest.mark.postgres
def test_unreachable_redis_is_said_at_once(tmp_path: Path, pg_url: str) -> None:
    started = time.monotonic()
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = crawl(tmp_path, pg_url, "--cluster", url)
    assert proc.returncode == 1
    assert f"cannot reach Redis at {url}" in last_line(proc)
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 45


@pytest.mark.postgres
def test_a_worker_with_other_options_than_the_run_is_refused(
    tmp_path: Path, pg_url: str, redis_server: Any
) -> None:
    """A live coordinator's run crawls stories only; a worker asked for the default kinds
    would archive what the run does not want: it says so and leaves."""
    client = redis_server.client()
    options = {
        "site": SITE,
        "full": False,
        "kinds": ["story"],
        "max_items": None,
        "sources": None,
    }
    client.set("osce-archive:newsroom:coordinator", "elsewhere:1:abc", ex=60)
    client.hset(
        "osce-archive:newsroom:run",
        mapping={
            "id": 7,
            "state": "running",
            "coordinator": "elsewhere:1:abc",
            "options": json.dumps(options),
        },
    )
    proc = crawl(tmp_path, pg_url, "--cluster", redis_server.url)
    assert proc.returncode == 1
    line = last_line(proc)
    assert "run 7 crawls with" in line and "give every worker the coordinator's options" in line
    # It neither joined nor touched the run.
    assert client.hget("osce-archive:newsroom:run", "state") == b"running"
    assert client.hlen("osce-archive:newsroom:inflight") == 0
