"""The long soak (``bench/soak.py``) as a test: excluded by default (``-m slow`` runs it).

Twelve crashes (SIGKILL and SIGTERM) of crawls of a 300-item site with every fault on,
each followed by normal runs and compared with an uninterrupted crawl, then libFuzzer.
"""

from __future__ import annotations

import sys

import pytest

from tests.reliability.conftest import ENV, ROOT


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_soak() -> None:
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "soak.py"),
            "--items",
            "300",
            "--kills",
            "12",
            "--atheris-runs",
            "3000",
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=3500,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "nothing lost" in done.stdout
