"""One read path: the command line's history, the Python API and the frontier's questions
resolve and read through ``archive.query``; bodies come back through one reader."""

from __future__ import annotations

import pytest

from archive import query
from archive.api import open_archive
from archive.bodies import BodyReader, body_hash
from archive.errors import ArchiveError, UnknownDocument
from archive.store import Archive
from tests.archive.conftest import capture_for, make_record

TARGETS = [
    "osce.org/55436",  # the id
    "55436",  # a bare node number
    "https://www.osce.org/fsc/55436",  # an address as seen
    "https://osce.org/fsc/55436",  # another spelling of it
    "osce.org/fsc/55436",  # no scheme
]


@pytest.mark.parametrize("target", TARGETS)
def test_history_and_the_api_resolve_a_document_alike(
    archive: Archive, db_url: str, target: str
) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    assert archive.history(target).document_id == record.id
    with open_archive(db_url) as reader:
        versions = reader.history(target)
    assert [v["id"] for v in versions] == [record.id]


def test_an_unknown_target_is_refused_by_both(archive: Archive, db_url: str) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    with pytest.raises(UnknownDocument):
        archive.history("55437")
    with archive.engine.connect() as conn:
        assert query.resolve(conn, "osce.org/fsc/55437") is None
        assert query.resolve(conn, "no address at all") is None
    with open_archive(db_url) as reader:
        with pytest.raises(ArchiveError):
            reader.history("55437")


def test_previous_run_is_plain_data(archive: Archive) -> None:
    assert archive.previous_run(None) is None
    first = archive.start_run({})
    archive.finish_run(first, "failed", {"listings_complete": False})
    second = archive.start_run({})
    assert archive.previous_run(second) == {
        "id": first,
        "outcome": "failed",
        "counters": {"listings_complete": False},
    }
    archive.finish_run(second, "ok", {})
    assert archive.previous_run(None) == {"id": second, "outcome": "ok", "counters": {}}


def test_every_reader_gets_the_same_bytes_back(archive: Archive) -> None:
    record = make_record()
    capture = capture_for(record, 0)
    archive.ingest(capture, record)
    assert capture.body is not None
    sha = body_hash(capture.body)
    with archive.engine.connect() as conn:
        assert BodyReader(conn).read(sha) == capture.body
        assert query.read_body(conn, sha) == capture.body
        assert BodyReader(conn).read(body_hash(b"never stored")) is None
    with archive.session() as s:
        assert BodyReader(s).read(sha) == capture.body
    assert archive.read_body(sha) == capture.body


def test_summary_counts_what_the_archive_holds(archive: Archive) -> None:
    record = make_record()
    run = archive.start_run({"full": True})
    archive.ingest(capture_for(record, 0, run_id=run), record)
    info = archive.summary()
    assert info["documents"] == 1 and info["versions"] == 1 and info["captures"] == 1
    assert info["lock"] is not None and info["lock"]["run_id"] == run
    assert info["runs"][0]["id"] == run and info["runs"][0]["outcome"] == "running"
    assert info["change_log_head"] == 1
    archive.finish_run(run, "ok", {})
    assert archive.summary()["lock"] is None
