"""The archive's commands as a user runs them: history, status (text and --json)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from archive.store import Archive
from crawler.cli import main
from tests.archive.conftest import capture_for, make_record


def _fill(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        run = archive.start_run({"full": True})
        record = make_record()
        archive.ingest(capture_for(record, 0, run_id=run), record)
        edited = replace(record, title="Edited title")
        archive.ingest(capture_for(edited, 1, run_id=run), edited)
        archive.finish_run(run, "ok", {"requests": 2, "new_documents": 1, "new_versions": 1})


def test_history_json_and_text(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db_url)
    assert main(["history", "55436", "--db", db_url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == "osce.org/55436"
    assert [v["version"] for v in data["versions"]] == [1, 2]
    assert data["versions"][1]["changes"]["title"]["new"] == "Edited title"
    assert main(["history", "https://osce.org/fsc/55436", "--db", db_url]) == 0
    text = capsys.readouterr().out
    assert "v2" in text and "Edited title" in text
    assert main(["history", "osce.org/1", "--db", db_url]) == 1
    assert "no document" in capsys.readouterr().err


def test_status_json_and_text(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db_url)
    assert main(["status", "--db", db_url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["documents"], data["versions"], data["captures"]) == (1, 2, 2)
    assert data["runs"][0]["outcome"] == "ok" and data["runs"][0]["counters"]["requests"] == 2
    assert data["lock"] is None
    assert main(["status", "--db", db_url]) == 0
    assert "documents 1" in capsys.readouterr().out
