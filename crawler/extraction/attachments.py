"""The documents an item links to for download: its attachments (mostly PDFs).

An attachment is a link *inside the item* to a *file*:

- inside the item: within the lowest element that holds the item's title and its body
  (the content column), and not inside probable chrome there (a menu, a page header or
  footer, a sidebar, a dialog, something hidden); the site's menu and footer, and
  "related" boxes beside the column, are outside it;
- a file: its address ends in a file extension of the profile (``.pdf``, ``.docx``, ...),
  or its ``type=`` names a document's media type (``application/pdf``,
  ``application/vnd.…``), or it carries ``download``, or its entry marks it as one
  beside the link (``(PDF)``, ``[DOCX, 45 KB]``, ``PDF, 1.2 MB``), as link lists of
  files do.

No tag or class name decides it: the download lists of the site (``ul.osce-download-links``
on some captures) are found because their entries are files, wherever they sit in the item.
Attachments come in page order, each address once (its first title); addresses are
absolute, relative ones resolved against ``<base href>`` else the record's canonical
address, so every alias of an item gives the same list.  The title is the link's text
without a trailing file marker, else its ``title`` attribute, else the file's name.
"""

from __future__ import annotations

from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from lxml import etree

from archive.records import Attachment
from crawler.extraction.page import (
    BLOCK_TAGS,
    Page,
    chrome_between,
    collapse,
    common_ancestor,
)
from crawler.extraction.vocabulary import Vocabulary

#: Media types that are pages, feeds or data endpoints, never a document to download.
_NOT_FILES = frozenset(
    {
        "application/xhtml+xml",
        "application/xml",
        "application/json",
        "application/ld+json",
        "application/javascript",
        "application/rss+xml",
        "application/atom+xml",
    }
)
#: ``text/*`` media types that are documents.
_TEXT_FILES = frozenset({"text/csv", "text/plain", "text/rtf", "text/tab-separated-values"})
_SKIP_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "#")
#: Characters of the text after a link read for a file marker.
AFTER_CHARS = 80


def find_attachments(
    page: Page, owners: list[etree._Element], base_url: str, vocab: Vocabulary
) -> list[Attachment]:
    """The attachments of the item whose title and body lines are held by ``owners``."""
    region = common_ancestor(owners)
    if region is None:
        return []
    base = _base(page.tree, base_url)
    found: dict[str, Attachment] = {}
    for link in region.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.lower().startswith(_SKIP_SCHEMES):
            continue
        url = _absolute(base, href)
        if url is None or url in found:
            continue
        text = collapse(link.text_content())
        if not is_file(link, url, text, vocab) or chrome_between(link, region):
            continue
        found[url] = Attachment(title=_title(link, url, text, vocab), url=url)
    return list(found.values())


def is_file(link: etree._Element, url: str, text: str, vocab: Vocabulary) -> bool:
    """Does this link lead to a file (see the module docstring)?"""
    if _extension(url) in vocab.file_types:
        return True
    media = (link.get("type") or "").split(";")[0].strip().lower()
    if media and _file_media(media):
        return True
    if link.get("download") is not None:
        return True
    return bool(vocab.file_suffix.search(text) or vocab.file_marker.match(_after(link)))


def _file_media(media: str) -> bool:
    major, _, minor = media.partition("/")
    if not minor or media in _NOT_FILES or "html" in minor:
        return False
    return major == "application" or media in _TEXT_FILES


def _extension(url: str) -> str:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _after(link: etree._Element) -> str:
    """The text right after a link in its entry (its tail and inline siblings)."""
    parts = [link.tail or ""]
    sibling = link.getnext()
    while sibling is not None and sum(map(len, parts)) < AFTER_CHARS:
        tag = sibling.tag.lower() if isinstance(sibling.tag, str) else ""
        if tag in BLOCK_TAGS or tag == "a":
            break
        if tag:
            parts.append(sibling.text_content())
        parts.append(sibling.tail or "")
        sibling = sibling.getnext()
    return "".join(parts)[:AFTER_CHARS]


def _title(link: etree._Element, url: str, text: str, vocab: Vocabulary) -> str:
    title = vocab.file_suffix.sub("", text).strip()
    if title:
        return title
    for attribute in ("title", "aria-label"):
        value = collapse(link.get(attribute) or "")
        if value:
            return value
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def _base(tree: etree._Element, url: str) -> str:
    """What relative addresses resolve against: ``<base href>`` (itself resolved against
    ``url``), else ``url``."""
    for base in tree.iterfind(".//base"):
        href = str(base.get("href") or "").strip()
        if href:
            return urljoin(url, href)
    return url


def _absolute(base: str, href: str) -> str | None:
    """``href`` as an absolute http(s) address without fragment; None when it is none."""
    try:
        url = urldefrag(urljoin(base, href)).url
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


__all__ = ["find_attachments", "is_file"]
