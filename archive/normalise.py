"""What a reader sees of a text, as the versioning rule compares it, and the work on a
record's text that the archive does for a new version, done ahead where the record is
made.

:func:`normalise_text` and :func:`clean` are the rule's normal forms (``archive.versioning``
hashes what they give). :func:`prepare` gives a record's text normalised with its
near-duplicate signature (``archive.dedup``): the crawl's extraction workers compute it
beside the record (``crawler.pipelines``), so the crawling process, whose one
interpreter lock the archive's writer and the reactor share, does not (about 0.3 ms a
page, most of it the signature's hashes). The archive uses it only for the very text it
was computed from (:func:`text_of`, :func:`signature_of`), and computes it itself
otherwise, the signature only for a version it writes.

Imports: the standard library and ``archive.dedup`` (itself the standard library only):
plain functions of texts, which the extraction workers run.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from archive import dedup

_SPACE = re.compile(r"\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
# Characters that render as nothing or as a plain space.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def clean(value: str | None) -> str:
    """One line: NFC, invisible characters dropped, runs of white space one space."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value).translate(_INVISIBLE)
    return _SPACE.sub(" ", value).strip()


def optional(value: str | None) -> str | None:
    """:func:`clean`, or None for nothing."""
    return clean(value) or None


def normalise_text(text: str | None) -> str:
    """Paragraphs in order, each on one line with single spaces, one blank line between.

    Line breaks inside a paragraph, runs of spaces, tabs, non-breaking spaces and
    zero-width characters are layout, not content.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (clean(p) for p in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)


@dataclass(frozen=True)
class PreparedText:
    """A record's text (``source``, as extracted), normalised (``text``), and that
    text's near-duplicate signature without its shingles (``dedup.Signature``, which
    makes them again only if a candidate must be confirmed)."""

    source: str
    text: str
    n_words: int
    keys: tuple[int, ...]
    packed: bytes | None

    def signature(self) -> dedup.Signature:
        return dedup.Signature(self.n_words, list(self.keys), self.packed, self.text)


def prepare(source: str) -> PreparedText:
    """The text ``source`` normalised, with its signature."""
    text = normalise_text(source)
    sig = dedup.signature(text)
    return PreparedText(source, text, sig.n_words, tuple(sig.keys), sig.packed)


def _prepared(record: Any) -> PreparedText | None:
    """``record.prepared`` if it was prepared from this record's very text."""
    prepared = getattr(record, "prepared", None)
    if isinstance(prepared, PreparedText) and prepared.source == record.text:
        return prepared
    return None


def text_of(record: Any) -> str:
    """A record's text normalised: as prepared (:func:`prepare`), else made here."""
    prepared = _prepared(record)
    return prepared.text if prepared is not None else normalise_text(record.text)


def signature_of(record: Any, text: str) -> dedup.Signature:
    """The signature of ``text``, a record's normalised text (:func:`text_of`): as
    prepared, else computed here (only for a version to write: an unchanged page needs
    none)."""
    prepared = _prepared(record)
    return prepared.signature() if prepared is not None else dedup.signature(text)
