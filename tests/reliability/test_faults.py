"""Guarantee 1, faults: a bad-tempered site still ends up archived, every item once and right.

The replica's recoverable faults (500/503 with Retry-After, slow answers, truncated
bodies, malformed HTML, a wrong charset declared, pages padded to 3 MB) are switched on
together; a full crawl must still archive every ground-truth item, once, equal to the
truth. Pages that fail for good (a 503 every time, a reset connection, a body that
always stops short, an answer that never comes) are recorded with address, status and
reason, and the next run fetches them again and archives them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from replica import Faults
from tests.reliability.conftest import (
    assert_records_equal_truth,
    faults_injected,
    query,
    runs,
    wanted_truth,
)

ITEMS = 150
#: The run's own timing settings on loopback: Retry-After capped to 0.2 s (conftest's
#: LOOPBACK), so a retry that came sooner than this did not wait as asked.
MIN_RETRY_WAIT = 0.15


def test_every_item_archived_once_and_right_through_mixed_faults(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    faults = Faults(
        error_rate=0.1,
        retry_after=1,
        slow_rate=0.1,
        slow_seconds=0.2,
        truncate_rate=0.05,
        malformed_rate=0.1,
        wrong_charset_rate=0.1,
        oversized_rate=0.02,
        seed=11,
    )
    server = serve(items=ITEMS, faults=faults)
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"

    result = crawl(server.url, db, "--full")

    assert result.returncode == 0, result.stderr[-2000:]
    truth = wanted_truth(server.site, server.url)
    assert_records_equal_truth(db, truth)
    assert result.summary["failed"] == 0
    assert result.summary["new_documents"] == len(truth)

    injected = faults_injected(server)
    print(f"faults injected over {len(server.log)} requests: {dict(sorted(injected.items()))}")
    for kind in (
        "error 500",
        "error 503",
        "slow",
        "truncated",
        "malformed",
        "wrong_charset",
        "oversized",
    ):
        assert injected[kind] > 0, f"no {kind} fault fired: the test proves nothing about it"
    errors = sum(n for k, n in injected.items() if k.startswith("error"))
    assert errors >= 0.05 * len(server.log), "fewer errors than the 10% asked for"

    # Each refusal was retried, after the wait Retry-After asked for (capped).
    by_path: dict[str, list[Any]] = {}
    for entry in server.log:
        by_path.setdefault(entry.path, []).append(entry)
    for path, entries in by_path.items():
        for earlier, later in zip(entries, entries[1:], strict=False):
            if earlier.fault == "error":
                assert later.time - earlier.time >= MIN_RETRY_WAIT, (
                    f"{path} retried {later.time - earlier.time:.3f} s after a {earlier.status}"
                )
        last = entries[-1]
        assert last.fault not in ("error", "truncated"), f"{path} was given up on"
    # No item page was fetched in full twice: retries replace failures, not successes.
    full_answers = Counter(
        e.path
        for e in server.log
        if e.status == 200
        and e.fault not in ("error", "truncated")
        and e.path in server.site.by_path
    )
    assert [p for p, n in full_answers.items() if n > 1] == []


def test_pages_failing_for_good_are_recorded_then_retried_next_run(
    hostile: Any, crawl: Any, tmp_path: Path
) -> None:
    server = hostile(items=60)
    truth = wanted_truth(server.site, server.url)
    paths = sorted(t["url"].removeprefix(server.url) for t in truth.values())
    bad = {paths[3]: "503", paths[11]: "reset", paths[19]: "truncate", paths[27]: "hang"}
    server.overlay.update(bad)
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    timing = ["-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=2"]

    first = crawl(server.url, db, *timing)

    assert first.returncode == 0, first.stderr[-2000:]
    assert first.summary["failed"] == len(bad)
    failed = {
        url.removeprefix(server.url): (status, error)
        for url, status, error in query(
            db,
            "select coalesce(final_url, url), status, error from captures where outcome = 'failed'",
        )
    }
    assert set(failed) == set(bad), failed
    expected_reason = {
        "503": "HTTP 503 after retries",
        "reset": "Connection",
        "truncate": "Response",
        "hang": "Timeout",
    }
    for path, kind in bad.items():
        status, error = failed[path]
        assert status == (503 if kind == "503" else 0), (path, kind, status)
        assert error and expected_reason[kind].lower() in error.lower(), (kind, error)
        # RETRY_TIMES=2: three attempts (Twisted repeats a request once by itself when a
        # reused keep-alive connection is reset before any answer).
        assert 3 <= len(server.hits(path)) <= 6, f"{kind}: not retried within the run"
    print("failed for good, as recorded:", {bad[p]: failed[p] for p in bad})
    # Everything else is in; the run still says what it could not do.
    got = {r[0] for r in query(db, "select id from documents")}
    assert got == set(truth) - {
        t for t, v in truth.items() if v["url"].removeprefix(server.url) in bad
    }
    assert [r[1] for r in runs(db)] == ["ok"]
    assert "failed for good" in first.stderr

    server.overlay.clear()
    before = len(server.log)
    second = crawl(server.url, db)

    assert second.returncode == 0, second.stderr[-2000:]
    asked = {h.path for h in server.log[before:]}
    assert set(bad) <= asked, "a page that failed was not retried by the next run"
    assert second.summary["new_documents"] == len(bad)
    assert second.summary["failed"] == 0
    assert_records_equal_truth(db, truth)
