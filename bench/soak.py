"""The long soak: a faulty site, many crashes, long fuzzing, and nothing lost.

    .venv/bin/python bench/soak.py [--items 400] [--kills 20] [--seed N]
                                   [--fault-rate 0.1] [--atheris-runs 5000] [--json]

What the fast reliability tests (``tests/reliability``) show once, this repeats at a
larger size and with every fault on at the same time:

1. The replica serves ``--items`` items over loopback with every recoverable fault at
   ``--fault-rate`` (500/503 with Retry-After, slow answers, truncated bodies, malformed
   HTML, wrong charset, pages padded to 3 MB, redirect loops, links to other hosts).
2. Reference: an uninterrupted crawl into its own archive, run again until a run fails
   nothing (a page can fail its retries on a bad-tempered site; the next run takes it).
3. ``--kills`` times, on a fresh archive each: a crawl stopped at a random moment (SIGKILL
   of the crawl or of its whole process group; every fourth one SIGTERM), ``verify``,
   then normal runs until one fails nothing, ``verify`` again, and the archive compared
   with the reference (documents, versions, addresses) and with the ground truth.
4. libFuzzer (atheris, if installed) over the extraction for ``--atheris-runs`` inputs,
   two seconds at most per input.

Prints the figures: faults injected by type (from the replica's request log), crashes
survived, fuzz inputs run, and whether anything was lost. Exit 0 when nothing was.
``--seed`` replays a run's sequence of moments (the seed is always printed).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replica import Faults, ReplicaServer, Site  # noqa: E402
from tests.reliability.conftest import (  # noqa: E402
    ENV,
    assert_records_equal_truth,
    crawl_args,
    diff_dumps,
    dump,
    faults_injected,
    query,
    run_command,
    runs,
    wanted_truth,
)
from tests.reliability.crashing import kill_at, random_moment, verify_in_process  # noqa: E402


def unlinked_after_failure(
    got: dict[str, list[Any]], want: dict[str, list[Any]], db: str, reference: str
) -> int:
    """Forgive (and count) one known difference that faults, not crashes, cause.

    A redirecting alias (``/node/<n>``) whose redirect target failed its retries is kept
    as an address without a document; the next run fetches the item by its canonical
    address (the listing names it) and never asks the alias again, so the alias stays
    unlinked in one archive and linked in another. Rows differing only so are made
    equal in ``got``; anything else is left for the comparison to report.
    """

    def failed_fetch(archive: str, url: str) -> bool:
        rows = query(archive, "select last_status from addresses where url = :u", u=url)
        return bool(rows) and (rows[0][0] in (0, None) or rows[0][0] >= 500)

    wanted = {row[0]: row for row in want["addresses"]}
    fixed, forgiven = [], 0
    for row in got["addresses"]:
        other = wanted.get(row[0])
        if (
            other is not None
            and other != row
            and row[2] == other[2] == "redirect"
            and (
                (row[1] is None and failed_fetch(db, row[0]))
                or (other[1] is None and failed_fetch(reference, row[0]))
            )
        ):
            fixed.append(other)
            forgiven += 1
        else:
            fixed.append(row)
    got["addresses"] = fixed
    return forgiven


def settle(site_url: str, db: str, cwd: Path, extra: list[str], tries: int = 4) -> int:
    """Normal runs until one fails nothing (or ``tries`` runs); how many it took."""
    for n in range(1, tries + 1):
        done = run_command(crawl_args(site_url, db, *extra), cwd, timeout=900)
        if done.returncode != 0:
            raise SystemExit(
                f"a normal run failed (exit {done.returncode}): "
                f"{done.stderr.strip().splitlines()[-1:]}"
            )
        if done.summary["failed"] == 0:
            return n
    raise SystemExit(f"still failing pages after {tries} normal runs")


def atheris_fuzz(runs: int, folder: Path) -> int:
    """libFuzzer over the extraction; inputs run (0 when atheris is not installed)."""
    import importlib.util

    if runs <= 0 or importlib.util.find_spec("atheris") is None:
        return 0
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.fuzz_atheris",
            str(folder / "corpus"),
            f"-runs={runs}",
            "-timeout=2",
            "-rss_limit_mb=2048",
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or f"Done {runs} runs" not in done.stderr:
        raise SystemExit(f"atheris found a failure:\n{done.stderr[-3000:]}")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--atheris-runs", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    print(
        f"soak: {args.items} items, fault rate {args.fault_rate}, {args.kills} crashes, "
        f"seed {seed} (replay with --seed {seed})",
        flush=True,
    )

    faults = Faults.all_on(args.fault_rate, seed=seed % 1000)
    server = ReplicaServer(Site(items=args.items, seed=1), faults=faults).start()
    started = time.monotonic()
    survived: list[str] = []
    unlinked = 0
    hung: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="osce-soak-") as tmp:
            folder = Path(tmp)
            truth = wanted_truth(server.site, server.url)
            reference = f"sqlite:///{folder / 'reference.sqlite'}"
            t0 = time.monotonic()
            settle(server.url, reference, folder, [])
            crawl_seconds = time.monotonic() - t0
            assert_records_equal_truth(reference, truth)
            want = dump(reference)
            total_captures = query(reference, "select count(*) from captures")[0][0]
            print(
                f"reference: {len(want['documents'])} documents in {crawl_seconds:.1f} s",
                flush=True,
            )

            for n in range(args.kills):
                db_path = folder / f"crash-{n}.sqlite"
                db = f"sqlite:///{db_path}"
                moment = random_moment(rng, 2.0, total_captures)
                if n % 4 == 3:
                    moment["signal"] = signal.SIGTERM
                what = kill_at(crawl_args(server.url, db), folder, db_path, moment)
                if db_path.exists():
                    code, said = verify_in_process(db)
                    if code != 0:
                        raise SystemExit(f"crash {n} ({what}): verify failed: {said}")
                took = settle(server.url, db, folder, ["-s", "OSCE_EXTRACT_WORKERS=0"])
                code, said = verify_in_process(db)
                if code != 0:
                    raise SystemExit(f"crash {n} ({what}): verify failed after: {said}")
                got = dump(db)
                gaps = unlinked_after_failure(got, want, db, reference)
                if got != want:
                    raise SystemExit(f"crash {n} ({what}): {diff_dumps(got, want)}")
                assert_records_equal_truth(db, truth)
                if "HUNG" in what:
                    hung.append(f"crash {n}: {what}")
                elif moment.get("signal") == signal.SIGTERM and "(exit 130)" in what:
                    outcomes = [r[1] for r in runs(db)]
                    if outcomes[0] != "interrupted":
                        raise SystemExit(f"crash {n}: SIGTERM recorded as {outcomes[0]}")
                kind = "SIGTERM" if moment.get("signal") == signal.SIGTERM else "SIGKILL"
                note = f"; {gaps} alias(es) unlinked after a failed redirect hop" if gaps else ""
                unlinked += gaps
                survived.append(f"{kind} {what}; {took} run(s) to settle{note}")
                print(f"  {n + 1:3}/{args.kills} {survived[-1]}", flush=True)

            fuzzed = atheris_fuzz(args.atheris_runs, folder)
    finally:
        server.stop()

    injected = faults_injected(server)
    report: dict[str, Any] = {
        "seed": seed,
        "items": args.items,
        "documents": len(truth),
        "requests": len(server.log),
        "faults_injected": dict(sorted(injected.items())),
        "crashes_survived": len(survived),
        "crashes_killed_mid_run": sum("killed" in s for s in survived),
        "atheris_inputs": fuzzed,
        "aliases_unlinked_after_failed_hops": unlinked,
        "lost": 0,
        "hung_after_signal": hung,
        "seconds": round(time.monotonic() - started, 1),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"faults injected over {report['requests']} requests: {report['faults_injected']}")
        print(
            f"crashes survived: {report['crashes_survived']} "
            f"({report['crashes_killed_mid_run']} hit a live crawl); atheris inputs: "
            f"{fuzzed}; nothing lost; {report['seconds']} s"
        )
        if unlinked:
            print(
                f"known gap: {unlinked} redirecting alias(es) left unlinked after their "
                "redirect target failed its retries (a fault effect, not a crash effect)"
            )
    if hung:
        # Nothing was lost (each archive was checked after), but a stop that needs
        # SIGKILL is a broken guarantee: see the report of issue 8 (the spider's
        # back-pressure wait, ``NewsroomSpider._room``, outlives the engine's close).
        print(f"BROKEN: {len(hung)} crawl(s) did not stop on SIGTERM: {hung}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
