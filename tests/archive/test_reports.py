"""Links of third-party articles to the items they report on, in a real archive on both
databases: made by the end-of-run refresh, one row per pair however often it runs, never a
version, in exports (current, ``--since``, ``--as-of``) in both directions, and marked
removed when they no longer hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import func, select

from archive.api import open_archive
from archive.records import Record
from archive.schema import Change, Report
from archive.store import Archive
from crawler.linking import refresh
from tests.archive.conftest import capture_for, make_record

TITLE = "OSCE Mission to Moldova co-hosts expert conference on judicial reform"
ITEM = make_record(
    node=100, section="moldova", title=TITLE, published="2023-05-10",
    sources=["OSCE Mission to Moldova"],
)  # fmt: skip
OTHER = make_record(
    node=200, section="cio", title="OSCE Chairperson-in-Office visits Ukraine",
    published="2023-05-10", sources=["OSCE Chairmanship"],
)  # fmt: skip
ARTICLE = Record(
    id="news.example/2023/05/moldova",
    url="https://news.example/2023/05/moldova",
    kind="article",
    title="Vienna diplomacy: judicial reform in Moldova",
    published="2023-05-11",
    date_source="meta",
    place=None,
    sources=[],
    fields_of_work=[],
    byline="Anna Gruber",
    language="en",
    text=f"The OSCE reported this week: '{TITLE}', a release of the OSCE Mission to Moldova.",
    extractor_version="test-1",
    links=["https://news.example/most-read", "https://www.osce.org/node/200"],
)


def _rows(archive: Archive) -> list[tuple[str, str, str, bool]]:
    with archive.session() as s:
        return [
            (r.article_id, r.item_id, r.evidence, r.removed_at is None)
            for r in s.scalars(select(Report).order_by(Report.article_id, Report.item_id))
        ]


def _records(url: str, **kw: object) -> dict[str, dict[str, object]]:
    with open_archive(url) as reader:
        return {r["id"]: r for r in reader.records(**kw)}  # type: ignore[arg-type]


def test_links_in_both_directions_once_never_a_version(archive: Archive, db_url: str) -> None:
    for hours, record in enumerate((ITEM, OTHER, ARTICLE)):
        archive.ingest(capture_for(record, hours), record)
    with archive.session() as s:
        changes_before = s.scalar(select(func.count()).select_from(Change))
    with open_archive(db_url) as reader:
        cursor = reader.cursor

    counts = refresh(archive)
    assert (counts["articles"], counts["linked"], counts["added"]) == (1, 1, 2)
    assert _rows(archive) == [
        (ARTICLE.id, "osce.org/100", "title+date+institution", True),
        (ARTICLE.id, "osce.org/200", "link", True),  # through the osce.org profile's /node/
    ]
    records = _records(db_url)
    assert records[ARTICLE.id]["reports_on"] == [
        {
            "id": "osce.org/100",
            "evidence": "title+date+institution",
            "detail": f"title '{TITLE}'; item 2023-05-10, article 2023-05-11; "
            "institution 'OSCE Mission to Moldova'",
        },
        {"id": "osce.org/200", "evidence": "link", "detail": "https://www.osce.org/node/200"},
    ]
    assert records["osce.org/100"]["reported_by"] == [ARTICLE.id]
    assert records["osce.org/100"]["reports_on"] == [] and records[ARTICLE.id]["reported_by"] == []
    assert {r["version"] for r in records.values()} == {1}  # no new version of anyone
    with archive.session() as s:
        assert s.scalar(select(func.count()).select_from(Change)) == changes_before
    # a link found after a cursor brings both its documents into --since
    with open_archive(db_url) as reader, reader.changes(since=cursor) as feed:
        assert {r["id"] for r in feed} == {ARTICLE.id, "osce.org/100", "osce.org/200"}

    # the same refresh again: the same rows, nothing added
    again = refresh(archive)
    assert (again["added"], again["updated"], again["removed"], again["kept"]) == (0, 0, 0, 2)
    assert len(_rows(archive)) == 2
    linked_at = datetime.now(timezone.utc)

    # the article changes: it no longer names the item; that link is marked removed
    changed = replace(ARTICLE, text="The OSCE reported on Moldova this week.", links=[])
    archive.ingest(capture_for(changed, 5, url=ARTICLE.url), changed)
    gone = refresh(archive)
    assert gone["removed"] == 2
    assert [row[3] for row in _rows(archive)] == [False, False]  # kept, marked removed
    now = _records(db_url)
    assert now[ARTICLE.id]["reports_on"] == [] and now["osce.org/100"]["reported_by"] == []
    then = _records(db_url, as_of=linked_at)  # as it stood: the links in force then
    assert [x["id"] for x in then[ARTICLE.id]["reports_on"]] == ["osce.org/100", "osce.org/200"]
    # found again: the same row, restored
    archive.ingest(capture_for(ARTICLE, 6, url=ARTICLE.url), ARTICLE)
    refresh(archive)
    assert [row[3] for row in _rows(archive)] == [True, True]


def test_an_archive_without_articles_costs_nothing(archive: Archive) -> None:
    archive.ingest(capture_for(ITEM, 0), ITEM)
    assert refresh(archive)["articles"] == 0
    assert _rows(archive) == []


def test_the_reading_room_escapes_what_a_link_shows(archive: Archive) -> None:
    from starlette.testclient import TestClient

    from web.app import create_app

    hostile = "OSCE <script>alert(1)</script> office opens in Skopje & Tetovo"
    item = replace(ITEM, title=hostile)
    article = replace(ARTICLE, text=f"'{hostile}', said the OSCE Mission to Moldova.", links=[])
    archive.ingest(capture_for(item, 0), item)
    archive.ingest(capture_for(article, 1), article)
    refresh(archive)
    client = TestClient(create_app(archive.engine))
    for doc_id in (ARTICLE.id, "osce.org/100"):
        page = client.get(f"/doc/{doc_id}").text
        assert "<script>alert" not in page
    page = client.get(f"/doc/{ARTICLE.id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Reports on" in page
    assert 'href="/doc/osce.org/100"' in page  # linked, its title shown escaped
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # text, title, evidence
    assert "Reported by" in client.get("/doc/osce.org/100").text
