"""Word-level differences between two versions, for people to read.

Two passes of the standard library's ``difflib.SequenceMatcher``: first over
paragraphs (a text's natural unit, and what keeps 50 KB texts fast: unchanged
paragraphs are matched whole), then, inside each run of changed paragraphs, over
words. A word token keeps its trailing whitespace so the text is rebuilt exactly,
but tokens are compared without it, so a reflowed line is not a change.

The result is plain data (:class:`TextDiff`); ``web/templates/_diff.html`` renders
it inline, side by side or as changes only, escaping every piece of text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

_TOKEN = re.compile(r"\S+\s*|\s+")
#: Words of unchanged text kept on each side of a change in "changes only".
CONTEXT_WORDS = 8

#: A piece of text and what happened to it: "equal", "delete" or "insert".
Segment = tuple[str, str]


@dataclass
class Block:
    """A run of paragraphs: unchanged, added, removed or rewritten."""

    op: str  # equal | insert | delete | replace
    old: list[str]
    new: list[str]
    segments: list[Segment] = field(default_factory=list)  # word level, for replace

    @property
    def old_segments(self) -> list[Segment]:
        return [s for s in self.segments if s[0] != "insert"]

    @property
    def new_segments(self) -> list[Segment]:
        return [s for s in self.segments if s[0] != "delete"]

    def context(self, words: int = CONTEXT_WORDS) -> list[Segment]:
        """The word segments with long unchanged stretches cut to a few words."""
        out: list[Segment] = []
        last = len(self.segments) - 1
        for i, (op, piece) in enumerate(self.segments):
            if op != "equal":
                out.append((op, piece))
                continue
            tokens = _TOKEN.findall(piece)
            if len(tokens) <= 2 * words:
                out.append((op, piece))
                continue
            head = "".join(tokens[:words]) if i > 0 else ""
            tail = "".join(tokens[-words:]) if i < last else ""
            if head:
                out.append(("equal", head))
            out.append(("gap", "… "))
            if tail:
                out.append(("equal", tail))
        return out


@dataclass
class TextDiff:
    blocks: list[Block]

    @property
    def changed(self) -> bool:
        return any(b.op != "equal" for b in self.blocks)

    def counts(self) -> dict[str, int]:
        out = {"changed": 0, "added": 0, "removed": 0}
        for b in self.blocks:
            if b.op == "replace":
                common = min(len(b.old), len(b.new))
                out["changed"] += common
                out["added"] += len(b.new) - common
                out["removed"] += len(b.old) - common
            elif b.op == "insert":
                out["added"] += len(b.new)
            elif b.op == "delete":
                out["removed"] += len(b.old)
        return out

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"op": b.op, "old": b.old, "new": b.new, "words": [list(s) for s in b.segments]}
            for b in self.blocks
            if b.op != "equal"
        ]


def words(a: str, b: str) -> list[Segment]:
    """Word-level segments turning ``a`` into ``b`` (neighbouring pieces merged)."""
    ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    matcher = SequenceMatcher(None, [t.strip() for t in ta], [t.strip() for t in tb])
    out: list[Segment] = []

    def add(op: str, piece: str) -> None:
        if not piece:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + piece)
        else:
            out.append((op, piece))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", "".join(tb[j1:j2]))
        else:
            add("delete", "".join(ta[i1:i2]))
            add("insert", "".join(tb[j1:j2]))
    return out


def paragraphs(text: str) -> list[str]:
    return [p for p in (text or "").split("\n\n") if p.strip()]


def text_diff(a: str, b: str) -> TextDiff:
    pa, pb = paragraphs(a), paragraphs(b)
    matcher = SequenceMatcher(None, pa, pb, autojunk=False)
    blocks: list[Block] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        block = Block(tag, pa[i1:i2], pb[j1:j2])
        if tag == "replace":
            block.segments = words("\n\n".join(block.old), "\n\n".join(block.new))
        blocks.append(block)
    return TextDiff(blocks)


@dataclass
class FieldDiff:
    name: str
    old: Any
    new: Any
    segments: list[Segment] = field(default_factory=list)  # for strings
    added: list[str] = field(default_factory=list)  # for lists
    removed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"field": self.name, "old": self.old, "new": self.new}


#: Fields compared besides the text, in the order the page shows them.
FIELDS = (
    "title",
    "kind",
    "published",
    "date_source",
    "place",
    "sources",
    "fields_of_work",
    "byline",
    "attachments",
    "language",
    "url",
)


@dataclass
class VersionDiff:
    a: int
    b: int
    fields: list[FieldDiff]
    text: TextDiff

    def summary(self) -> str:
        parts: list[str] = []
        counts = self.text.counts()
        for key, label in (("changed", "changed"), ("added", "added"), ("removed", "removed")):
            n = counts[key]
            if n:
                parts.append(f"{n} paragraph{'s' if n != 1 else ''} {label}")
        for f in self.fields:
            parts.append(f"{f.name.replace('_', ' ')} changed")
        return ", ".join(parts) if parts else "no change"

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "summary": self.summary(),
            "paragraphs": self.text.counts(),
            "fields": [f.to_json() for f in self.fields],
            "text": self.text.to_json(),
        }


def version_diff(a: int, old: dict[str, Any], b: int, new: dict[str, Any]) -> VersionDiff:
    """Every field and the text of record ``old`` (version ``a``) against ``new``."""
    fields: list[FieldDiff] = []
    for name in FIELDS:
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        diff = FieldDiff(name, before, after)
        if isinstance(before, list) or isinstance(after, list):
            diff.removed = [x for x in before or [] if x not in (after or [])]
            diff.added = [x for x in after or [] if x not in (before or [])]
        else:
            diff.segments = words(str(before or ""), str(after or ""))
        fields.append(diff)
    return VersionDiff(a, b, fields, text_diff(old.get("text") or "", new.get("text") or ""))
