"""Furniture learned during the crawl and kept in the archive (issue 13, point 1).

Real crawls of the replica: the first run learns the site's model from its own pages
and keeps it; a site that grows a line on every page is read without it at once (no
"source" version carrying it); a model that changes between runs (``furniture learn
--save``) makes the next run read again, from stored raw bodies, the documents it reads
differently, and those versions say ``reextracted``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from archive.db import make_engine
from archive.schema import Document, Name, Version
from crawler.extraction.page import norm_key
from crawler.sites import DEFAULT as SITE
from replica import Faults
from replica.routes import GROWN_LINE
from tests.crawl.conftest import KINDS, ROOT, archived_records

ITEMS = 60
SITE_KEY = "osce.org"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def _rows(db: str, sql: Any) -> list[Any]:
    """Rows of ``sql``: text, or a select of the archive's columns (read as the program
    reads them: names the database stores coded, decoded)."""
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql) if isinstance(sql, str) else sql).all())
    finally:
        engine.dispose()


def _versions(db: str) -> list[dict[str, Any]]:
    """Every version as a record (texts are stored compressed: read through the API)."""
    from archive.api import open_archive

    with open_archive(db) as reader:
        return list(reader.records(history=True))


def _ok(done: Any) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr[-2000:]
    return done.summary  # type: ignore[no-any-return]


def test_first_run_learns_keeps_and_names_its_model(serve: Any, crawl: Any, tmp_path: Path) -> None:
    server = serve(items=ITEMS, seed=3)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    summary = _ok(crawl(server.url, db, "--full"))
    models = _rows(db, "select host, version, pages from furniture_models order by id")
    assert models, "the first run kept no furniture model"
    host, version, pages = models[-1]
    assert host == SITE_KEY and pages >= 5
    assert summary["furniture_version"] == version and not summary["furniture_default"]
    # Every document's newest version names the run's final model.
    newest = _rows(
        db,
        select(Name.name)
        .join(Version, Version.furniture_id == Name.id)  # its name's number (revision 0043)
        .join(
            Document,
            (Document.id == Version.document_id) & (Document.current_version == Version.number),
        ),
    )
    assert newest and {row[0] for row in newest} == {version}
    # ... and no record carries a furniture line of the page it came from.
    site, base = server.site, server.url
    host_port = base.split("://", 1)[1]
    records = archived_records(db)
    furniture_hits = []
    for item in site.items_live():
        if item.kind not in KINDS or item.item_id not in records:
            continue
        shown = {norm_key(x) for x in site.gold(item, base, host_port)["furniture"]}
        lines = records[item.item_id]["text"].split("\n")
        furniture_hits += [line for line in lines if line.strip() and norm_key(line) in shown]
    assert not furniture_hits, furniture_hits[:5]
    shown_models = _cli("furniture", "show", "--db", db, "--json", cwd=tmp_path)
    assert shown_models.returncode == 0, shown_models.stderr
    assert [m["version"] for m in json.loads(shown_models.stdout)] == [m[1] for m in models]


def test_a_line_the_site_grows_is_learned_before_it_is_archived(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    server = serve(items=ITEMS, seed=5)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    first = _ok(crawl(server.url, db, "--full"))
    server.faults = Faults(grown_furniture=True)  # every item page now ends with a new line
    second = _ok(crawl(server.url, db, "--full"))
    assert second["furniture_version"] != first["furniture_version"]
    carrying = [
        (r["id"], r["version"], r["reason"]) for r in _versions(db) if GROWN_LINE[:40] in r["text"]
    ]
    assert not carrying, f"versions archived with the grown line: {carrying[:5]}"
    model = json.loads(_rows(db, "select model from furniture_models order by id desc")[0][0])
    assert norm_key(GROWN_LINE) in set(model["blocks"])
    diff = _cli("furniture", "diff", SITE_KEY, "--db", db, "--json", cwd=tmp_path)
    assert diff.returncode == 0, diff.stderr
    assert norm_key(GROWN_LINE) in json.loads(diff.stdout)["added_lines"]


def test_a_changed_model_corrects_stored_documents_as_extraction(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    server = serve(items=ITEMS, seed=7, faults=Faults(grown_furniture=True))
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    fixed = tmp_path / "default-model.json"
    SITE.default_furniture().save(fixed)  # a model that does not know the grown line
    _ok(crawl(server.url, db, "--full", "-s", f"OSCE_EXTRACT_FURNITURE={fixed}"))
    before = sum(1 for r in _versions(db) if GROWN_LINE[:40] in r["text"])
    assert before > 0, "the fixed model should have kept the grown line in the text"

    learned = _cli("furniture", "learn", SITE_KEY, "--save", "--db", db, cwd=tmp_path)
    assert learned.returncode == 0, learned.stderr
    assert norm_key(GROWN_LINE) in learned.stdout

    second = _ok(crawl(server.url, db))  # nothing changed on the site
    assert second["corrected"] == before
    current = list(archived_records(db).values())
    assert not [r for r in current if GROWN_LINE in r["text"]]
    assert sum(1 for r in current if r["reason"] == "extraction") == before
    reextracted = select(Version.document_id).where(Version.reason == "reextracted").limit(1)
    some = _rows(db, reextracted)[0][0]
    history = _cli("history", some, "--db", db, "--json", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    assert "reextracted" in history.stdout or "extraction" in history.stdout
