"""Integrity: recompute every stored hash from the stored content.

A raw body must decompress to bytes whose sha256 is its key and whose length is its
recorded size; a version's stored text must decompress (``archive.texts``), its
normalised fields must hash to its ``content_hash`` and its text to its ``text_hash``.
Anything else means the database was altered outside the archive (or the disk lied),
and ``osce-archive verify`` names each such row.

Imports: ``archive.bodies``, ``archive.texts``, ``archive.versioning`` (the hashes) and
the schema; it reads through the session it is given, so it never needs the store.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import bodies
from archive.schema import Body, Version
from archive.texts import TextReader
from archive.versioning import content_hash, text_hash, version_content

BATCH = 200


def verify(s: Session) -> list[str]:
    """Every problem found, one line each (empty when all holds)."""
    return [*check_bodies(s), *check_versions(s)]


def check_bodies(s: Session) -> Iterator[str]:
    reader = bodies.BodyReader(s)
    keys = list(s.scalars(select(Body.sha256).order_by(Body.sha256)))
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        for body in s.scalars(select(Body).where(Body.sha256.in_(chunk))):
            try:
                data = reader.decode(body.codec, body.data, body.dict_id)
            except Exception as exc:  # noqa: BLE001 - a corrupt frame is a finding, not a crash
                yield f"body {body.sha256}: cannot be decompressed ({type(exc).__name__}: {exc})"
                continue
            actual = bodies.body_hash(data)
            if actual != body.sha256:
                yield f"body {body.sha256}: content hashes to {actual}"
            elif len(data) != body.size:
                yield f"body {body.sha256}: {len(data)} bytes stored, {body.size} recorded"
        s.expunge_all()


def check_versions(s: Session) -> Iterator[str]:
    ids = list(s.scalars(select(Version.id).order_by(Version.id)))
    reader = TextReader(s)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for version in s.scalars(select(Version).where(Version.id.in_(chunk))):
            where = f"version {version.number} of {version.document_id}"
            try:
                reader.load([version])
            except Exception as exc:  # noqa: BLE001 - a corrupt text is a finding, not a crash
                yield f"{where}: text cannot be read ({type(exc).__name__}: {exc})"
                continue
            actual = content_hash(version_content(version))
            if actual != version.content_hash:
                yield f"{where}: content hashes to {actual}, stored {version.content_hash}"
            if text_hash(version.text) != version.text_hash:
                yield f"{where}: text does not match its text_hash"
        s.expunge_all()
