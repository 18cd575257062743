"""Crashing a crawl on purpose: kill it at a chosen moment, watch it from outside.

Shared by ``test_crashes`` and ``bench/soak.py``. A moment is ``{"phase": "start-up",
"after": seconds}`` (a kill during imports, migrations or the lock) or ``{"phase":
"crawling", "captures": n, "after": seconds}`` (a kill once ``n`` captures are in the
archive, plus a little), with ``"group": True`` to kill the whole process group (a
power cut) rather than the crawl alone (the OOM killer), and ``"signal"`` (SIGKILL by
default; SIGTERM for a clean stop).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.reliability.conftest import ENV


def random_moment(rng: random.Random, startup: float, total_captures: int) -> dict[str, Any]:
    """A moment drawn from ``rng``: a quarter during start-up, the rest while crawling."""
    if rng.random() < 0.25:
        moment: dict[str, Any] = {"phase": "start-up", "after": rng.uniform(0.3, startup + 0.5)}
    else:
        moment = {
            "phase": "crawling",
            "captures": rng.randrange(0, max(1, total_captures)),
            "after": rng.uniform(0, 0.05),
        }
    moment["group"] = rng.random() < 0.5
    return moment


def progress(path: Path) -> tuple[int, int]:
    """(runs, captures) of an SQLite archive another process is writing; (0, 0) before
    its tables exist."""
    if not path.exists():
        return 0, 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5) as conn:
            runs_n = conn.execute("select count(*) from runs").fetchone()[0]
            captures = conn.execute("select count(*) from captures").fetchone()[0]
            return int(runs_n), int(captures)
    except sqlite3.Error:
        return 0, 0


def verify_in_process(db: str) -> tuple[int, str]:
    """``osce-archive verify`` through the command line's own entry point."""
    import contextlib
    import io

    from crawler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["verify", "--db", db])
    return code, out.getvalue() + err.getvalue()


def kill_at(cmd: list[str], cwd: Path, db_path: Path, moment: dict[str, Any]) -> str:
    """Start the crawl, signal it at ``moment``; what the moment turned out to be, with
    the exit status, and "HUNG" when it did not end within a minute of the signal.
    (SQLite only: the moment is read from the archive file.)"""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
        start_new_session=True,
    )
    started = time.monotonic()
    try:
        if moment["phase"] == "start-up":
            time.sleep(moment["after"])
        else:
            deadline = started + 60
            while progress(db_path)[1] < moment["captures"] and time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                time.sleep(0.005)
            time.sleep(moment["after"])
        state = "already finished" if proc.poll() is not None else "killed"
        sig = moment.get("signal", signal.SIGKILL)
        if moment["group"]:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    finally:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            state += ", then HUNG until SIGKILLed"
    no_orphans(proc.pid)
    n_runs, captures = progress(db_path)
    state += f" (exit {proc.returncode})"
    return (
        f"{state} at {time.monotonic() - started:.2f} s ({moment['phase']}, "
        f"{'group' if moment['group'] else 'process'}) with {captures} captures, "
        f"{n_runs} runs"
    )


def no_orphans(session_id: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-s", str(session_id)], capture_output=True, text=True)
        if not found.stdout.strip():
            return
        time.sleep(0.2)
    raise AssertionError(f"processes of the killed crawl outlived it: {found.stdout.split()}")
