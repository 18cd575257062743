"""The command line's outer behaviour: help, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crawler.cli import build_parser, main

COMMANDS = ["crawl", "extract", "export", "history", "status", "verify", "reextract", "demo"]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([name, "--help"])
    assert exc.value.code == 0


def test_unknown_option_is_one_line_exit_1() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "status", "--no-such-option"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_redact_hides_password() -> None:
    from archive.errors import redact

    line = "could not connect to postgresql://alice:s3cret@db.example/archive"
    assert "s3cret" not in redact(line)
    assert "alice" in redact(line)
