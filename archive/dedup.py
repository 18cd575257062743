"""Near-duplicate texts: MinHash (one-permutation hashing) over word shingles, with LSH.

A republished release carries the text of an earlier one, sometimes with a changed
sentence, title or date. Two releases about the same meeting share names, places and
stock phrases, but not their sentences. The measure is the Jaccard similarity of the
sets of word 3-shingles (three consecutive lower-cased words):

* **duplicate** when Jaccard >= :data:`JACCARD_THRESHOLD` (0.8); an exact text-hash
  match is the fast path for identical texts;
* a text shorter than :data:`MIN_WORDS` words is never called a duplicate (a one-line
  item says too little to tell "same" from "similar").

Finding candidates never scans: each version's sketch (64 one-permutation MinHash
bins) is cut into :data:`BANDS` bands of :data:`ROWS` bins, each band hashed to one
23-bit key (:data:`KEY_BITS`) kept in the near-duplicate index (``archive.lsh``: posting
lists by bucket, read by primary key). Two texts
become candidates when any band key matches: with 16 bands of 4 rows the chance is
1-(1-s^4)^16, i.e. >99.9 % at s = 0.8, 64 % at 0.5 and 12 % at 0.3. Each candidate is
then confirmed by the exact Jaccard of the two texts, so the LSH only decides what to
compare.

Confirming costs a candidate's whole text, and unrelated releases of one site share
stock phrases: one band in 16 matches by chance often enough that the candidates of a
new text grow with the archive (about N/250 on the replica). So each version also keeps
its sketch (:func:`pack`: 64 bins of 4 bits, 32 bytes), and a candidate whose sketch
agrees with the new text's on fewer than :data:`SKETCH_FLOOR` of the bins is dropped
before its text is read: a pair at the 0.8 threshold agrees on about 52 of 64 bins (the
share of equal bins estimates the Jaccard, plus one chance agreement in 16 of the
others), six standard deviations above the floor of 32, while chance candidates
(Jaccard 0.1-0.2) agree on 10-17. Texts too short for a
stable estimate (fewer than :data:`SKETCH_MIN_WORDS` words) get no sketch and are
always confirmed on their text.

Imports: the standard library only (pure functions of texts).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

SHINGLE_WORDS = 3
JACCARD_THRESHOLD = 0.8
MIN_WORDS = 8
BINS = 64
ROWS = 4
BANDS = BINS // ROWS

#: Share of equal sketch bins below which a candidate cannot be a near-duplicate.
SKETCH_FLOOR = 0.5
#: Shorter texts leave sketch bins empty (borrowed): no sketch, always confirmed exactly.
SKETCH_MIN_WORDS = 128

#: Bits kept of each band's key (revision 0025; 31 from revision 0018, 64 before): SQLite
#: then stores a key in 3 bytes. Keys of different texts collide by chance once in 2^23:
#: 16 keys of a new text against 16 of each of 25,000 versions, about 0.8 chance
#: candidates a new text, which the sketch drops before any text is read.
KEY_BITS = 23
KEY_MASK = (1 << KEY_BITS) - 1

_WORD = re.compile(r"\w+", re.UNICODE)
_EMPTY = (1 << 58) - 1  # larger than any bin value (values are 58-bit)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(text: str) -> set[str]:
    """Word 3-shingles of ``text`` (the word sequence itself when shorter)."""
    return _shingles(words(text))


def _shingles(tokens: list[str]) -> set[str]:
    if len(tokens) < SHINGLE_WORDS:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def similarity(text_a: str, text_b: str) -> float:
    """The measure the threshold applies to: Jaccard of word 3-shingle sets."""
    return jaccard(shingles(text_a), shingles(text_b))


def is_near_duplicate(text_a: str, text_b: str) -> bool:
    if len(words(text_a)) < MIN_WORDS or len(words(text_b)) < MIN_WORDS:
        return False
    return similarity(text_a, text_b) >= JACCARD_THRESHOLD


def _h64(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


def sketch(shingle_set: Iterable[str]) -> list[int]:
    """One-permutation MinHash: one hash per shingle, the minimum kept in each of 64 bins.

    Empty bins borrow from the next non-empty bin to the right (rotation
    densification), so short texts still give comparable bands.
    """
    bins = [_EMPTY] * BINS
    for shingle in shingle_set:
        h = _h64(shingle)
        index, value = h & (BINS - 1), h >> 6
        if value < bins[index]:
            bins[index] = value
    if all(v == _EMPTY for v in bins):
        return bins
    for i in range(BINS):
        j, hops = i, 0
        while bins[j] == _EMPTY:
            j = (j + 1) % BINS
            hops += 1
        if hops:
            bins[i] = bins[j] + hops  # offset keeps borrowed values distinct per bin
    return bins


def band_keys(text: str) -> list[int]:
    """The LSH keys of ``text`` (non-negative, :data:`KEY_BITS` bits); none for short texts."""
    return signature(text).keys


def wide_band_keys(text: str) -> list[int]:
    """The keys of ``text`` as stored before revision 0018 (signed 64-bit), for its
    downgrade; each one's low :data:`KEY_BITS` bits are its key now."""
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return []
    return _wide_keys(sketch(_shingles(tokens)))


def _wide_keys(bins: list[int]) -> list[int]:
    keys = []
    for band in range(BANDS):
        chunk = ",".join(str(v) for v in bins[band * ROWS : (band + 1) * ROWS])
        key = _h64(f"{band}:{chunk}")
        keys.append(key - (1 << 64) if key >= (1 << 63) else key)
    return keys


def _keys(bins: list[int]) -> list[int]:
    return [key & KEY_MASK for key in _wide_keys(bins)]


def pack(bins: list[int]) -> bytes:
    """A sketch as stored: the low 4 bits of each bin, two bins a byte, the even bin in
    the low half (32 bytes; revision 0027; 8 bits a bin from revision 0011, 16 before).
    Two different bins agree by chance once in 16: an unrelated pair (Jaccard 0.1-0.2)
    then agrees on about a quarter of the bins, a pair at the 0.8 threshold on about
    0.81, six standard deviations above the floor of 0.5."""
    return bytes((bins[i] & 0xF) | (bins[i + 1] & 0xF) << 4 for i in range(0, len(bins), 2))


#: For a byte of two XORed sketches: how many of its two bins agree.
_EQUAL_BINS = bytes(((x & 0xF) == 0) + ((x >> 4) == 0) for x in range(256))


def agreement(a: bytes, b: bytes) -> float:
    """Share of equal bins of two packed sketches: an estimate of their Jaccard."""
    if len(a) != len(b) or not a:
        return 1.0  # not comparable (another revision's width): let the text decide
    return sum(_EQUAL_BINS[i ^ j] for i, j in zip(a, b, strict=True)) / (2 * len(a))


@dataclass
class Signature:
    """Everything dedup needs of one text, computed once: its LSH keys, packed sketch
    (``None`` when the text is too short for one) and shingles (made from ``text`` when
    first asked for, if the signature came without them: ``archive.normalise``)."""

    n_words: int
    keys: list[int]
    packed: bytes | None
    text: str = field(repr=False)
    _shingle_set: set[str] | None = field(default=None, repr=False, compare=False)

    @property
    def shingle_set(self) -> set[str]:
        if self._shingle_set is None:
            self._shingle_set = _shingles(words(self.text))
        return self._shingle_set

    def may_match(self, stored: bytes | None) -> bool:
        """Whether a near-duplicate candidate with the stored sketch ``stored`` is worth
        reading: its sketch agrees with this one on at least ``SKETCH_FLOOR`` of the
        bins, or one of the two has no sketch (then only the text can tell)."""
        if stored is None or self.packed is None:
            return True
        return agreement(self.packed, stored) >= SKETCH_FLOOR

    def near_duplicate_of(self, other_text: str) -> bool:
        """:func:`is_near_duplicate` of this text and ``other_text``."""
        if self.n_words < MIN_WORDS:
            return False
        tokens = words(other_text)
        if len(tokens) < MIN_WORDS:
            return False
        return jaccard(self.shingle_set, _shingles(tokens)) >= JACCARD_THRESHOLD


def signature(text: str) -> Signature:
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return Signature(len(tokens), [], None, text, _shingles(tokens))
    shingle_set = _shingles(tokens)
    bins = sketch(shingle_set)
    packed = pack(bins) if len(tokens) >= SKETCH_MIN_WORDS else None
    return Signature(len(tokens), _keys(bins), packed, text, shingle_set)
