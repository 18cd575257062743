"""Content deduplication: a republished text is ``duplicate_of`` the earlier document;
two different releases about the same meeting are not. The threshold (Jaccard >= 0.8
over word 3-shingles, ``archive.dedup``) is tested on both sides."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archive import dedup
from archive.store import Archive
from tests.archive.conftest import capture_for, make_record

MEETING_A = (
    "VIENNA, 27 June 2003 - The OSCE Forum for Security Co-operation today adopted a "
    "decision on standard elements of end-user certificates and verification procedures "
    "for small arms and light weapons exports.\n\n"
    "The decision, adopted at the Forum's plenary meeting in Vienna, commits the 55 "
    "participating States to include a common set of elements in the certificates they "
    "issue, making it harder for weapons to be diverted to illicit markets.\n\n"
    "The Chairperson of the Forum said that the agreement showed what the Organization "
    "could achieve when delegations worked together on practical measures. He thanked the "
    "delegations of Finland and the Netherlands, which had prepared the first draft, and "
    "the experts who had met in Vienna over the spring to refine it.\n\n"
    "The Forum will review how the decision is implemented at its annual assessment "
    "meeting next year, and participating States are invited to share their national "
    "practices through the OSCE information exchange."
)

# Another release about the same plenary meeting: same place, date, names and some
# stock phrases, but a different subject and different sentences.
MEETING_B = (
    "VIENNA, 27 June 2003 - The OSCE Forum for Security Co-operation today held a special "
    "plenary meeting in Vienna on the security situation in Central Asia, with "
    "presentations by the OSCE Centres in Almaty, Ashgabad and Bishkek.\n\n"
    "Heads of the field operations briefed the 55 participating States on border "
    "management projects, police assistance programmes and the destruction of surplus "
    "ammunition stockpiles that threaten nearby communities.\n\n"
    "The Chairperson of the Forum said that the meeting showed the value of regular "
    "dialogue between delegations and the field. He thanked the heads of mission for "
    "travelling to Vienna and encouraged donors to support the projects presented.\n\n"
    "A summary of the discussion will be circulated to delegations, and the Forum will "
    "return to the region's needs at its next meeting on regional co-operation."
)


def test_republished_text_is_a_duplicate_of_the_earlier_document(archive: Archive) -> None:
    original = make_record(55436, text=MEETING_A)
    archive.ingest(capture_for(original, 0), original)
    # The same release republished later as a new item, with a new title and node.
    republished = make_record(
        70001,
        section="secretariat",
        title="Forum adopts end-user certificate standards (republished)",
        published="2003-07-15",
        text=MEETING_A,
    )
    result = archive.ingest(capture_for(republished, 1), republished)
    assert result.outcome == "new_document"
    assert result.duplicate_of == original.id


def test_nearly_the_same_text_is_a_duplicate(archive: Archive) -> None:
    original = make_record(55436, text=MEETING_A)
    archive.ingest(capture_for(original, 0), original)
    edited = MEETING_A.replace("today adopted", "on Friday adopted").replace("next year", "in 2004")
    assert dedup.similarity(MEETING_A, edited) >= dedup.JACCARD_THRESHOLD
    copy = make_record(70002, published="2003-07-01", text=edited)
    assert archive.ingest(capture_for(copy, 1), copy).duplicate_of == original.id


def test_two_releases_about_the_same_meeting_are_not_duplicates(archive: Archive) -> None:
    a = make_record(55436, text=MEETING_A)
    b = make_record(55437, title="Forum discusses Central Asia", text=MEETING_B)
    assert dedup.similarity(MEETING_A, MEETING_B) < dedup.JACCARD_THRESHOLD
    archive.ingest(capture_for(a, 0), a)
    result = archive.ingest(capture_for(b, 1), b)
    assert result.outcome == "new_document" and result.duplicate_of is None


def _rewrite(text: str, every: int) -> str:
    """Replace every ``every``-th word: the lower ``every``, the less alike."""
    words = text.split(" ")
    return " ".join(f"x{i}" if i % every == 0 else w for i, w in enumerate(words))


def _pair_around_threshold() -> tuple[str, str]:
    """The nearest texts on each side of the threshold, found by measuring."""
    above = below = None
    for every in range(4, 80):
        variant = _rewrite(MEETING_A, every)
        sim = dedup.similarity(MEETING_A, variant)
        if sim >= dedup.JACCARD_THRESHOLD and above is None:
            above = variant
        if sim < dedup.JACCARD_THRESHOLD:
            below = variant
    assert above is not None and below is not None
    return above, below


@pytest.mark.parametrize("side", ["above", "below"])
def test_both_sides_of_the_threshold(archive: Archive, side: str) -> None:
    above, below = _pair_around_threshold()
    text = above if side == "above" else below
    similarity = dedup.similarity(MEETING_A, text)
    assert (similarity >= dedup.JACCARD_THRESHOLD) == (side == "above")
    assert 0.6 < similarity < 0.95  # near the threshold, not trivially far from it
    original = make_record(55436, text=MEETING_A)
    archive.ingest(capture_for(original, 0), original)
    other = make_record(70003, published="2003-08-01", text=text)
    result = archive.ingest(capture_for(other, 1), other)
    assert result.duplicate_of == (original.id if side == "above" else None)


def test_the_earlier_item_is_the_original_whatever_the_crawl_order(archive: Archive) -> None:
    # Listings run newest first, so the crawl often meets the republication first.
    republished = make_record(70001, published="2003-07-15", text=MEETING_A)
    original = make_record(55436, published="2003-06-27", text=MEETING_A)
    assert archive.ingest(capture_for(republished, 0), republished).duplicate_of is None
    assert archive.ingest(capture_for(original, 1), original).duplicate_of is None
    with archive.session() as s:
        from archive.schema import Document

        assert s.get(Document, republished.id).duplicate_of == original.id  # type: ignore[union-attr]
    kinds = [(c.document_id, c.kind) for c in archive.changes_since(0)]
    assert (republished.id, "duplicate") in kinds  # exports see the link change


def test_short_texts_are_never_duplicates(archive: Archive) -> None:
    a = make_record(1, text="Statement by the Chairperson.")
    b = make_record(2, text="Statement by the Chairperson.")
    archive.ingest(capture_for(a, 0), a)
    assert archive.ingest(capture_for(b, 1), b).duplicate_of is None


def test_lsh_finds_near_duplicates_without_comparing_everything() -> None:
    edited = replace(make_record(), text=_pair_around_threshold()[0]).text
    keys_a, keys_b = set(dedup.band_keys(MEETING_A)), set(dedup.band_keys(edited))
    assert len(keys_a) == dedup.BANDS and keys_a & keys_b  # candidates share a band key
    assert not keys_a & set(dedup.band_keys(MEETING_B))
