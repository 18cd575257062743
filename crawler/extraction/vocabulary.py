"""What a site profile tells extraction: its visible labels and the lines it knows.

Extraction is generic; the words of one site (its labels, its content types, its
known furniture lines) come from its profile in ``crawler/sites`` as one :class:`Vocabulary`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from crawler.extraction.page import norm_key

#: File types an item attaches (extensions, lowercase), unless a profile says otherwise.
FILE_TYPES = frozenset("pdf doc docx odt rtf xls xlsx ods csv ppt pptx odp zip epub".split())


@dataclass(frozen=True)
class Vocabulary:
    """A site's labels and known furniture, as data (all keys lowercase)."""

    #: Content type labels as shown -> record ``kind``.
    type_labels: dict[str, str] = field(default_factory=dict)
    #: Detail labels (without the colon) -> record field: ``date``, ``place``, ``sources``,
    #: ``fields_of_work``.
    detail_labels: dict[str, str] = field(default_factory=dict)
    #: Listing entry labels -> ``ListingEntry`` attribute.
    listing_labels: dict[str, str] = field(default_factory=dict)
    #: Byline prefix word (``By``), and those of the site's other languages (``Von``).
    byline_prefix: str = "by"
    byline_prefixes: tuple[str, ...] = ()
    #: Lines that are furniture wherever they appear.
    furniture_lines: frozenset[str] = frozenset()
    #: Prefixes of furniture lines (cookie notices, share links).
    furniture_prefixes: tuple[str, ...] = ()
    #: Headings of blocks that are never body (the block goes with its heading).
    furniture_headings: frozenset[str] = frozenset()
    #: File types of attachments: address extensions, and the words that mark an entry
    #: as a file beside its link (``(PDF)``, ``[DOCX, 45 KB]``).
    file_types: frozenset[str] = FILE_TYPES

    @cached_property
    def detail_pattern(self) -> re.Pattern[str]:
        return _label_pattern(self.detail_labels)

    @cached_property
    def listing_pattern(self) -> re.Pattern[str]:
        return _label_pattern(self.listing_labels)

    @cached_property
    def byline_pattern(self) -> re.Pattern[str]:
        words = "|".join(re.escape(w) for w in (self.byline_prefix, *self.byline_prefixes))
        return re.compile(rf"^(?:{words})\s+(?P<name>\S.*)$", re.I | re.S)

    @cached_property
    def file_marker(self) -> re.Pattern[str]:
        """A file marker at the start of the text after a link: ``(PDF)``, ``[DOCX, 45
        KB]``, ``- PDF, 1.2 MB``, ``(350 KB)``; unbracketed only when nothing follows."""
        inner = _file_inner(self.file_types)
        return re.compile(
            rf"^\s*[-–—|:,]?\s*(?:[(\[]\s*{inner}\s*[)\]]|{inner}\s*$)", re.IGNORECASE
        )

    @cached_property
    def file_suffix(self) -> re.Pattern[str]:
        """A bracketed file marker ending a link's own text: ``Annual report (PDF)``."""
        inner = _file_inner(self.file_types)
        return re.compile(rf"\s*[(\[]\s*{inner}\s*[)\]]\s*$", re.IGNORECASE)

    def slug_type(self, label: str) -> str:
        """A type label as shown -> its ``kind``; unknown labels are slugged (``A b``: ``a-b``)."""
        key = norm_key(label)
        if key in self.type_labels:
            return self.type_labels[key]
        return re.sub(r"[^a-z0-9]+", "-", key).strip("-") or "page"

    def is_furniture_line(self, text: str) -> bool:
        return self.is_furniture_key(norm_key(text))

    def is_furniture_key(self, key: str) -> bool:
        """:meth:`is_furniture_line` for a key already normalised."""
        return (
            key in self.furniture_lines
            or key in self.furniture_headings
            or (bool(self.furniture_prefixes) and key.startswith(self.furniture_prefixes))
        )


def _file_inner(types: frozenset[str]) -> str:
    """A file type with an optional size, or a size alone (``PDF, 1.2 MB``, ``45 KB``)."""
    size = r"\d[\d.,]*\s*(?:[kmgt]i?b|bytes?)\b"
    names = "|".join(re.escape(t) for t in sorted(types, key=len, reverse=True)) or r"(?!x)x"
    return rf"(?:(?:{names})\b(?:\s*[,;:/|-]?\s*{size})?|{size})"


def _label_pattern(labels: dict[str, str]) -> re.Pattern[str]:
    """``^(label)\\s*(:)?\\s*(value)$`` over the given labels (whitespace-tolerant)."""
    if not labels:
        return re.compile(r"(?!x)x")
    names = sorted(labels, key=len, reverse=True)
    alts = "|".join(r"\s+".join(re.escape(w) for w in name.split()) for name in names)
    return re.compile(
        rf"^(?P<label>{alts})\s*(?P<colon>[:：])?\s*(?P<value>.*)$", re.IGNORECASE | re.DOTALL
    )
