"""Language versions in the archive: links both ways, never content, as of a time."""

from __future__ import annotations

from dataclasses import replace

from archive.api import ArchiveReader
from archive.records import Capture
from archive.store import Archive
from tests.archive.conftest import BASE, BODY_TEXT, at, capture_for, make_record

EN = make_record(55436)
RU = replace(
    make_record(55436),
    id="osce.org/ru/55436",
    url=f"{BASE}/ru/fsc/55436",
    title="Председатель ОБСЕ приветствует соглашение",
    language="ru",
    text="Это и есть то, что ОБСЕ делает на местах, и работа будет продолжена.",
)
FR = replace(
    make_record(55436),
    id="osce.org/fr/55436",
    url=f"{BASE}/fr/fsc/55436",
    title="La présidence de l'OSCE salue l'accord",
    language="fr",
    text="Les participants ont souligné que la coopération est la clé de la sécurité.",
)


def _versions(archive: Archive, as_of: str | None = None) -> dict[str, list[str]]:
    reader = ArchiveReader(archive.engine)
    return {r["id"]: r["language_versions"] for r in reader.records(as_of=as_of)}


def test_one_page_naming_the_others_links_every_pair_both_ways(archive: Archive) -> None:
    # Only the English page names its versions; the Russian page names none.
    archive.ingest(capture_for(EN, 0), replace(EN, language_versions=[RU.id, FR.id]))
    assert _versions(archive) == {EN.id: []}  # the versions it names are not archived yet
    archive.ingest(capture_for(RU, 1), RU)
    assert _versions(archive) == {EN.id: [RU.id], RU.id: [EN.id]}
    archive.ingest(capture_for(FR, 2), FR)
    assert _versions(archive) == {
        EN.id: [FR.id, RU.id],
        FR.id: [EN.id, RU.id],  # French and Russian: linked through the English page
        RU.id: [EN.id, FR.id],
    }
    # as the archive stood before the French page was fetched
    assert _versions(archive, at(1.5).isoformat()) == {EN.id: [RU.id], RU.id: [EN.id]}


def test_links_are_not_content_and_languages_version_alone(archive: Archive) -> None:
    first = archive.ingest(capture_for(EN, 0), EN)
    archive.ingest(capture_for(RU, 1), RU)
    # the English page now names the Russian one: a link, not a new version
    again = archive.ingest(capture_for(EN, 2, token="t1"), replace(EN, language_versions=[RU.id]))
    assert first.outcome == "new_document" and again.outcome == "unchanged"
    # the Russian text changes: a version of the Russian document only
    edited = replace(RU, text=RU.text + "\n\nА в следующем году работа будет продолжена.")
    result = archive.ingest(capture_for(edited, 3), edited)
    assert result.outcome == "new_version" and result.document_id == RU.id
    records = {r["id"]: r for r in ArchiveReader(archive.engine).records()}
    assert records[RU.id]["version"] == 2 and records[EN.id]["version"] == 1
    assert records[EN.id]["text"] == BODY_TEXT
    assert records[EN.id]["language_versions"] == [RU.id]
    assert records[RU.id]["language_versions"] == [EN.id]
    history = ArchiveReader(archive.engine).records(history=True)
    assert {(r["id"], r["version"]) for r in history} == {(EN.id, 1), (RU.id, 1), (RU.id, 2)}


def test_reextract_reads_the_links_from_stored_pages(archive: Archive) -> None:
    """An archive filled before links were kept (records without them) gets them from
    its stored pages, both ways, without a version."""
    from crawler.extraction import EXTRACTOR_VERSION
    from crawler.sites import extract
    from replica.site import Site

    site = Site(items=300, seed=1, languages=0.15)
    item = next(it for it in site.items_live() if len(site.translations(it)) >= 2)
    ids = {code: item.lang_id(code) for code in ("en", *site.translations(item))}
    for hours, code in enumerate(ids):
        body = site.render(item.lang_path(code), host="www.osce.org").body
        url = "https://www.osce.org" + item.lang_path(code)
        record = replace(extract(body, url), language_versions=[])  # as read before
        assert record.id == ids[code]
        archive.ingest(Capture(url=url, status=200, fetched_at=at(hours), body=body), record)
    assert all(v == [] for v in _versions(archive).values())
    counters = archive.reextract(extract, EXTRACTOR_VERSION)
    assert counters["new_versions"] == 0
    assert _versions(archive) == {
        doc: sorted(other for other in ids.values() if other != doc) for doc in ids.values()
    }
