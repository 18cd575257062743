"""Near-duplicate keys as posting lists by bucket (revision 0034, ``archive.lsh``): a page
finds a near copy stored earlier in the same transaction, a rollback leaves nothing, two
PostgreSQL transactions appending to the same buckets never deadlock, and the revision
converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive import lsh, migrations
from archive.db import make_engine
from archive.errors import ArchiveError
from archive.schema import NearDupBucket
from archive.store import Archive
from tests.archive.conftest import capture_for, make_record
from tests.archive.test_dedup import MEETING_A, MEETING_B
from tests.archive.test_lean_storage import _fill, _keys, _near_copy_is_found

EDITED = MEETING_A.replace("today adopted", "on Friday adopted").replace("next year", "in 2004")


def _buckets(engine: Any) -> dict[int, bytes]:
    with engine.connect() as conn:
        rows = conn.execute(select(NearDupBucket.bucket, NearDupBucket.entries))
        return {int(bucket): bytes(entries) for bucket, entries in rows}


def test_entries_round_trip_and_a_cut_entry_is_an_error() -> None:
    entries = [0, 1, 127, 128, 300, 2**21, 25_000 << lsh.LOW_BITS | 0x55, 2**40]
    assert list(lsh.decode(lsh.encode(entries))) == entries
    key = 0x5A_B3_C1 & ((1 << 23) - 1)
    n = lsh.entry(4242, key)
    assert lsh.version_of(n) == 4242 and lsh.key_of(lsh.bucket_of(key), n) == key
    with pytest.raises(ValueError, match="inside an entry"):
        list(lsh.decode(lsh.encode([300])[:1]))


def test_a_near_copy_in_the_same_group_is_found(db_url: str) -> None:
    original = make_record(61001, text=MEETING_A)
    copy = make_record(61002, published="2003-07-01", text=EDITED)
    other = make_record(61003, published="2003-07-01", text=MEETING_B)
    with Archive.open(db_url) as archive:
        results = archive.ingest_many(
            [(capture_for(r, i), r) for i, r in enumerate((original, copy, other))]
        )
        assert [getattr(r, "duplicate_of", "?") for r in results] == [
            None,
            "osce.org/61001",
            None,
        ]
        keys = _keys(archive.engine)
    # Each of the three texts' sixteen keys is written once, as its group committed.
    assert len(keys) == 48
    assert {d for _, d, _ in keys} == {"osce.org/61001", "osce.org/61002", "osce.org/61003"}


def test_a_rolled_back_transaction_leaves_no_entry(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        with archive.session() as s:
            with s.begin():
                lsh.add(s, 999_999, [1 << 20, 5])
                assert lsh.shared(s, [5]) == {999_999: 1}  # its own pending entries
                s.rollback()
            assert lsh.PENDING not in s.info
        assert _buckets(archive.engine) == {}
        original = make_record(61001, text=MEETING_A)
        archive.ingest(capture_for(original, 0), original)
        assert len(_keys(archive.engine)) == 16


def _upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()


def test_a_session_closed_uncommitted_or_in_a_savepoint_adds_nothing(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        s = archive.session()
        s.begin()
        lsh.add(s, 999_999, [5])
        s.close()  # no commit, no rollback called
        assert lsh.PENDING not in s.info
        with s.begin():  # the same session again: nothing left to write
            pass
        with archive.session() as s, s.begin(), s.begin_nested():
            with pytest.raises(ArchiveError, match="savepoint"):
                lsh.add(s, 999_998, [6])
        assert _buckets(archive.engine) == {}


def test_verify_names_entries_without_a_version_and_versions_without_entries(
    db_url: str,
) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        assert archive.verify() == []
        buckets = _buckets(archive.engine)
        first, second = sorted(buckets)[:2]
        lost = {lsh.version_of(n) for n in lsh.decode(buckets[second])}
        with archive.session() as s, s.begin():
            lsh.add(s, 999_999, [first << lsh.LOW_BITS])  # a version that is not stored
        with archive.engine.begin() as conn:
            conn.execute(text("DELETE FROM near_dup_buckets WHERE bucket = :b"), {"b": second})
        problems = archive.verify()
    assert "near-duplicate index: 1 entries name version id 999999, not stored" in problems
    # Each version had its entries in other buckets too: none lost all of them.
    assert lost and not [p for p in problems if "has a sketch but no entries" in p]
    with Archive.open(db_url) as archive:
        with archive.engine.begin() as conn:
            conn.execute(text("DELETE FROM near_dup_buckets"))
        orphans = [p for p in archive.verify() if "has a sketch but no entries" in p]
    assert len(orphans) >= 20


def _append_concurrently(url: str, rounds: int) -> tuple[set[tuple[int, int]], list[Any]]:
    """Two threads, each committing ``rounds`` transactions that append to 150 of the same
    200 buckets in a random order: the entries written, and the errors met."""
    engine = make_engine(url)
    written: set[tuple[int, int]] = set()
    errors: list[Any] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for n in range(rounds):
            version_id = seed * 10_000 + n
            keys = [b << lsh.LOW_BITS | seed for b in rng.sample(range(200), 150)]
            try:
                with Session(engine) as s, s.begin():
                    lsh.add(s, version_id, keys)
                with lock:
                    written.update((key, version_id) for key in keys)
            except Exception as error:  # noqa: BLE001 - counted and shown by the test
                errors.append(error)

    try:
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        found = {
            (lsh.key_of(bucket, n), lsh.version_of(n))
            for bucket, entries in _buckets(engine).items()
            for n in lsh.decode(entries)
        }
        assert found == written
    finally:
        engine.dispose()
    return written, errors


def test_two_transactions_appending_to_the_same_buckets_never_deadlock(pg_url: str) -> None:
    _upgrade(pg_url)
    written, errors = _append_concurrently(pg_url, rounds=40)
    assert errors == [] and len(written) == 2 * 40 * 150


def test_unordered_appends_would_deadlock(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above can fail: with the buckets written in the order the keys came,
    the same two threads deadlock."""
    _upgrade(pg_url)
    real: Callable[[Session], None] = lsh.write_pending

    def unordered(s: Session) -> None:
        pending = s.info.pop(lsh.PENDING, None)
        for bucket, entries in (pending or {}).items():  # as added: a random order
            lsh.append(s, [(bucket, bytes(entries))])

    monkeypatch.setattr(lsh, "write_pending", unordered)
    try:
        _, errors = _append_concurrently(pg_url, rounds=3)
    finally:
        monkeypatch.setattr(lsh, "write_pending", real)
    assert any("deadlock" in str(error) for error in errors)


def test_revision_0034_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        keys = _keys(archive.engine)
        buckets = _buckets(archive.engine)
    assert len(keys) >= 16 * 30
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0033")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM near_dup_keys")).scalar_one()
        assert rows == len(keys) and _keys(engine) == keys
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _buckets(engine) == buckets  # byte for byte: entries in version order
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert _near_copy_is_found(archive, 70008)
        assert archive.verify() == []
