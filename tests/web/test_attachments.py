"""The reading room shows a document's attachments: links to the original site, each with
its title and address, in the document page, the JSON API and the diff of two versions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select, text

from archive import migrations, texts
from archive.records import Attachment
from archive.schema import Document, Version
from archive.store import Archive
from archive.texts import TextReader
from tests.archive.conftest import capture_for, make_record
from tests.web.conftest import WebArchive
from web.db import readonly_engine
from web.testing import Server


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def _current(web_archive: WebArchive) -> dict[str, list[dict[str, str]]]:
    """Every document's current attachments, read from the database through the program's
    reader of versions' packs (where they are since revision 0024), not the web view."""
    engine = readonly_engine(web_archive.db)
    with engine.connect() as conn:
        reader = TextReader(conn)
        rows = conn.execute(
            select(Document.id, *texts.columns()).join(
                Version,
                (Version.document_id == Document.id) & (Version.number == Document.current_version),
            )
        ).all()
        found = {row.id: reader.fields(row)["attachments"] or [] for row in rows}
    engine.dispose()
    return found


def record_url(web_archive: WebArchive, doc: str) -> str:
    engine = readonly_engine(web_archive.db)
    with engine.connect() as conn:
        url = conn.execute(select(Document.url).where(Document.id == doc)).scalar_one()
    engine.dispose()
    return str(url)


def _links(page: str) -> list[tuple[str, str, str, str]]:
    """(title, href, rel, address shown) of each entry of the attachments list."""
    tree = lxml_html.fromstring(page)
    out = []
    for li in tree.xpath('//ul[@id="attachments"]/li'):
        (a,) = li.xpath("a")
        (code,) = li.xpath("code")
        out.append((a.text_content(), a.get("href"), a.get("rel"), code.text_content()))
    return out


def test_document_page_lists_attachments_as_links_to_the_site(
    client: httpx.Client, web_archive: WebArchive
) -> None:
    current = _current(web_archive)
    linked = sorted(doc for doc, files in current.items() if files)
    assert linked, "the reading room's replica archive has no item with attachments"
    for doc in linked[:3]:
        page = client.get(f"/doc/{doc}")
        assert page.status_code == 200
        assert ">Attachments</h2>" in page.text
        want = [(a["title"], a["url"], "nofollow noreferrer", a["url"]) for a in current[doc]]
        assert _links(page.text) == want
        # Absolute addresses on the crawled site (the replica on loopback), not ours.
        site = record_url(web_archive, doc).split("/")[2]
        assert all(url.split("/")[2] == site for _, url, _, _ in want), want
        record = client.get(f"/api/doc/{doc}").json()
        assert record["attachments"] == current[doc]
    plain = next(doc for doc, files in sorted(current.items()) if not files)
    page = client.get(f"/doc/{plain}")
    assert "None: the page links no documents for download." in page.text
    assert 'id="attachments"' in page.text and '<ul class="attachments"' not in page.text
    assert client.get(f"/api/doc/{plain}").json()["attachments"] == []
    assert "the archive keeps none" not in page.text


@pytest.fixture(scope="module")
def small_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An archive of one document in three versions: none, two attachments (one with an
    address that is no web address), none again; version 1 stored before the archive
    read attachments (NULL, as after the upgrade to revision 0006; a column then, in the
    version's pack since revision 0024, which carries the NULL over)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('small-room') / 'archive.sqlite'}"
    plain = make_record()
    hostile = Attachment('Report <b>"x"</b>', "javascript:alert(1)")
    report = Attachment("Final report", "https://www.osce.org/files/f/documents/1/55436.pdf")
    with Archive.open(db) as archive:
        archive.ingest(capture_for(plain, 0), plain)
        migrations.downgrade(archive.engine, "0023")
        with archive.engine.begin() as conn:
            conn.execute(text("update versions set attachments = null"))
    with Archive.open(db) as archive:  # upgraded again: the NULL moves into the pack
        two = replace(
            plain, text=plain.text + "\n\nOne more paragraph.", attachments=[report, hostile]
        )
        archive.ingest(capture_for(two, 1), two)
        three = replace(two, attachments=[])
        archive.ingest(capture_for(three, 2), three)
    srv = Server(db).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as client:
            yield client
    finally:
        stderr = srv.stop()
    assert "Traceback" not in stderr, stderr[-3000:]


def test_versions_before_and_after_and_a_hostile_address(small_room: httpx.Client) -> None:
    doc = "/doc/osce.org/55436"
    first = small_room.get(f"{doc}/v/1").text
    assert "None recorded: this version was archived before the archive read attachments" in first
    second = small_room.get(f"{doc}/v/2").text
    tree = lxml_html.fromstring(second)
    entries = tree.xpath('//ul[@id="attachments"]/li')
    assert len(entries) == 2
    (link,) = entries[0].xpath("a")
    assert link.get("href") == "https://www.osce.org/files/f/documents/1/55436.pdf"
    assert link.get("rel") == "nofollow noreferrer" and link.text_content() == "Final report"
    assert entries[1].xpath("a") == []  # not a web address: shown, never linked
    assert entries[1].text_content().startswith('Report <b>"x"</b>')
    assert "javascript:alert(1)" not in "".join(a.get("href") or "" for a in tree.xpath("//a"))
    assert "Report &lt;b&gt;" in second and "<b>" not in second  # escaped, not markup
    third = small_room.get(doc).text
    assert "None: the page links no documents for download." in third
    versions = small_room.get("/api/doc/osce.org/55436/versions").json()["versions"]
    assert [len(v["record"]["attachments"]) for v in versions] == [0, 2, 0]


def test_diff_shows_attachments_that_came_and_went(small_room: httpx.Client) -> None:
    page = small_room.get("/doc/osce.org/55436/diff?a=2&b=3").text
    assert "attachments changed" in page
    assert "<del>Final report (https://www.osce.org/files/f/documents/1/55436.pdf)</del>" in page
    api = small_room.get("/api/doc/osce.org/55436/diff?a=1&b=2").json()
    fields = {f["field"]: f for f in api["fields"]}
    assert fields["attachments"]["old"] == []
    titles = [a["title"] for a in fields["attachments"]["new"]]
    assert titles == ["Final report", 'Report <b>"x"</b>']
