"""The command line's outer behaviour: help, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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


# --------------------------------------------------------------------------- mistakes caught

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=180,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["crawl", "--kinds", "press-releases"],
        ["crawl", "--kinds", "story,", "--kinds", "storie"],
        ["export", "--kinds", "press-release,storys"],
    ],
)
def test_unknown_kinds_name_the_known_ones(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--db", "archive.sqlite"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown kind" in err[0]
    assert "press-release" in err[0] and "story" in err[0] and "spot-report" in err[0]
    assert list(tmp_path.iterdir()) == []  # nothing crawled, nothing created


def test_third_party_articles_are_a_kind_to_export_not_to_crawl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An archive that crawled sources holds ``article`` records: ``export --kinds
    article`` takes them; ``crawl --kinds article`` is refused (osce.org has none)."""
    from crawler.cli import check_kinds

    assert check_kinds("article,story", allow_all=False, articles=True) == "article,story"
    monkeypatch.chdir(tmp_path)
    assert main(["crawl", "--kinds", "article", "--db", "archive.sqlite"]) == 1
    assert "unknown kind 'article'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [["crawl", "--max-items", "-3"], ["crawl", "--max-items", "0"], ["demo", "--items", "0"]],
)
def test_counts_must_be_positive(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 1
    assert "must be at least 1" in capsys.readouterr().err


def _archive_of(path: Path, site: str) -> None:
    from archive.store import Archive

    with Archive.open(f"sqlite:///{path}") as archive:
        run = archive.start_run({"site": site})
        archive.finish_run(run, "ok", {})


def test_options_before_or_after_the_command_and_db_as_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _archive_of(tmp_path / "archive.sqlite", "https://www.osce.org")
    for args in (
        ["status", "--debug", "--db", "archive.sqlite"],
        ["--debug", "status", "--db", "archive.sqlite"],
        ["--db", "archive.sqlite", "status"],
        ["--db", f"sqlite:///{tmp_path / 'archive.sqlite'}", "--verbose", "status", "--json"],
    ):
        assert main(args) == 0, args
        assert "archive.sqlite" in capsys.readouterr().out
    parsed = build_parser().parse_args(["--debug", "--db", "x", "status"])
    assert parsed.debug and parsed.db == "x"  # not undone by the command's own defaults


def test_demo_refuses_a_real_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "real.sqlite"
    _archive_of(real, "https://www.osce.org")
    before = real.read_bytes()
    assert main(["demo", "--db", "real.sqlite", "--items", "5"]) == 1
    err = capsys.readouterr().err
    assert "holds a real archive" in err and "https://www.osce.org" in err and "--force" in err
    assert real.read_bytes() == before


def test_unreachable_site_fails_fast_in_few_lines(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    site = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = _cli("crawl", "--site", site, "--db", "archive.sqlite", cwd=tmp_path)
    took = time.monotonic() - started
    print(f"unreachable site: exit {proc.returncode} after {took:.1f} s (process start included)")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(f"osce-archive: cannot reach {site}") and "refused" in lines[-1]
    assert "Gave up retrying" not in proc.stderr  # a closed port is not retried
    assert "Scrapy 2" not in proc.stderr and "alembic" not in proc.stderr  # no library chatter
    problems = [line for line in lines if "ERROR" in line or "WARNING" in line]
    assert len(problems) <= 3  # robots.txt, sitemap index, feed: one line each
    verbose = _cli("crawl", "--site", site, "--db", "archive.sqlite", "--verbose", cwd=tmp_path)
    assert verbose.returncode == 1
    assert "Scrapy 2" in verbose.stderr and "alembic" in verbose.stderr


def test_extract_of_a_page_that_is_no_item_has_no_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "about.html"
    page.write_text("<html><head><title>About</title></head><body><p>Hello.</p></body></html>")
    assert main(["extract", str(page)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["kind"] == "page" and record["id"] is None


def test_history_wraps_whole_titles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from archive.store import Archive
    from tests.archive.conftest import capture_for, make_record

    title = "A very long title " + " ".join(f"word{i}" for i in range(40)) + " TheLastWord"
    url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    with Archive.open(url) as archive:
        run = archive.start_run({})
        record = make_record(title=title)
        archive.ingest(capture_for(record, 0, run_id=run), record)
        archive.finish_run(run, "ok", {})
    monkeypatch.setenv("COLUMNS", "60")
    assert main(["history", "osce.org/55436", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "TheLastWord" in out and "…" not in out
    assert max(len(line) for line in out.splitlines() if "word" in line) <= 60
    assert " ".join(out.split()).count(title) == 1


def test_replica_on_a_busy_port_is_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "replica", "serve", "--items", "10", "--port", str(port)],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=120,
        )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"python -m replica: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_sites_lists_the_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.cli import main

    assert main(["sites", "--json"]) == 0
    profiles = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert set(profiles) >= {"osce", "generic"}
    assert profiles["osce"]["default"] and profiles["osce"]["home"].startswith("https://")
    assert "press-release" in profiles["osce"]["kinds"] and not profiles["generic"]["hosts"]
