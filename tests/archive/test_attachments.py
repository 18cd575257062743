"""Attachments in the archive: stored with the version, in its hash only when there are
some (so no stored hash changes on upgrade), a changed list is a new version, and an
archive from before revision 0006 gains them as extraction corrections."""

from __future__ import annotations

from dataclasses import replace

from alembic.script import ScriptDirectory
from sqlalchemy import select

from archive import migrations
from archive.api import open_archive
from archive.db import make_engine
from archive.records import Attachment, Capture, ListingEntry, Record
from archive.schema import Version
from archive.store import Archive
from archive.texts import TextReader
from archive.versioning import content_hash, normalise_content
from crawler.extraction import EXTRACTOR_VERSION
from crawler.sites import extract
from tests.archive.conftest import at, capture_for, make_record
from tests.extraction.pages import Item, render

HEAD = ScriptDirectory.from_config(migrations.alembic_config()).get_current_head()

#: ``content_hash(normalise_content(make_record()))`` computed with the code before
#: attachments existed (main at ae4bada): a document without attachments keeps it.
HASH_BEFORE_ATTACHMENTS = "sha256:670e00246682e149afdf1f3f121396f6e6e9de7e713be149283d998df6dbff10"

REPORT = Attachment("Final report", "https://www.osce.org/files/f/documents/1/55436.pdf")
ANNEX = Attachment("Annex: Agenda", "https://www.osce.org/files/f/documents/1/55436-annex.docx")


def _versions(archive: Archive, doc_id: str) -> list[Version]:
    with archive.session() as s:
        return TextReader(s).load(
            s.scalars(select(Version).where(Version.document_id == doc_id).order_by(Version.number))
        )


def test_a_document_without_attachments_keeps_its_hash() -> None:
    record = make_record()
    assert record.attachments == []
    assert content_hash(normalise_content(record)) == HASH_BEFORE_ATTACHMENTS
    with_some = replace(record, attachments=[REPORT])
    assert content_hash(normalise_content(with_some)) != HASH_BEFORE_ATTACHMENTS


def test_attachments_normalised_for_the_hash() -> None:
    record = replace(make_record(), attachments=[REPORT, ANNEX])
    spaced = replace(
        record,
        attachments=[
            Attachment("  Final \n report ", REPORT.url + " "),
            ANNEX,
            Attachment("Final report again", REPORT.url),  # the same address twice
            Attachment("no address", ""),
        ],
    )
    assert normalise_content(spaced)["attachments"] == [REPORT.to_json(), ANNEX.to_json()]
    assert content_hash(normalise_content(spaced)) == content_hash(normalise_content(record))
    swapped = replace(record, attachments=[ANNEX, REPORT])  # page order is content
    assert content_hash(normalise_content(swapped)) != content_hash(normalise_content(record))


def test_ingest_stores_them_and_a_changed_list_is_a_new_version(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        plain = make_record()
        assert archive.ingest(capture_for(plain, 0), plain).outcome == "new_document"
        first = _versions(archive, plain.id)[0]
        assert first.content_hash == HASH_BEFORE_ATTACHMENTS and first.attachments == []

        one = replace(plain, attachments=[REPORT])
        assert archive.ingest(capture_for(one, 1), one).outcome == "new_version"
        same = replace(one, attachments=[Attachment(" Final  report", REPORT.url)])
        assert archive.ingest(capture_for(same, 2), same).outcome == "unchanged"
        two = replace(plain, attachments=[REPORT, ANNEX])
        assert archive.ingest(capture_for(two, 3), two).outcome == "new_version"
        assert archive.ingest(capture_for(plain, 4), plain).outcome == "new_version"  # dropped
        versions = _versions(archive, plain.id)
        assert [v.reason for v in versions] == ["created", "changed", "changed", "changed"]
        assert versions[2].attachments == [REPORT.to_json(), ANNEX.to_json()]
        assert archive.verify() == []
        history = archive.history(plain.id)
        assert set(history.versions[1].changes) == {"attachments"}
        assert history.versions[1].changes["attachments"] == {"old": [], "new": [REPORT.to_json()]}
        assert "attachments" not in history.versions[0].changes  # none at first: not a change

    with open_archive(db_url) as reader:
        versions = list(reader.history(plain.id))
        assert [v["attachments"] for v in versions] == [
            [],
            [REPORT.to_json()],
            [REPORT.to_json(), ANNEX.to_json()],
            [],
        ]
        assert [v["reason"] for v in versions] == ["source"] * 4
        (current,) = list(reader.records())
        assert current["attachments"] == [] and current["content_hash"] == HASH_BEFORE_ATTACHMENTS
        assert list(current)[list(current).index("text") + 1] == "attachments"


# ------------------------------------------------------------- an archive from before 0006

ITEMS = [
    Item(node=55436, title="OSCE Security Conference considers fresh options"),
    Item(node=55437, title="Forum adopts a decision on small arms", place="BRUSSELS"),
]
DOWNLOADS = (
    '<ul><li><a href="/files/f/documents/1/55436.pdf">Final report</a> (PDF)</li>'
    '<li><a href="/files/f/documents/1/55436-ru.pdf">Final report (Russian version)</a> '
    "(PDF)</li></ul>"
)


def _page(item: Item) -> bytes:
    """The first item links two documents; the second none."""
    return render(item, extra_body=DOWNLOADS if item.node == 55436 else "").encode()


def before_attachments(body: bytes | str, url: str, listing: ListingEntry | None = None) -> Record:
    """The extractor before attachments: the same record, without them."""
    return replace(extract(body, url, listing=listing), attachments=[], extractor_version="old-0")


def _to_revision(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        migrations.downgrade(engine, revision)
    finally:
        engine.dispose()


def _crawl(archive: Archive, fn: object, hours: float) -> None:
    for i, item in enumerate(ITEMS):
        body = _page(item)
        url = f"https://www.osce.org/{item.section}/{item.node}"
        record = fn(body, url)  # type: ignore[operator]
        archive.ingest(Capture(url=url, status=200, fetched_at=at(hours + i), body=body), record)


def test_upgrade_keeps_hashes_and_reextract_fills_attachments_in(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _crawl(archive, before_attachments, 0)
        hashes = {v.document_id: v.content_hash for v in _versions(archive, "osce.org/55436")}
    _to_revision(db_url, "0005")  # as an archive written before attachments existed
    with Archive.open(db_url) as archive:  # migrates to head: attachments NULL
        assert migrations.current(archive.engine) == HEAD
        old = _versions(archive, "osce.org/55436")
        assert [v.attachments for v in old] == [None]
        assert {v.document_id: v.content_hash for v in old} == hashes
        assert archive.verify() == []
        counters = archive.reextract(extract, EXTRACTOR_VERSION)
        assert (counters["new_versions"], counters["unchanged"]) == (1, 1)
        assert archive.verify() == []
        latest = _versions(archive, "osce.org/55436")[-1]
        assert latest.reason == "reextracted" and latest.content_hash != hashes["osce.org/55436"]
        assert [v.number for v in _versions(archive, "osce.org/55437")] == [1]
    with open_archive(db_url) as reader:
        records = {r["id"]: r for r in reader.records()}
    assert records["osce.org/55436"]["attachments"] == [
        {"title": "Final report", "url": "https://www.osce.org/files/f/documents/1/55436.pdf"},
        {
            "title": "Final report (Russian version)",
            "url": "https://www.osce.org/files/f/documents/1/55436-ru.pdf",
        },
    ]
    assert records["osce.org/55436"]["reason"] == "extraction"
    assert records["osce.org/55437"]["attachments"] == []
    assert records["osce.org/55437"]["version"] == 1


def test_a_crawl_after_upgrade_records_them_as_a_correction(db_url: str) -> None:
    """A revisit of an unchanged page, read by the new extractor, is not a source change."""
    with Archive.open(db_url) as archive:
        _crawl(archive, before_attachments, 0)
    _to_revision(db_url, "0005")
    with Archive.open(db_url) as archive:
        _crawl(archive, extract, 24)
        with_files = _versions(archive, "osce.org/55436")
        assert [v.reason for v in with_files] == ["created", "reextracted"]
        assert len(with_files[-1].attachments or []) == 2
        assert [v.number for v in _versions(archive, "osce.org/55437")] == [1]
        # From now on the list is known: a change to it is a change at the source.
        item = ITEMS[0]
        url = f"https://www.osce.org/{item.section}/{item.node}"
        fewer = replace(extract(_page(item), url), attachments=[REPORT])
        archive.ingest(Capture(url=url, status=200, fetched_at=at(48), body=_page(item)), fewer)
        assert _versions(archive, "osce.org/55436")[-1].reason == "changed"
        assert archive.verify() == []
