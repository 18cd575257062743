"""Deletions and returns, history with diffs, the archive as of T, the change log."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from archive import query
from archive.schema import Version
from archive.store import Archive
from tests.archive.conftest import at, capture_for, make_record


def test_deletion_keeps_versions_and_a_return_is_a_new_version(archive: Archive) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    gone = archive.ingest(capture_for(None, 10, url=record.url, status=410, body=b"Gone"), None)
    assert (gone.outcome, gone.document_id) == ("deleted", record.id)
    again = archive.ingest(capture_for(None, 11, url=record.url, status=404, body=b"Gone"), None)
    assert again.outcome == "deleted"
    state = archive.address_state(record.url)
    assert state is not None and state.deleted
    with archive.session() as s:
        assert s.scalar(select(func.count()).select_from(Version)) == 1
    kinds = [c.kind for c in archive.changes_since(0)]
    assert kinds == ["created", "deleted"]  # the second 404 logs nothing new

    back = archive.ingest(capture_for(record, 20), record)
    assert (back.outcome, back.version) == ("new_version", 2)
    history = archive.history(record.id)
    assert [(v.number, v.reason) for v in history.versions] == [(1, "created"), (2, "returned")]
    assert not history.deleted
    assert [c.kind for c in archive.changes_since(0)] == ["created", "deleted", "returned"]


def test_a_dead_alias_does_not_delete_a_live_document(archive: Archive) -> None:
    record = make_record(55436, section="fsc")
    old = "https://www.osce.org/old-section/55436"
    archive.ingest(capture_for(record, 0, url=old, final_url=record.url, redirects=[old]), record)
    result = archive.ingest(capture_for(None, 5, url=old, status=404, body=b"nf"), None)
    assert result.outcome == "deleted" and result.document_id is None
    assert not archive.history(record.id).deleted


def test_history_lists_versions_oldest_first_with_field_diffs(archive: Archive) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    v2 = replace(record, title="A new title", text=record.text + "\n\nA closing paragraph.")
    archive.ingest(capture_for(v2, 24), v2)
    v3 = replace(v2, place="BRUSSELS", sources=["OSCE Secretariat"])
    archive.ingest(capture_for(v3, 48), v3)
    for target in (record.id, "55436", record.url, "https://osce.org/fsc/55436/?utm_source=x"):
        assert archive.history(target).document_id == record.id
    history = archive.history(record.id)
    assert [v.number for v in history.versions] == [1, 2, 3]
    assert [v.first_seen for v in history.versions] == [at(0), at(24), at(48)]
    second, third = history.versions[1].changes, history.versions[2].changes
    assert set(second) == {"title", "text"}
    assert second["title"] == {"old": record.title, "new": "A new title"}
    assert second["text"]["added"] == 1 and second["text"]["removed"] == 0
    assert "+A closing paragraph." in second["text"]["diff"]
    assert third == {
        "place": {"old": "VIENNA", "new": "BRUSSELS"},
        "sources": {"old": ["OSCE Chairpersonship"], "new": ["OSCE Secretariat"]},
    }


def test_as_of_shows_the_archive_as_it_stood(archive: Archive) -> None:
    a, b = make_record(1), make_record(2, text="Another text about something else entirely.")
    archive.ingest(capture_for(a, 0), a)
    archive.ingest(capture_for(b, 5), b)
    a2 = replace(a, title="Edited")
    archive.ingest(capture_for(a2, 10), a2)
    archive.ingest(capture_for(None, 15, url=b.url, status=404, body=b"nf"), None)
    archive.ingest(capture_for(b, 20), b)

    def state(hours: float) -> dict[str, tuple[int, bool]]:
        with query.snapshot(archive.engine) as snap:
            records = snap.records(query.Selection(as_of=at(hours)))
            return {r["id"]: (r["version"], r["deleted"]) for r in records}

    assert state(-1) == {}
    assert state(0) == {a.id: (1, False)}
    assert state(7) == {a.id: (1, False), b.id: (1, False)}
    assert state(12) == {a.id: (2, False), b.id: (1, False)}
    assert state(16) == {a.id: (2, False), b.id: (1, True)}
    assert state(25) == {a.id: (2, False), b.id: (2, False)}


def test_change_log_is_strictly_increasing_and_complete(archive: Archive) -> None:
    records = [
        make_record(n, text=f"Release number {n} says something of its own. " * 3)
        for n in range(1, 6)
    ]
    for i, record in enumerate(records):
        archive.ingest(capture_for(record, i), record)
    edited = replace(records[2], title="Changed")
    archive.ingest(capture_for(edited, 10), edited)
    archive.ingest(capture_for(None, 11, url=records[4].url, status=410, body=b""), None)
    archive.ingest(capture_for(records[0], 12), records[0])  # unchanged: no entry
    log = archive.changes_since(0)
    seqs = [c.seq for c in log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [(c.document_id, c.kind) for c in log[-2:]] == [
        (records[2].id, "changed"),
        (records[4].id, "deleted"),
    ]
    assert len(log) == 7
    assert [c.seq for c in archive.changes_since(seqs[4])] == seqs[5:]
