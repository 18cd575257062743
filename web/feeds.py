"""Atom (RFC 4287) feeds of changes, built as XML trees so every value is escaped.

Entry ids are the version's permalink, which never changes meaning; ``updated`` is when
the version was first seen (or when a deletion was logged). Text that XML 1.0 cannot
carry (control characters) is dropped from feed values, never the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


@dataclass
class Entry:
    id: str
    title: str
    updated: datetime
    link: str
    summary: str
    content_html: str


def atom(*, feed_id: str, title: str, self_url: str, alternate: str, entries: list[Entry]) -> bytes:
    """The feed's bytes (UTF-8, with the XML declaration)."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})

    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> None:
        el = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: clean(v) for k, v in attrs.items()})
        if text is not None:
            el.text = clean(text)

    newest = max((e.updated for e in entries), default=datetime(1970, 1, 1, tzinfo=timezone.utc))
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", _time(newest))
    sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=alternate, type="text/html")
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    sub(author, "name", "OSCE newsroom archive")
    sub(feed, "generator", "osce-archive reading room")
    for e in entries:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        sub(entry, "id", e.id)
        sub(entry, "title", e.title or "(untitled)")
        sub(entry, "updated", _time(e.updated))
        sub(entry, "link", rel="alternate", href=e.link, type="text/html")
        sub(entry, "summary", e.summary)
        sub(entry, "content", e.content_html, type="html")
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
