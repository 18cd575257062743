"""Fixtures of the cluster tests: a Redis server of the test's own, and workers.

``redis_server`` starts Debian's ``redis-server`` on a free loopback port with an
append-only file fsynced on every write (``--appendfsync always``) in the test's folder,
so a test can kill and restart it as a crash would; it skips when the binary is missing,
unless ``OSCE_REQUIRE_REDIS=1`` (set by ``.ci/run``), which turns the skip into a failure.
``start_workers(n, site, db, redis_url)`` starts ``n`` × ``python -m crawler.cli crawl
--cluster`` at once, each in its own process group; ``Worker.finish()`` waits for one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.crawl.conftest import LOOPBACK, ROOT

REQUIRE_REDIS = os.environ.get("OSCE_REQUIRE_REDIS") == "1"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OSCE_PROGRESS": "off"}
#: Extraction in each crawling process (three workers on two shared cores), and each
#: process fetching few pages at a time so that a crawl is still under way when a test
#: kills something.
WORKER_OPTIONS = [
    *LOOPBACK,
    "-s",
    "OSCE_EXTRACT_WORKERS=0",
    "-s",
    "CONCURRENT_REQUESTS=4",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=4",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """A ``redis-server`` of the test's own, persisting every write to its AOF."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except Exception:  # noqa: BLE001 - still starting (or loading its AOF)
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL, as a crash: only what the AOF holds survives."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=1)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        why = "redis-server is not installed (Debian's redis-server package)"
        if REQUIRE_REDIS:
            pytest.fail(f"OSCE_REQUIRE_REDIS=1 but {why}")
        pytest.skip(why)
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder).start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class Worker:
    proc: subprocess.Popen[str]
    out: Path
    err: Path
    returncode: int | None = None

    def finish(self, timeout: float = 240) -> Worker:
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(
                f"worker did not finish in {timeout} s: {self.stderr[-2000:]}"
            ) from None
        return self

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.returncode = self.proc.wait()

    @property
    def stdout(self) -> str:
        return self.out.read_text()

    @property
    def stderr(self) -> str:
        return self.err.read_text()

    @property
    def summary(self) -> dict[str, Any]:
        return dict(json.loads(self.stdout.strip().splitlines()[-1]))


def crawl_args(site: str, db: str, *extra: str) -> list[str]:
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
        *WORKER_OPTIONS,
        *extra,
    ]


@pytest.fixture
def start_workers(tmp_path: Path) -> Iterator[Any]:
    started: list[Worker] = []

    def start(n: int, site: str, db: str, redis_url: str, *extra: str) -> list[Worker]:
        workers = []
        for _ in range(n):
            i = len(started)
            out, err = tmp_path / f"worker-{i}.out", tmp_path / f"worker-{i}.err"
            with open(out, "w") as o, open(err, "w") as e:
                proc = subprocess.Popen(
                    crawl_args(site, db, "--cluster", redis_url, *extra),
                    cwd=tmp_path,
                    stdout=o,
                    stderr=e,
                    text=True,
                    env=ENV,
                    start_new_session=True,
                )
            worker = Worker(proc, out, err)
            started.append(worker)
            workers.append(worker)
        return workers

    try:
        yield start
    finally:
        for worker in started:
            if worker.proc.poll() is None:
                os.killpg(worker.proc.pid, signal.SIGKILL)
                worker.proc.wait()


@pytest.fixture
def second_pg_url(pg_server: str) -> Iterator[str]:
    """Another new, empty PostgreSQL database (``pg_url`` gives one per test)."""
    import uuid

    from sqlalchemy.engine import make_url

    from tests.fixtures.db import _pg_connect

    name = f"osce_test_{uuid.uuid4().hex[:12]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
