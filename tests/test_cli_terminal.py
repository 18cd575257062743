"""The installed ``osce-archive`` as a person meets it in a terminal: the progress bar of a
real crawl of the replica, and Ctrl-C pressed twice (real SIGINTs from the pseudo-terminal's
interrupt character to the whole foreground process group, extraction workers included),
then SIGTERM twice from a service manager. What must hold: exit 130, the run recorded
``interrupted``, the lock released, the next run resumes and ``verify`` passes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = shutil.which("osce-archive") or str(Path(sys.executable).parent / "osce-archive")
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160", "TERM": "xterm"}
#: A bar line: "crawl ━━━ 12/162+ items 3.1/s 0:00:09 left 0:00:40 new 12 ...".
BAR = re.compile(r"crawl [━╺╸ ]*(\d+)/(\d+)\+? items [\d.]+/s [\d:]+ left ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _runs(db: Path) -> tuple[list[tuple[int, str]], int]:
    with sqlite3.connect(db) as conn:
        runs = conn.execute("select id, outcome from runs order by id").fetchall()
        locks = conn.execute("select count(*) from locks").fetchone()[0]
    return runs, locks


def _resume_and_verify(url: str, db: Path) -> None:
    env = {**ENV, "OSCE_PROGRESS": "off"}
    done = subprocess.run(
        [SCRIPT, "crawl", "--site", url, "--db", str(db), "--fast", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"run 2 ok", done.stdout), done.stdout
    verify = subprocess.run(
        [SCRIPT, "verify", "--db", str(db)], env=env, capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stderr


def test_progress_bar_then_ctrl_c_twice(
    tmp_path: Path, replica_process_factory: Callable[..., object]
) -> None:
    # Enough items that a loaded machine still has most of the crawl ahead when the
    # test has read the first bars (it stops the crawl; the count costs no time).
    server = replica_process_factory(items=400)
    url = server.url  # type: ignore[attr-defined]
    db = tmp_path / "archive.sqlite"
    child = pexpect.spawn(
        SCRIPT,
        ["crawl", "--site", url, "--db", str(db), "--fast"],
        env=ENV,
        cwd=str(tmp_path),
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(24, 160),
        timeout=180,
    )
    try:
        # The bar, with a total, a rate and the time left, and items being archived.
        done, total, screen = 0, 0, ""
        deadline = time.monotonic() + 180
        while done < 5 and time.monotonic() < deadline:
            screen += ANSI.sub("", child.read_nonblocking(65536, timeout=30))
            bars = BAR.findall(screen)
            if bars:
                done, total = (int(n) for n in bars[-1])
                assert total >= done
        assert done >= 5 and total > done, screen[-500:]
        child.sendintr()  # Ctrl-C: graceful stop begins
        time.sleep(0.3)
        child.sendintr()  # Ctrl-C again: stop at once
        pressed = time.monotonic()
        child.expect(pexpect.EOF, timeout=30)
        took = time.monotonic() - pressed
        print(f"stopped {took:.2f} s after the second Ctrl-C")
    finally:
        child.close(force=True)
    assert child.exitstatus == 130, child.before
    assert "Traceback" not in (child.before or "")
    assert took < 10  # the guarantee itself (issue 19.1), not a speed measure
    runs, locks = _runs(db)
    assert runs == [(1, "interrupted")] and locks == 0
    _resume_and_verify(url, db)


def test_sigterm_twice_stops_at_once(
    tmp_path: Path, replica_process_factory: Callable[..., object]
) -> None:
    server = replica_process_factory(items=120)
    db = tmp_path / "archive.sqlite"
    proc = subprocess.Popen(
        [SCRIPT, "crawl", "--site", server.url, "--db", str(db)],  # type: ignore[attr-defined]
        env={**ENV, "OSCE_PROGRESS": "off"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    with sqlite3.connect(db) as conn:
                        if conn.execute("select count(*) from versions").fetchone()[0] >= 3:
                            break
                except sqlite3.Error:
                    pass
            time.sleep(0.2)
        assert proc.poll() is None, "the crawl ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
        print(f"stopped {took:.2f} s after the second SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert took < 10
    assert "stopped at once" in err and "Traceback" not in err
    runs, locks = _runs(db)
    assert runs == [(1, "interrupted")] and locks == 0
