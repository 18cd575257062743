"""Guarantee 2, crashes: a crawl killed at any moment loses nothing and breaks nothing.

A crawl is SIGKILLed at random moments (start-up, migrations, the lock, discovery, in
the middle of ingesting; the process alone as the OOM killer does, or its whole process
group as a power cut does), and after each kill a normal run follows: ``verify`` passes
after the kill and after the run, and the archive then equals an uninterrupted crawl's
in documents, versions and addresses. SIGTERM stops a run cleanly: exit 130, the run
recorded ``interrupted`` with its end time, the lock released, and the next run
completes the archive.

``OSCE_TEST_SEED`` replays a failing sequence of moments; ``OSCE_RELIABILITY_KILLS``
changes how many (default 10; ``bench/soak.py`` runs many more on a bigger, faulty site).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.reliability.conftest import (
    ENV,
    assert_records_equal_truth,
    crawl_args,
    diff_dumps,
    dump,
    query,
    runs,
    wanted_truth,
)
from tests.reliability.crashing import (
    kill_at,
    no_orphans,
    progress,
    random_moment,
    verify_in_process,
)

KILLS = int(os.environ.get("OSCE_RELIABILITY_KILLS", "10"))
ITEMS = 24
#: The run after a kill extracts in its own process: a normal run all the same, and one
#: pool start-up fewer per kill keeps ten kills inside the fast suite's budget.
NO_POOL = ["-s", "OSCE_EXTRACT_WORKERS=0"]


def test_sigkill_at_random_moments_then_a_normal_run_equals_uninterrupted(
    serve: Any, crawl: Any, cli: Any, tmp_path: Path, rng: random.Random
) -> None:
    server = serve(items=ITEMS)
    whole = f"sqlite:///{tmp_path / 'whole.sqlite'}"
    reference = crawl(server.url, whole)
    assert reference.returncode == 0, reference.stderr[-2000:]
    want = dump(whole)
    total_captures = query(whole, "select count(*) from captures")[0][0]
    startup = max(0.5, reference.seconds - float(reference.summary["seconds"] or 0))

    survived = []
    for n in range(KILLS):
        db_path = tmp_path / f"killed-{n}.sqlite"
        db = f"sqlite:///{db_path}"
        moment = random_moment(rng, startup, total_captures)
        cmd = crawl_args(server.url, db)
        what = kill_at(cmd, tmp_path, db_path, moment)

        if db_path.exists():
            code, said = verify_in_process(db)
            made = "no archive at" not in said  # killed before the crawl made its archive
            assert code == 0 or not made, f"kill {n} ({what}): verify failed after the kill: {said}"
        after = crawl(server.url, db, *NO_POOL)
        assert after.returncode == 0, f"kill {n} ({what}): {after.stderr[-2000:]}"
        code, said = verify_in_process(db)
        assert code == 0, f"kill {n} ({what}): verify failed after the normal run: {said}"
        got = dump(db)
        assert got == want, f"kill {n} ({what}): {diff_dumps(got, want)}"
        outcomes = [r[1] for r in runs(db)]
        assert outcomes[-1] == "ok" and all(o in ("interrupted", "ok") for o in outcomes), (
            f"kill {n} ({what}): runs {outcomes}"
        )
        assert query(db, "select count(*) from locks")[0][0] == 0
        survived.append(what)
    assert cli("verify", "--db", db).returncode == 0  # the installed command agrees
    print(f"\n{len(survived)} crashes survived:\n  " + "\n  ".join(survived))
    assert sum("killed" in s for s in survived) >= min(KILLS, 10) * 0.8


def test_sigterm_stops_cleanly_records_interrupted_and_next_run_completes(
    serve: Any, crawl: Any, cli: Any, tmp_path: Path, rng: random.Random
) -> None:
    server = serve(items=40)
    truth = wanted_truth(server.site, server.url)
    db_path = tmp_path / "archive.sqlite"
    db = f"sqlite:///{db_path}"
    wait_for = rng.randrange(5, 25)
    proc = subprocess.Popen(
        # Slow enough that ingest keeps up with fetching even on a loaded machine: a
        # stop then leaves pages unfetched (a graceful stop archives what was fetched).
        [
            *crawl_args(server.url, db),
            "-s",
            "DOWNLOAD_DELAY=0.1",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=2",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while progress(db_path)[1] < wait_for and time.monotonic() < deadline:
        assert proc.poll() is None, "the crawl ended before SIGTERM"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=60)
    stopped_in = time.monotonic() - sent
    print(f"\nSIGTERM after {wait_for} captures; stopped in {stopped_in:.2f} s")

    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "osce-archive: crawl interrupted; the next run resumes"
    assert stopped_in < 30
    ((run_id, outcome, started, finished, counters),) = runs(db)
    assert outcome == "interrupted" and finished is not None and finished >= started
    assert counters and counters["requests"] > 0, "the interrupted run's counters were lost"
    assert query(db, "select count(*) from locks")[0][0] == 0, "SIGTERM left the lock held"
    no_orphans(proc.pid)
    assert cli("verify", "--db", db).returncode == 0
    partial = query(db, "select count(*) from documents")[0][0]
    assert 0 < partial < len(truth)

    again = crawl(server.url, db)
    assert again.returncode == 0, again.stderr[-2000:]
    assert [r[1] for r in runs(db)] == ["interrupted", "ok"]
    assert_records_equal_truth(db, truth)


def test_sigterm_while_discovery_waits_for_room_stops(serve: Any, tmp_path: Path) -> None:
    """The soak's finding, made certain: a scheduler held at its target (back-pressure on
    discovery) when SIGTERM arrives."""
    server = serve(items=100)
    db_path = tmp_path / "archive.sqlite"
    proc = subprocess.Popen(
        crawl_args(
            server.url,
            f"sqlite:///{db_path}",
            "-s",
            "OSCE_FRONTIER_QUEUE_TARGET=5",
            "-s",
            "DOWNLOAD_DELAY=0.05",
        ),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while progress(db_path)[1] < 10 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError("SIGTERM did not stop the crawl within 10 s") from None
    assert proc.returncode == 130
    assert [r[1] for r in runs(f"sqlite:///{db_path}")] == ["interrupted"]
