"""Guarantee 4, two runs at once: the second exits 75 at once, and never interleaves.

A cron-style loop starts the real crawl every ``INTERVAL`` seconds on the same archive
(SQLite and PostgreSQL), each start sooner than the one before can finish. Each start
names itself in its User-Agent, so the replica's log says which start asked for what.
What must hold: every start exits 0 or 75; a 75 comes before the run holding the lock
ends (it did not wait), with nothing on stdout and no request made; the runs table's
[started, finished] intervals never overlap; and the archive ends complete and whole.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from tests.reliability.conftest import (
    ENV,
    assert_records_equal_truth,
    crawl_args,
    runs,
    wanted_truth,
)
from tests.reliability.test_database import assert_consistent

STARTS = 5
#: Enough starts for the loop to show both sides on a loaded machine too, where one crawl
#: of 30 items can outlast ten starts (it then broke off with a single run done).
MAX_STARTS = 30
INTERVAL = 1.5


def test_cron_loop_of_overlapping_starts_never_interleaves(
    serve: Any, cli: Any, db_url: str, tmp_path: Path
) -> None:
    server = serve(items=30)
    started: list[tuple[int, float, subprocess.Popen[str]]] = []
    ended: dict[int, tuple[int, float, str, str]] = {}

    def reap(wait: bool) -> None:
        for n, _, proc in started:
            if n not in ended and (wait or proc.poll() is not None):
                out, err = proc.communicate(timeout=180)
                ended[n] = (proc.returncode, time.time(), out, err)

    # Start like cron, until the loop has shown both sides: a refused start, and a start
    # that worked after another had (so two runs could have interleaved).
    for n in range(MAX_STARTS):
        cmd = crawl_args(
            server.url, db_url, "-s", "DOWNLOAD_DELAY=0.02", "-s", f"USER_AGENT=cron-start-{n}"
        )
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
        )
        started.append((n, time.monotonic(), proc))
        time.sleep(INTERVAL)
        reap(wait=False)
        codes_now = [e[0] for e in ended.values()]
        if n + 1 >= STARTS and 75 in codes_now and codes_now.count(0) >= 2:
            break
    reap(wait=True)

    codes = {n: e[0] for n, e in ended.items()}
    print(f"\nexit status by start: {codes}")
    assert set(codes.values()) <= {0, 75}, {
        n: e[3][-1500:] for n, e in ended.items() if e[0] not in (0, 75)
    }
    locked = [n for n, c in codes.items() if c == 75]
    worked = [n for n, c in codes.items() if c == 0]
    assert locked and len(worked) >= 2, "the loop did not overlap runs: it proves nothing"

    asked_by = {e.user_agent for e in server.log}
    for n in locked:
        code, _, out, err = ended[n]
        assert out == "", out
        assert "holds the archive" in err.strip().splitlines()[-1]
        assert f"cron-start-{n}" not in asked_by, f"start {n} exited 75 after making requests"

    recorded = runs(db_url)
    assert len(recorded) == len(worked), recorded
    assert all(r[1] == "ok" for r in recorded), recorded
    intervals = sorted((r[2].timestamp(), r[3].timestamp()) for r in recorded)
    # "At once": each refused start gave up while a run held the lock (or soon after its
    # release: the time to print and exit on a loaded machine), not after waiting for it.
    for n in locked:
        gave_up = ended[n][1]
        assert any(begin <= gave_up <= end + 10.0 for begin, end in intervals), (
            f"start {n} gave up at {gave_up:.1f}, when no run held the lock: it waited "
            f"(runs: {[(round(b, 1), round(e, 1)) for b, e in intervals]})"
        )
    for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
        assert end <= start, f"two runs overlapped: one ended {end}, the next began {start}"

    assert_records_equal_truth(db_url, wanted_truth(server.site, server.url))
    assert_consistent(db_url, cli)


def test_status_and_verify_while_a_crawl_runs_do_not_break_it(
    serve: Any, cli: Any, sqlite_url: str, tmp_path: Path
) -> None:
    """Opening the archive takes SQLite's write lock for a moment (migrations); a crawl's
    write must wait for it, not fail with "database is locked"."""
    server = serve(items=60)
    proc = subprocess.Popen(
        crawl_args(server.url, sqlite_url, "-s", "DOWNLOAD_DELAY=0.02"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    looks = 0
    while proc.poll() is None:
        for command in ("status", "verify"):
            seen = cli(command, "--db", sqlite_url)
            if looks == 0 and "no archive at" in seen.stderr:
                continue  # the crawl has not made the archive yet; reading makes none
            assert seen.returncode == 0, seen.stderr[-1000:]
            looks += 1
    out, err = proc.communicate(timeout=60)
    print(f"\n{looks} status/verify commands while the crawl ran")
    assert proc.returncode == 0, err[-2000:]
    assert looks >= 2
    assert_records_equal_truth(sqlite_url, wanted_truth(server.site, server.url))
