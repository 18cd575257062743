"""Addresses become one document; a version exactly when reader-visible content changes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from archive.records import Record
from archive.schema import Address, Body, Capture, Document, Version
from archive.store import Archive
from archive.urls import normalise_address
from archive.versioning import content_hash, normalise_content
from tests.archive.conftest import BASE, capture_for, make_record


def count(archive: Archive, model: type) -> int:
    with archive.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_every_address_of_an_item_is_one_document(archive: Archive) -> None:
    record = make_record(55436)
    canonical = record.url
    spellings = [
        (f"{BASE}/node/55436", canonical, [f"{BASE}/node/55436"]),
        ("https://osce.org/fsc/55436", None, []),
        (f"{BASE}/fsc/55436/", None, []),
        (f"{BASE}/fsc/55436?utm_source=twitter&utm_medium=social&fbclid=abc", None, []),
        (f"{BASE}/fsc/55436?gclid=1#top", None, []),
        ("HTTPS://WWW.OSCE.ORG/fsc/55436", None, []),
        (f"{BASE}/old-section/55436", canonical, [f"{BASE}/old-section/55436"]),
    ]
    outcomes = []
    for i, (url, final, hops) in enumerate(spellings):
        capture = capture_for(record, i, url=url, final_url=final, redirects=hops)
        outcomes.append(archive.ingest(capture, record).outcome)
    assert outcomes == ["new_document"] + ["unchanged"] * (len(spellings) - 1)
    assert count(archive, Document) == 1 and count(archive, Version) == 1
    with archive.session() as s:
        urls = set(s.scalars(select(Address.url).where(Address.document_id == record.id)))
    assert urls == {
        "https://osce.org/fsc/55436",
        "https://osce.org/node/55436",
        "https://osce.org/old-section/55436",
    }
    for url, _, _ in spellings:
        state = archive.address_state(url)
        assert state is not None and state.document_id == "osce.org/55436"
    canonical_states = list(archive.iter_address_states())
    assert [s.url for s in canonical_states] == ["https://osce.org/fsc/55436"]


def test_address_normalisation_keeps_what_matters() -> None:
    assert normalise_address("https://www.osce.org/press-releases?page=2&rows=50") == (
        "https://osce.org/press-releases?page=2&rows=50"
    )
    assert normalise_address("https://osce.org/press-releases?rows=50&page=2&utm_x=1") == (
        "https://osce.org/press-releases?page=2&rows=50"
    )
    assert normalise_address("http://127.0.0.1:8080/fsc/1/") == "http://127.0.0.1:8080/fsc/1"
    assert normalise_address("https://osce.org:443/") == "https://osce.org/"
    assert normalise_address("http://osce.org/a") != normalise_address("http://osce.org/b")


NO_NEW_VERSION = {
    "navigation drift": dict(nav="Czech Republic | Gender equality conferences"),
    "markup churn and a rotating token": dict(token="f81d4fae-7dec"),
}


@pytest.mark.parametrize("what", list(NO_NEW_VERSION))
def test_raw_page_changes_alone_never_make_a_version(archive: Archive, what: str) -> None:
    record = make_record()
    first = archive.ingest(capture_for(record, 0), record)
    again = archive.ingest(capture_for(record, 24, **NO_NEW_VERSION[what]), record)
    assert (first.outcome, again.outcome) == ("new_document", "unchanged")
    assert count(archive, Version) == 1
    assert count(archive, Body) == 2  # the raw bytes differ and are both kept
    with archive.session() as s:
        version = s.scalars(select(Version)).one()
        assert version.last_seen == capture_for(record, 24).fetched_at


def test_whitespace_never_makes_a_version(archive: Archive) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    messy = replace(
        record,
        title="  OSCE Chairperson\twelcomes  agreement on mediation \n",
        place=" VIENNA ",
        sources=[" OSCE  Chairpersonship"],
        text="\n\n" + record.text.replace(". ", ".  \n").replace("\n\n", "\n \n\n") + "\u200b\n",
    )
    result = archive.ingest(capture_for(messy, 1, token="t1"), messy)
    assert result.outcome == "unchanged" and result.version == 1
    assert count(archive, Version) == 1


CHANGES = {
    "title": dict(title="OSCE Chairperson welcomes landmark agreement on mediation"),
    "kind": dict(kind="news"),
    "published": dict(published="2003-06-26"),
    "place": dict(place="BRUSSELS"),
    "sources": dict(sources=["OSCE Chairpersonship", "OSCE Secretariat"]),
    "fields_of_work": dict(fields_of_work=["Democratization"]),
    "byline": dict(byline="Marc Perrin de Brichambaut, OSCE Secretary General"),
    "text": dict(text=make_record().text.replace("next steps", "final steps")),
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_each_reader_visible_change_makes_exactly_one_version(archive: Archive, field: str) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    edited = replace(record, **CHANGES[field])
    assert archive.ingest(capture_for(edited, 1), edited).outcome == "new_version"
    assert archive.ingest(capture_for(edited, 2, token="t2"), edited).outcome == "unchanged"
    history = archive.history(record.id)
    assert [v.number for v in history.versions] == [1, 2]
    assert set(history.versions[1].changes) == {field}


def test_non_content_fields_do_not_make_a_version(archive: Archive) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    other = replace(record, date_source="meta", language="de", extractor_version="test-2")
    assert archive.ingest(capture_for(other, 1), other).outcome == "unchanged"


def test_content_hash_is_of_normalised_reader_visible_fields() -> None:
    record = make_record()
    content = normalise_content(record)
    assert tuple(content) == (
        "title",
        "kind",
        "published",
        "place",
        "sources",
        "fields_of_work",
        "byline",
        "text",
        "attachments",
    )
    assert content_hash(content).startswith("sha256:") and len(content_hash(content)) == 71
    spaced = replace(record, text=record.text.replace("\n\n", "\n\n\n   \n"))
    assert content_hash(normalise_content(spaced)) == content_hash(content)


def test_ingest_is_one_capture_row_per_fetch_and_bodies_once(archive: Archive) -> None:
    record = make_record()
    body = capture_for(record, 0).body
    for hour in range(3):
        archive.ingest(capture_for(record, hour, body=body), record)
    assert count(archive, Capture) == 3
    assert count(archive, Body) == 1
    assert archive.read_body(_sha(body)) == body


def _sha(body: bytes | None) -> str:
    import hashlib

    assert body is not None
    return "sha256:" + hashlib.sha256(body).hexdigest()


def test_pages_and_failures_do_not_become_documents(archive: Archive) -> None:
    page = Record(
        id="osce.org/partnerships",
        url=f"{BASE}/partnerships",
        kind="page",
        title="Partnerships",
        published=None,
        date_source=None,
        place=None,
        sources=[],
        fields_of_work=[],
        byline=None,
        language="en",
        text="Skip Links",
    )
    assert archive.ingest(capture_for(page, 0), page).outcome == "page"
    record = make_record()
    failed = capture_for(None, 1, url=record.url, status=503, body=b"busy")
    assert archive.ingest(failed, None).outcome == "failed"
    dropped = capture_for(None, 2, url=record.url, status=0, error="timeout")
    assert archive.ingest(dropped, None).outcome == "failed"
    assert count(archive, Document) == 0
    assert count(archive, Capture) == 3
    state = archive.address_state(record.url)
    assert state is not None and state.last_status == 0 and state.document_id is None


def test_not_modified_touches_and_keeps_validators(archive: Archive) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0, etag='"v1"'), record)
    result = archive.ingest(capture_for(None, 5, url=record.url, status=304), None)
    assert (result.outcome, result.document_id, result.version) == ("not_modified", record.id, 1)
    state = archive.address_state(record.url)
    assert state is not None
    assert state.etag == '"v1"' and state.last_status == 304
    assert state.last_fetched == capture_for(None, 5).fetched_at
    assert state.last_changed == capture_for(None, 0).fetched_at


def test_a_moved_item_keeps_its_id_and_takes_the_new_canonical_address(archive: Archive) -> None:
    """A 301 to another section with the same content: no version, but a new url and a
    change-log entry, so exports and the change feed learn where the item lives now."""
    record = make_record(section="fsc")
    archive.ingest(capture_for(record, 0), record)
    moved = replace(record, url=f"{BASE}/secretariat/55436")
    old_url = record.url
    result = archive.ingest(
        capture_for(moved, 1, url=old_url, final_url=moved.url, redirects=[old_url]), moved
    )
    assert result.outcome == "unchanged"
    with archive.session() as s:
        document = s.get(Document, record.id)
        assert document is not None and document.url == moved.url
        assert count(archive, Version) == 1
    kinds = [c.kind for c in archive.changes_since(0)]
    assert kinds == ["created", "moved"]
