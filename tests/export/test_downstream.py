"""Exports of an archive the real crawler made over three epochs of the replica, checked
by the tools downstream uses: Frictionless, warcio, pywb, wacz and Datasette.

No validator is reimplemented here: each tool runs as its users run it (its command
line, or its own Python API where that is how it is used), on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.api import open_archive
from archive.export import REVISIT_NOT_MODIFIED
from crawler.cli import main
from tests.export.conftest import ReplicaArchive

BIN = Path(sys.executable).parent
#: pywb pins an old Redis client (redis 2.10.6) that crawl --cluster's (scrapy-redis, redis
#: 4.2 or newer) cannot live beside, so it lives in an environment of its own, whose bin
#: folder OSCE_PYWB_BIN names (``.ci/run`` makes ``.venv/pywb``).
PYWB_BIN = Path(os.environ.get("OSCE_PYWB_BIN") or BIN)
#: The one field the change feed does not track (README, "Change feed").
UNTRACKED = ("last_seen",)


def tool(name: str) -> str:
    return str(BIN / name)


def pywb_tool(name: str) -> str:
    """A pywb command from its own environment; the test fails in CI, and is skipped
    elsewhere, saying how to make that environment when it is missing."""
    path = PYWB_BIN / name
    if not path.exists():
        why = (
            f"pywb's {name} is not in {PYWB_BIN}: python3 -m venv .venv/pywb && "
            ".venv/pywb/bin/pip install 'pywb>=2.9,<3', then OSCE_PYWB_BIN=.venv/pywb/bin"
        )
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return str(path)


def export(archive: ReplicaArchive, *args: str) -> None:
    assert main(["export", "--db", archive.url, *args]) == 0


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_data_packages_pass_frictionless_validate(
    replica_archive: ReplicaArchive, tmp_path: Path, fmt: str
) -> None:
    export(replica_archive, "--format", fmt, "--output", f"{tmp_path}/")
    proc = subprocess.run(
        [tool("frictionless"), "validate", "--json", "datapackage.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = json.loads(proc.stdout)
    assert report["valid"], json.dumps(report, indent=1)[:3000]
    assert proc.returncode == 0
    tasks = {task["name"]: task for task in report["tasks"]}
    assert tasks["records"]["type"] == "table" and tasks["record-schema"]["type"] == "json"
    assert tasks["records"]["stats"]["rows"] == len(replica_archive.runs[-1].full)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(tmp_path / "records.parquet")
        package = json.loads((tmp_path / "datapackage.json").read_text())
        required = {
            f["name"]
            for f in package["resources"][0]["schema"]["fields"]
            if f.get("constraints", {}).get("required")
        }
        assert {"id", "sources", "first_seen", "deleted"} <= required
        for name in schema.names:
            assert schema.field(name).nullable == (name not in required), name


def warc_records(path: Path) -> list[Any]:
    out = []
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            out.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "id": record.rec_headers.get_header("WARC-Record-ID"),
                    "date": record.rec_headers.get_header("WARC-Date"),
                    "profile": record.rec_headers.get_header("WARC-Profile"),
                    "refers": [
                        record.rec_headers.get_header(f"WARC-Refers-To{x}")
                        for x in ("", "-Target-URI", "-Date")
                    ],
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "headers": dict(record.http_headers.headers) if record.http_headers else {},
                    "payload": record.content_stream().read(),
                }
            )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:  # type: ignore[override]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_warc_is_checked_by_warcio_and_replayed_by_pywb(
    replica_archive: ReplicaArchive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warc = tmp_path / "captures.warc.gz"
    export(replica_archive, "--format", "warc", "--output", str(warc))
    printed = capsys.readouterr().err
    check = subprocess.run([tool("warcio"), "check", str(warc)], capture_output=True, timeout=120)
    assert check.returncode == 0, check.stdout[-2000:]
    records = warc_records(warc)
    kinds = Counter((r["type"], r["status"]) for r in records)
    assert kinds[("response", "200")] > 30
    assert kinds[("response", "301")] >= 1  # redirects, with their own answer
    assert kinds[("response", "410")] + kinds[("response", "404")] >= 1  # deletions
    assert kinds[("revisit", "304")] >= 1
    # Real headers as the replica sent them, not only what the archive indexes.
    redirect = next(r for r in records if r["status"] == "301")
    assert redirect["headers"]["Location"].startswith("http://127.0.0.1:")
    assert redirect["headers"].get("Server") and redirect["headers"].get("Date")
    # A 304 refers to the response it confirms: address, date and record id.
    by_id = {r["id"]: r for r in records}
    for revisit in (r for r in records if r["status"] == "304"):
        assert revisit["profile"] == REVISIT_NOT_MODIFIED
        original = by_id[revisit["refers"][0]]
        assert [original["uri"], original["date"]] == revisit["refers"][1:]
        assert original["status"] == "200" and original["uri"] == revisit["uri"]
    with open_archive(replica_archive.url) as reader:
        captures = sum(1 for c in reader_captures(reader) if c.status)
    assert f"wrote {captures} captures" in printed

    # pywb: a collection made by its own wb-manager, served by its own server on loopback.
    home = tmp_path / "pywb"
    home.mkdir()
    for args in (["init", "osce"], ["add", "osce", str(warc)]):
        subprocess.run([pywb_tool("wb-manager"), *args], cwd=home, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [pywb_tool("wayback"), "-p", str(port), "-b", "127.0.0.1"],
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/osce"
        deadline = time.monotonic() + 60
        while True:
            try:
                get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert time.monotonic() < deadline, "pywb did not start"
                time.sleep(0.3)
        responses = [r for r in records if r["type"] == "response" and r["status"] == "200"]
        for record in responses[:: max(1, len(responses) // 15)]:
            stamp = record["date"][:19].replace("-", "").replace(":", "").replace("T", "")
            status, _, body = get(f"{base}/{stamp}id_/{record['uri']}")
            assert status == 200 and body == record["payload"], record["uri"]
        # A moved item's old address replays through its redirect to the new one.
        assert replica_archive.moved_old
        moved = next(
            r
            for r in records
            if r["status"] == "301" and r["uri"].endswith(tuple(replica_archive.moved_old))
        )
        stamp = moved["date"][:19].replace("-", "").replace(":", "").replace("T", "")
        status, headers, _ = get(f"{base}/{stamp}id_/{moved['uri']}")
        assert status == 301
        target = headers["Location"]
        assert target == moved["headers"]["Location"]
        status, _, body = get(f"{base}/{stamp}id_/{target}")
        # pywb serves the capture of the new address nearest that second: the one the
        # redirect led to, or (runs seconds apart, a revisit resolved to its original) one
        # from a neighbouring run; either way one of that address's own stored answers.
        stored = {
            r["payload"]
            for r in records
            if r["uri"] == target and r["type"] == "response" and r["status"] == "200"
        }
        assert status == 200 and body in stored and b"<html" in body.lower()
    finally:
        server.terminate()
        server.wait(timeout=30)


def reader_captures(reader: Any) -> Any:
    from archive.feed import snapshot

    with snapshot(reader.engine) as snap:
        yield from snap.captures()


def test_uncompressed_warc_name(replica_archive: ReplicaArchive, tmp_path: Path) -> None:
    plain = tmp_path / "captures.warc"
    export(replica_archive, "--format", "warc", "--output", str(plain))
    assert plain.read_bytes().startswith(b"WARC/1.1\r\n")
    check = subprocess.run([tool("warcio"), "check", str(plain)], capture_output=True)
    assert check.returncode == 0


def test_wacz_passes_wacz_validate(replica_archive: ReplicaArchive, tmp_path: Path) -> None:
    out = tmp_path / "archive.wacz"
    export(replica_archive, "--format", "wacz", "--output", str(out))
    proc = subprocess.run(
        [tool("wacz"), "validate", "-f", str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(out) as packed:
        names = set(packed.namelist())
        pages = packed.read("pages/pages.jsonl").decode().splitlines()
    assert {"datapackage.json", "indexes/index.cdx.gz", "archive/captures.warc.gz"} <= names
    entries = [json.loads(line) for line in pages[1:]]
    live = {r["url"] for r in replica_archive.runs[-1].full if not r["deleted"]}
    titled = {e["url"]: e["title"] for e in entries}
    # Every live document's page is there (a few are known only at the address that
    # redirected to them, or by a canonical link the site never answered at).
    assert len(live & set(titled)) >= 0.9 * len(live), live - set(titled)
    final = {r["url"]: r["title"] for r in replica_archive.runs[-1].full if not r["deleted"]}
    assert sum(titled.get(u, "").startswith(final[u][:20]) for u in final) >= len(final) // 2


def test_as_of_between_runs_is_the_export_taken_then(replica_archive: ReplicaArchive) -> None:
    with open_archive(replica_archive.url) as reader:
        for run in replica_archive.runs:
            assert list(reader.records(as_of=run.after)) == run.full, f"epoch {run.epoch}"
    moved = replica_archive.site.changes(1)["moved"][0]  # moved between the first two runs
    urls = [{r["id"]: r["url"] for r in run.full}.get(moved["id"]) for run in replica_archive.runs]
    assert urls[0] and urls[1] and urls[0].endswith(moved["old"])
    assert urls[1].endswith(moved["new"]) and urls[2] == urls[1]


def test_feed_from_first_cursor_equals_full_export_but_last_seen(
    replica_archive: ReplicaArchive,
) -> None:
    folded: dict[str, dict[str, Any]] = {}
    for run in replica_archive.runs:
        for record in run.changes:
            folded[record["id"]] = record
    final = {r["id"]: r for r in replica_archive.runs[-1].full}
    assert sorted(folded) == sorted(final)
    moved_on = 0
    for doc_id, record in final.items():
        drop = {k: v for k, v in record.items() if k not in UNTRACKED}
        assert {k: v for k, v in folded[doc_id].items() if k not in UNTRACKED} == drop
        moved_on += folded[doc_id]["last_seen"] != record["last_seen"]
    # The untracked field really moves without a feed entry (a revisit that found no
    # change), which is why the README names it.
    assert moved_on > 0


def test_sqlite_export_opens_in_datasette(replica_archive: ReplicaArchive, tmp_path: Path) -> None:
    from datasette.app import Datasette

    db = tmp_path / "osce.db"
    export(replica_archive, "--format", "sqlite", "--output", str(db))
    metadata = json.loads((tmp_path / "osce.metadata.json").read_text())
    final = replica_archive.runs[-1].full
    word = final[0]["title"].split()[0]

    async def ask() -> dict[str, Any]:
        ds = Datasette([str(db)], metadata=metadata)
        await ds.invoke_startup()
        tables = (await ds.client.get("/osce.json")).json()
        records = (await ds.client.get("/osce/records.json?_shape=objects&_size=max")).json()
        faceted = (await ds.client.get("/osce/records.json?_size=0")).json()
        found = (await ds.client.get(f"/osce/records.json?_search={word}&_shape=objects")).json()
        versions = (await ds.client.get("/osce/versions.json?_size=0")).json()
        return {
            "tables": tables,
            "records": records,
            "faceted": faceted,
            "found": found,
            "versions": versions,
        }

    got = asyncio.run(ask())
    names = {t["name"] for t in got["tables"]["tables"] if not t["hidden"]}
    assert names == {"records", "versions"}
    rows = got["records"]["rows"]
    assert len(rows) == len(final)
    assert {r["id"] for r in rows} == {r["id"] for r in final}
    first = next(r for r in rows if r["id"] == final[0]["id"])
    assert json.loads(first["sources"]) == final[0]["sources"]
    assert first["text"] == final[0]["text"]
    by_id = {r["id"]: r for r in rows}
    linked = [r for r in final if r["attachments"]]
    assert linked, "the replica archive has items with attachments"
    for record in linked:  # a JSON array of {title, url} in a text column
        assert json.loads(by_id[record["id"]]["attachments"]) == record["attachments"]
    facets = got["faceted"]["facet_results"]
    facets = facets.get("results", facets)
    assert {"kind", "deleted"} <= set(facets)
    kinds = {v["value"]: v["count"] for v in facets["kind"]["results"]}
    assert kinds == dict(Counter(r["kind"] for r in final))
    assert got["found"]["rows"] and all(
        word.lower() in (r["title"] + r["text"]).lower() for r in got["found"]["rows"]
    )
    assert got["versions"]["filtered_table_rows_count"] >= len(final)


def test_bad_input_one_line_exit_1(
    replica_archive: ReplicaArchive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    cases = [
        ["--output", f"{a_file}/"],  # a file where a package folder is asked for
        ["--output", str(a_file / "records.jsonl")],
        ["--output", "/proc/osce-archive.jsonl"],  # a folder nobody may write in
        ["--format", "sqlite", "--output", "/proc/osce.db"],
        ["--as-of", "2001-01-01T00:00:00Z"],  # before the first run
        ["--as-of", "2999-01-01"],  # in the future
        ["--since", "12.zzzz"],
        ["--since", "3.00000000"],
    ]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for extra in cases:
        capsys.readouterr()
        assert main(["export", "--db", replica_archive.url, *extra]) == 1, extra
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and err.startswith("osce-archive: "), err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not [p for p in Path("/proc").glob("osce*")]
