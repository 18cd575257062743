"""The furniture model that read a version is kept as its name's number (revision
0043): ``versions.furniture`` holds a number of ``names``, the same for every version
one model read; records, the ORM, ``reextract``'s stamp and the search for stale
documents read the name; the per-page and the grouped ingest store the same; the
revision converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text

from archive.api import open_archive
from archive.schema import Version
from archive.store import Archive
from archive.texts import TextReader
from tests.archive.conftest import (
    capture_for,
    make_record,
    revision_round_trip,
    written_both_ways,
)
from tests.archive.test_abbreviated_names import MODEL, NEWER, _fill


def _numbers(engine: Any) -> list[tuple[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT document_id, furniture FROM versions ORDER BY id"))
        return [(str(d), f) for d, f in rows]


def _records(db_url: str) -> list[tuple[str, Any]]:
    with open_archive(db_url) as reader:
        return sorted((r["id"], r["furniture_version"]) for r in reader.records(history=True))


def test_a_model_is_stored_once_and_read_back_by_name(db_url: str, tmp_path: Path) -> None:
    fetches = []
    for node, model in ((57001, MODEL), (57002, NEWER), (57003, None), (57004, MODEL)):
        record = replace(make_record(node), furniture_version=model)
        fetches.append((capture_for(record, node - 57000), record))
    with written_both_ways(db_url, tmp_path, fetches) as archives:
        for archive in archives:
            numbers = [n for _, n in _numbers(archive.engine)]
            assert all(isinstance(n, int) for n in numbers if n is not None)
            assert numbers[0] == numbers[3] != numbers[1] and numbers[2] is None
            with archive.session() as s:
                loaded = TextReader(s).load(s.scalars(select(Version).order_by(Version.id)))
                assert [v.furniture_version for v in loaded] == [MODEL, NEWER, None, MODEL]
            assert archive.stale_documents("osce.org", MODEL) == [
                "osce.org/57002",
                "osce.org/57003",
            ]
            # a model no version names yet: every document is stale
            assert len(archive.stale_documents("osce.org", "fm-ffffffffffffffff")) == 4
        assert _records(db_url) == [
            ("osce.org/57001", MODEL),
            ("osce.org/57002", NEWER),
            ("osce.org/57003", None),
            ("osce.org/57004", MODEL),
        ]


def test_a_page_read_again_the_same_is_stamped_with_the_new_model(db_url: str) -> None:
    record = replace(make_record(57001), furniture_version=MODEL)
    with Archive.open(db_url) as archive:
        archive.ingest(capture_for(record, 1), record)
        run_id = archive.start_run({})
        with archive.engine.connect() as conn:
            (capture_id,) = conn.execute(text("SELECT id FROM captures")).scalars()
        outcome = archive.record_correction(
            capture_id, replace(record, furniture_version=NEWER), run_id
        )
        assert outcome == "unchanged"
        assert archive.stale_documents("osce.org", NEWER) == []
        assert archive.stale_documents("osce.org", MODEL) == ["osce.org/57001"]
    assert _records(db_url) == [("osce.org/57001", NEWER)]


def test_revision_0043_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)

    def at_0042(engine: Any, _numbered: Any) -> None:
        assert "furniture" not in {c["name"] for c in inspect(engine).get_columns("versions")}
        with engine.connect() as conn:
            stored = list(
                conn.execute(text("SELECT furniture_version FROM versions ORDER BY id")).scalars()
            )
        # as revision 0023 abbreviated them: "fm-" as one character
        assert stored == ["\x04" + MODEL[3:], "\x04" + NEWER[3:], None, "\x04" + MODEL[3:]]

    revision_round_trip(db_url, "0042", _numbers, at_0042)
    with Archive.open(db_url) as archive:
        assert archive.stale_documents("osce.org", MODEL) == ["osce.org/57002", "osce.org/57003"]
