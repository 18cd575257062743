"""Digests of everything the archive's readers produce from one archive, to compare code.

A refactoring of the archive must leave what it writes byte for byte the same. Run
this script on the same archive file with the old code and with the new, and compare
the two outputs (``diff``): every export format and option, the Python API, the
history, status, verify and the frontier's address states, each as a sha256.

    python tests/archive/export_digests.py scenario sqlite:////tmp/a.sqlite
    python tests/archive/export_digests.py digest sqlite:////tmp/a.sqlite > new.json

``scenario`` fills an archive from pinned captures and times (the export tests'
scenario), so two codes can also be compared on what they *ingest*: build it with each
and digest both. A crawl of the replica (``osce-archive crawl``) gives a bigger archive
to digest with both codes (its times are the wall clock's, so it is built once).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_sha(value: Any) -> str:
    return _sha(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode())


_UUID = re.compile(rb"urn:uuid:[0-9a-f-]{36}")


def _canonical_warc(data: bytes) -> bytes:
    """A WARC file without what differs from one writing to the next: its record ids
    (random UUIDs, numbered here by first appearance so references still compare) and
    the warcinfo record's date (the time of the export)."""
    raw = gzip.decompress(data)
    numbers: dict[bytes, bytes] = {}
    raw = _UUID.sub(lambda m: numbers.setdefault(m.group(0), b"id-%d" % len(numbers)), raw)
    records = raw.split(b"WARC/1.1\r\n")
    for i, record in enumerate(records):
        if b"WARC-Type: warcinfo" in record:
            records[i] = re.sub(rb"WARC-Date: [^\r]*\r\n", b"", record)
    return b"WARC/1.1\r\n".join(records)


def _canonical_manifest(data: bytes, fmt: str) -> bytes:
    """A package manifest without its creation time (and, for a WARC, the file's digest
    and size, which the canonical WARC digest stands for)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            drop = {"created"} | ({"hash", "bytes"} if fmt == "warc" else set())
            return {k: strip(v) for k, v in value.items() if k not in drop}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(json.loads(data)), sort_keys=True).encode()


def digest(url: str) -> dict[str, str]:
    from archive.api import export, open_archive
    from archive.export import FORMATS
    from archive.store import Archive
    from crawler.cli.status import collect

    out: dict[str, str] = {}
    with open_archive(url) as reader:
        records = list(reader.records(history=True))
        head = reader.cursor.split(".")[0]
        seen = sorted(r["version_seen"] for r in records)
        as_of = seen[len(seen) // 2] if seen else "2024-01-01T00:00:00Z"
        kinds = sorted({r["kind"] for r in records})
        variants: list[tuple[str, dict[str, Any]]] = [
            ("current", {}),
            ("history", {"history": True}),
            ("as_of", {"as_of": as_of}),
            ("as_of_history", {"as_of": as_of, "history": True}),
            ("kind", {"kinds": kinds[:1]}),
            ("since_0", {"since": "0"}),
            ("since_mid", {"since": str(int(head) // 2)}),
            ("since_head", {"since": reader.cursor}),
        ]
        with tempfile.TemporaryDirectory() as tmp:
            # WACZ is the WARC zipped with random record ids and times (its WARC's digest
            # stands for it).
            for fmt in (f for f in FORMATS if f != "wacz"):
                for name, options in variants:
                    if fmt in ("warc", "sqlite") and ("history" in options or "since" in options):
                        continue
                    path = Path(tmp) / f"{fmt}-{name}"
                    result = export(reader, fmt, str(path), **options)
                    data = path.read_bytes()
                    data = _canonical_warc(data) if fmt == "warc" else data
                    out[f"export {fmt} {name}"] = f"{_sha(data)} n={result.count}"
                    out[f"export {fmt} {name} cursor"] = result.cursor
                package = Path(tmp) / f"package-{fmt}"
                export(reader, fmt, str(package) + "/")
                for file in sorted(package.iterdir()):
                    data = file.read_bytes()
                    if file.name.endswith(".warc.gz"):
                        data = _canonical_warc(data)
                    elif file.suffix == ".json":
                        data = _canonical_manifest(data, fmt)
                    out[f"package {fmt} {file.name}"] = _sha(data)
        out["api records"] = _json_sha(list(reader.records()))
        out["api records history"] = _json_sha(records)
        out["api records as_of"] = _json_sha(list(reader.records(as_of=as_of)))
        ids = sorted({r["id"] for r in records})
        out["api history"] = _json_sha([reader.history(i) for i in ids])
        with reader.changes() as feed:
            out["api changes"] = _json_sha(list(feed))
        out["api changes cursor"] = feed.cursor
    with Archive.open(url) as archive:
        out["history"] = _json_sha([archive.history(i).to_json() for i in ids])
        numbers = [i.rsplit("/", 1)[-1] for i in ids[:20]]
        out["history by node"] = _json_sha([archive.history(n).to_json() for n in numbers])
        out["changes_since"] = _json_sha([vars(c) for c in archive.changes_since(0)])
        status = collect(archive)
        status.pop("database")
        out["status"] = _json_sha(status)
        out["verify"] = _json_sha(archive.verify())
        states = list(archive.iter_address_states(all_addresses=True))
        out["address states"] = _json_sha([s.as_dict() for s in states])
        urls = [s.url for s in states]
        out["address_states"] = _json_sha([s.as_dict() for s in archive.address_states(urls) if s])
        out["read_body"] = _json_sha(
            [_sha(archive.read_body(r) or b"") for r in _body_keys(archive)]
        )
    return out


def _body_keys(archive: Any) -> list[str]:
    from sqlalchemy import select

    from archive.schema import Body

    with archive.session() as s:
        return list(s.scalars(select(Body.sha256).order_by(Body.sha256)))


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if len(argv) != 2 or argv[0] not in ("scenario", "digest"):
        sys.stderr.write("usage: export_digests.py scenario|digest DB_URL\n")
        return 1
    if argv[0] == "scenario":
        from tests.export.conftest import build_scenario

        build_scenario(argv[1])
        return 0
    json.dump(digest(argv[1]), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
