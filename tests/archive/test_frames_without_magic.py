"""zstd frames stored without zstd's magic number (revision 0033): every kind of frame
the archive writes (bodies with the trained dictionary, against an earlier page, left
open for their text; packs whole, as deltas, following their page) leaves it out, the
program reads frames with and without it, and the revision takes it off and puts it back
byte for byte. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import zstandard
from sqlalchemy import select

from archive import bodies, compression, migrations, texts
from archive.api import open_archive
from archive.db import make_engine
from archive.schema import Body, Version
from archive.store import Archive
from tests.archive.test_text_follows_page import _fill, _whole_packs


@pytest.fixture(autouse=True)
def _dictionaries_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 20)
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)


def _frames(archive: Archive) -> dict[tuple[str, Any], tuple[str, bytes]]:
    """Every stored frame by (table, key): its codec and its bytes (of a page-following
    pack, its head frame)."""
    out: dict[tuple[str, Any], tuple[str, bytes]] = {}
    with archive.session() as s:
        for sha, codec, data in s.execute(select(Body.sha256, Body.codec, Body.data)):
            if codec != bodies.CODEC_IDENTITY:
                out["bodies", sha] = (codec, bytes(data))
        for key, codec, packed in s.execute(select(Version.id, Version.codec, Version.packed)):
            if codec == texts.CODEC_PAGE:
                out["versions", key] = (codec, texts.page_parts(packed)[0])
            elif codec != texts.CODEC_IDENTITY:
                out["versions", key] = (codec, bytes(packed))
    return out


def _stored(archive: Archive) -> dict[str, dict[Any, bytes]]:
    with archive.session() as s:
        return {
            "bodies": {k: bytes(v) for k, v in s.execute(select(Body.sha256, Body.data))},
            "versions": {k: bytes(v) for k, v in s.execute(select(Version.id, Version.packed))},
        }


def test_every_kind_of_frame_is_stored_without_the_magic_number(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        frames = _frames(archive)
    kinds = {(table, codec) for (table, _), (codec, _) in frames.items()}
    assert kinds == {
        ("bodies", bodies.CODEC_ZSTD),
        ("bodies", bodies.CODEC_REF),
        ("bodies", bodies.CODEC_OPEN),
        ("versions", texts.CODEC_ZSTD),
        ("versions", texts.CODEC_DELTA),
        ("versions", texts.CODEC_PAGE),
    }
    assert not [key for key, (_, data) in frames.items() if data[:4] == compression.FRAME_MAGIC]
    # A body's frame does not name its trained dictionary (its row does); a page left
    # open for its text and a pack's frame do (readers share the dictionary by it).
    named = {
        (table, codec): compression.frame_dict_id(data) != 0
        for (table, _), (codec, data) in frames.items()
        if codec in (bodies.CODEC_ZSTD, bodies.CODEC_OPEN, texts.CODEC_PAGE)
    }
    assert named == {
        ("bodies", bodies.CODEC_ZSTD): False,
        ("bodies", bodies.CODEC_OPEN): True,
        ("versions", texts.CODEC_ZSTD): True,
        ("versions", texts.CODEC_PAGE): True,
    }


def test_frames_read_back_with_or_without_the_magic_number() -> None:
    data = b"<p>The OSCE Mission welcomed the adoption of the law.</p>" * 20
    dictionary = compression.train([data + str(i).encode() * 50 for i in range(200)], 4096)
    codec, stored = compression.compress(data, dictionary)
    assert codec == compression.CODEC_ZSTD and stored[:4] != compression.FRAME_MAGIC
    as_before = zstandard.ZstdCompressor(
        level=10, dict_data=zstandard.ZstdCompressionDict(dictionary)
    ).compress(data)
    for frame in (stored, compression.with_magic(stored), as_before):
        assert compression.decompress(codec, frame, dictionary) == data
    assert compression.without_magic(compression.with_magic(stored)) == stored
    prefix = data[:300]
    delta = compression.compress_with_prefix(data, prefix)
    assert compression.decompress_with_prefix(compression.with_magic(delta), prefix) == data
    first, rest = compression.compress_open(data, dictionary, b"and what follows")
    assert compression.decompress_open(compression.with_magic(first), dictionary, rest) == (
        data,
        b"and what follows",
    )


def test_revision_0033_takes_the_magic_number_off_and_puts_it_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        whole = _whole_packs(archive)
        frames = _frames(archive)
        stored = _stored(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0032")
        with Archive.open(db_url, migrate=False) as archive:
            # Each frame as the code before reads it: the same bytes after the magic number.
            back = _frames(archive)
            assert back.keys() == frames.keys()
            assert {k: (c, compression.FRAME_MAGIC + d) for k, (c, d) in frames.items()} == back
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT b.data, d.data FROM bodies b JOIN compression_dicts d ON d.id = b.dict_id"
                " WHERE b.codec = '\x01'"
            ).all()
            assert rows
            for data, dictionary in rows:  # zstd's default reader, as the code before has it
                zdict = zstandard.ZstdCompressionDict(bytes(dictionary))
                zstandard.ZstdDecompressor(dict_data=zdict).decompress(bytes(data))
        # This code's text reader reads the frames as the revision left them (not migrated
        # again): every version's text and fields. (Whole records it no longer reads there:
        # the program opens no archive that is not at its own revision, and later ones
        # changed what a record is read from, such as the furniture model's number, 0043.)
        assert migrations.current(engine) == "0032"
        with engine.connect() as conn:
            reader = texts.TextReader(conn)
            table = Version.__table__
            rows = conn.execute(select(table.c.id, *texts.columns()).order_by(table.c.id))
            read = [reader.read_all(row) for row in rows]
        assert sorted(text for text, _, _ in read) == sorted(r["text"] for r in before)
        assert sorted(f["title"] for _, _, f in read) == sorted(r["title"] for r in before)
        migrations.upgrade(engine)
        migrations.check(engine)
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert _stored(archive) == stored
        assert _whole_packs(archive) == whole
        assert archive.verify() == []
