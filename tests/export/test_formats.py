"""Every export format read back into records, held to ``record.schema.json``, and the
command's outer behaviour (stdout, cursor on stderr, one-line errors, the data package)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archive.export import (
    EXPORT_FIELDS,
    iter_csv,
    iter_jsonl,
    iter_parquet,
    parquet_schema,
    record_validator,
    schema_text,
)
from crawler.cli import main
from tests.export.conftest import ATTACHMENTS, Scenario, build_scenario


def run_export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run ``osce-archive export`` in-process; returns (exit status, stderr)."""
    status = main(["export", *args])
    return status, capsys.readouterr().err


def cursor_of(stderr: str) -> str:
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("cursor: "), stderr
    return last.removeprefix("cursor: ")


def assert_valid(records: list[dict[str, Any]]) -> None:
    validator = record_validator()
    for record in records:
        errors = [e.message for e in validator.iter_errors(record)]
        assert not errors, (record["id"], errors)
        assert list(record) == list(EXPORT_FIELDS)


@pytest.mark.parametrize("history", [False, True], ids=["current", "history"])
def test_every_format_round_trips_to_the_same_schema_valid_records(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str], history: bool
) -> None:
    extra = ["--history"] if history else []
    read_back: dict[str, list[dict[str, Any]]] = {}
    cursors = set()
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"records.{fmt}"
        status, err = run_export(
            capsys, "--db", scenario.url, "--format", fmt, "--output", str(out), *extra
        )
        assert status == 0, err
        cursors.add(cursor_of(err))
        if fmt == "jsonl":
            with open(out, "rb") as handle:
                read_back[fmt] = list(iter_jsonl(handle))
        elif fmt == "csv":
            read_back[fmt] = list(iter_csv(out))
        else:
            table = pq.read_table(out)  # plain pyarrow, as a downstream user reads it
            assert table.schema.equals(parquet_schema(), check_metadata=False)
            assert table.num_rows == len(read_back["jsonl"])
            read_back[fmt] = list(iter_parquet(out))
    assert cursors == {scenario.rounds[-1].cursor}
    jsonl = read_back["jsonl"]
    if not history:
        assert jsonl == scenario.rounds[-1].full
    assert read_back["csv"] == jsonl
    assert read_back["parquet"] == jsonl
    assert_valid(jsonl)
    # The interesting cells survived: separators inside list items, nulls, a tombstone.
    story = next(r for r in jsonl if r["id"] == "osce.org/5")
    assert story["deleted"] is True and story["place"] is None and story["sources"] == []
    first = next(r for r in jsonl if r["id"] == "osce.org/1")
    assert first["fields_of_work"] == ["Arms control", 'Elections; "observation"']
    assert "\n\n" in first["text"]
    assert first["attachments"] == [a.to_json() for a in ATTACHMENTS[:2]]
    assert story["attachments"] == [ATTACHMENTS[2].to_json()]
    assert next(r for r in jsonl if r["id"] == "osce.org/3")["attachments"] == []
    second = [r["attachments"] for r in jsonl if r["id"] == "osce.org/2"]
    assert second == ([[], [ATTACHMENTS[0].to_json()]] if history else [[ATTACHMENTS[0].to_json()]])


def test_parquet_columns_are_typed(scenario: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    assert main(["export", "--db", scenario.url, "--format", "parquet", "--output", str(out)]) == 0
    schema = pq.read_schema(out)
    assert schema.field("version").type == pa.int32()
    assert schema.field("published").type == pa.date32()
    assert schema.field("last_seen").type == pa.timestamp("us", tz="UTC")
    assert schema.field("sources").type == pa.list_(pa.string())
    assert schema.field("deleted").type == pa.bool_()
    attachment = schema.field("attachments").type
    assert pa.types.is_list(attachment) and not schema.field("attachments").nullable
    assert [f.name for f in attachment.value_type] == ["title", "url"]


def test_csv_lists_are_json_arrays_a_person_can_read(scenario: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    assert main(["export", "--db", scenario.url, "--format", "csv", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(EXPORT_FIELDS)
    assert '"[""OSCE Secretariat"", ""Forum for Security Co-operation, Vienna""]"' in text
    first = next(r for r in iter_csv(out) if r["id"] == "osce.org/1")
    assert first["attachments"][1]["title"] == 'Annex 2: "Arms control", commas; semicolons'
    assert '""title"": ""Final report""' in text  # one JSON array in the cell, as for lists


def test_jsonl_to_stdout_and_cursor_on_stderr(sqlite_url: str) -> None:
    scenario = build_scenario(sqlite_url)
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "export", "--db", sqlite_url, "--kinds", "story"],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode("utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["osce.org/5"]
    assert proc.stderr.decode().strip().splitlines() == [f"cursor: {scenario.rounds[-1].cursor}"]

    since = scenario.rounds[1].cursor
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "export", "--db", sqlite_url, "--since", since],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    ids = [json.loads(line)["id"] for line in proc.stdout.decode().splitlines()]
    assert ids == ["osce.org/4", "osce.org/5"]


def test_user_errors_are_one_line_exit_1(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_scenario(sqlite_url)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    cases = [
        ["--since", "12345"],
        ["--since", "not-a-cursor"],
        ["--as-of", "yesterday-ish"],
        ["--output", str(blocked / "out.jsonl")],
        ["--output", str(tmp_path / "missing" / "out.jsonl")],
        ["--format", "parquet"],  # binary formats need a file
        ["--format", "warc", "--history", "--output", str(tmp_path / "x.warc.gz")],
        ["--since", "0", "--as-of", "2024-01-01"],
    ]
    for extra in cases:
        status, err = run_export(capsys, "--db", sqlite_url, *extra)
        assert status == 1, extra
        assert len(err.strip().splitlines()) == 1, (extra, err)
        assert err.startswith("osce-archive: ") and "Traceback" not in err
    assert not list(tmp_path.glob("**/*.part"))


def test_data_package_manifest(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt, name in (("csv", "records.csv"), ("parquet", "records.parquet")):
        folder = tmp_path / fmt
        folder.mkdir()  # an existing folder as --output asks for a data package
        status, err = run_export(
            capsys, "--db", scenario.url, "--format", fmt, "--output", str(folder)
        )
        assert status == 0, err
        manifest = json.loads((folder / "datapackage.json").read_text())
        assert manifest["profile"] == "data-package"
        data, schema = manifest["resources"]
        assert data["path"] == name
        # Parquet keeps size and hash under names Frictionless does not check (it
        # counts no bytes of a Parquet file).
        prefix = "osce_archive_" if fmt == "parquet" else ""
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert data[prefix + "hash"] == "sha256:" + digest
        assert data[prefix + "bytes"] == (folder / name).stat().st_size
        assert schema["path"] == "record.schema.json"
        assert (folder / "record.schema.json").read_text() == schema_text()
        assert (
            schema["hash"]
            == "sha256:" + hashlib.sha256((folder / "record.schema.json").read_bytes()).hexdigest()
        )
        meta = manifest["osce_archive"]
        assert meta["record_count"] == len(scenario.rounds[-1].full) == data["count"]
        assert meta["cursor"] == cursor_of(err) == scenario.rounds[-1].cursor
        assert meta["extractor_versions"] == ["test-1"]
        assert meta["archive_version"] and meta["schema_revision"]
        if fmt == "csv":
            fields = [f["name"] for f in data["schema"]["fields"]]
            assert fields == list(EXPORT_FIELDS)
            assert data["schema"]["fields"][EXPORT_FIELDS.index("sources")]["type"] == "array"
    # A path ending in "/" makes the folder.
    status, err = run_export(capsys, "--db", scenario.url, "--output", f"{tmp_path}/new/")
    assert status == 0, err
    assert (tmp_path / "new" / "records.jsonl").exists()
    assert (tmp_path / "new" / "datapackage.json").exists()
