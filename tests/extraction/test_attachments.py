"""Attachments on hand-written pages: files the item links to, inside the item only, by
what the link says (extension, type=, download, a label beside it), never by class name."""

from __future__ import annotations

import pytest

from crawler.sites import extract
from tests.extraction.pages import LAYOUTS, Item, render

URL = "https://www.osce.org/fsc/55436"
FILES = "https://www.osce.org/files/f/documents"


def attachments(page: str, url: str = URL) -> list[tuple[str, str]]:
    record = extract(page.encode(), url)
    assert record.is_item, record.warnings
    return [(a.title, a.url) for a in record.attachments]


def with_parts(
    body: str = "", article_end: str = "", outside: str = "", nav: str = "", foot: str = ""
) -> str:
    """An item page with extra markup in the body, at the end of the article, beside the
    article (in <main>), in the menu and in the footer."""
    page = render(Item(), extra_body=body)
    page = page.replace("</article>", article_end + "</article>", 1)
    page = page.replace("</main>", outside + "</main>", 1)
    page = page.replace("</ul></nav>", nav + "</ul></nav>", 1)
    return page.replace("<p>Terms of use</p>", "<p>Terms of use</p>" + foot, 1)


def test_a_page_without_file_links_has_none() -> None:
    assert attachments(render(Item())) == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_download_list_in_every_layout(layout: str) -> None:
    docs = (
        '<div class="q"><h3>Documents</h3><ul>'
        '<li><a href="/files/f/documents/1/55436.pdf">Final report</a> (PDF)</li>'
        '<li><a href="/files/f/documents/1/55436-annex.docx">Annex</a> (DOCX, 45 KB)</li>'
        "</ul></div>"
    )
    page = render(Item(), layout=layout, extra_body=docs)
    assert attachments(page) == [
        ("Final report", f"{FILES}/1/55436.pdf"),
        ("Annex", f"{FILES}/1/55436-annex.docx"),
    ]


def test_what_marks_a_file() -> None:
    body = (
        "<ul>"
        '<li><a href="/node/55436/download?f=1" type="application/pdf">By type</a></li>'
        '<li><a href="/get?id=2" download>By download attribute</a></li>'
        '<li><a href="/get?id=3">By label</a> [PDF, 1.2 MB]</li>'
        '<li><a href="/get?id=4">By size</a> <small>(350 KB)</small></li>'
        '<li><a href="/get?id=5">By label in the link (PDF)</a></li>'
        '<li><a href="/get?id=6">Unbracketed</a> - PDF, 2 MB</li>'
        '<li><a href="/Files/Report.PDF#page=2">By extension</a></li>'
        '<li><a href="/files/data.xlsx" title="Data tables"></a></li>'
        "</ul>"
        "<ul>"  # none of these is a file
        '<li><a href="/press-releases/rss" type="application/rss+xml">RSS</a></li>'
        '<li><a href="/fsc/55437" type="text/html">Related press release</a></li>'
        '<li><a href="/get?id=7">Report</a> on the PDF format and more words after it</li>'
        '<li><a href="/print/55436">Download PDF</a></li>'
        '<li><a href="mailto:press@osce.org?subject=x.pdf">press@osce.org</a></li>'
        '<li><a href="javascript:void(0).pdf">Open</a></li>'
        '<li><a href="/photos/1.jpg">Photo</a></li>'
        "</ul>"
    )
    assert attachments(with_parts(body=body)) == [
        ("By type", "https://www.osce.org/node/55436/download?f=1"),
        ("By download attribute", "https://www.osce.org/get?id=2"),
        ("By label", "https://www.osce.org/get?id=3"),
        ("By size", "https://www.osce.org/get?id=4"),
        ("By label in the link", "https://www.osce.org/get?id=5"),
        ("Unbracketed", "https://www.osce.org/get?id=6"),
        ("By extension", "https://www.osce.org/Files/Report.PDF"),
        ("Data tables", "https://www.osce.org/files/data.xlsx"),
    ]


def test_only_inside_the_item_in_page_order_each_once() -> None:
    pdf = '<a href="/files/f/documents/{0}.pdf">{1}</a> (PDF)'
    page = with_parts(
        body="<p>The report is "
        + pdf.format("1/report", "available here")
        + " for everyone who asked for it.</p>",
        article_end="<div><h2>Downloads</h2><ul>"
        + f"<li>{pdf.format('2/agenda', 'Agenda')}</li>"
        + f"<li>{pdf.format('1/report', 'Final report')}</li>"  # linked twice: once
        + "</ul></div><aside><p>"
        + pdf.format("9/inside-aside", "A sidebar of the article")
        + "</p></aside><template><p>"
        + pdf.format("9/template", "Never shown")
        + "</p></template>",
        outside='<div class="box"><h2>Related documents</h2><ul><li>'
        + pdf.format("9/other-item", "Another item's report")
        + "</li></ul></div>",
        nav="<li>" + pdf.format("9/menu", "Annual report") + "</li>",
        foot="<p>" + pdf.format("9/footer", "Privacy notice") + "</p>",
    )
    assert attachments(page) == [
        ("available here", f"{FILES}/1/report.pdf"),
        ("Agenda", f"{FILES}/2/agenda.pdf"),
    ]


def test_class_names_decide_nothing() -> None:
    docs = '<ul class="{0}"><li><a href="/files/f/documents/1/55436.pdf">Final report</a></li></ul>'
    site_class = render(Item(), extra_body=docs.format("osce-download-links"))
    random_class = render(Item(), extra_body=docs.format("tovaki-remu"))
    no_class = render(Item(), extra_body=docs.replace(' class="{0}"', ""))
    assert attachments(site_class) == attachments(random_class) == attachments(no_class)
    assert attachments(no_class) == [("Final report", f"{FILES}/1/55436.pdf")]


def test_addresses_are_absolute_and_the_same_from_every_alias() -> None:
    page = with_parts(
        body='<p><a href="../files/a.pdf">Relative</a> and <a href="//cdn.example.org/b.pdf">'
        'Protocol-relative</a> and <a href="https://www.un.org/report.pdf">Elsewhere</a>.</p>'
    )
    want = [
        ("Relative", "https://www.osce.org/files/a.pdf"),
        ("Protocol-relative", "https://cdn.example.org/b.pdf"),
        ("Elsewhere", "https://www.un.org/report.pdf"),
    ]
    # The canonical link names the item, so every address it is fetched at agrees.
    for url in (URL, "https://osce.org/node/55436", "http://www.osce.org/old/55436?utm_x=1"):
        assert attachments(page, url) == want
    based = page.replace("<head>", '<head><base href="https://www.osce.org/files/f/">', 1)
    assert attachments(based)[0] == ("Relative", "https://www.osce.org/files/files/a.pdf")
    based = based.replace('href="../files/a.pdf"', 'href="documents/a.pdf"')
    assert attachments(based)[0] == ("Relative", "https://www.osce.org/files/f/documents/a.pdf")


def test_title_falls_back_to_the_file_name() -> None:
    page = with_parts(body='<p><a href="/files/Annual%20report%202024.pdf"><img alt=""></a></p>')
    assert attachments(page) == [
        ("Annual report 2024.pdf", "https://www.osce.org/files/Annual%20report%202024.pdf")
    ]


def test_attachments_do_not_touch_the_record_text() -> None:
    docs = '<ul><li><a href="/files/f/documents/1/55436.pdf">Final report</a> (PDF)</li></ul>'
    plain = extract(render(Item()).encode(), URL)
    linked = extract(render(Item(), extra_body=docs).encode(), URL)
    assert linked.text == plain.text and linked.title == plain.title
    assert plain.to_json()["attachments"] == []
    assert linked.to_json()["attachments"] == [
        {"title": "Final report", "url": f"{FILES}/1/55436.pdf"}
    ]
