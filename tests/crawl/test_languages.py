"""Language versions, crawled: the replica with a share of items also at ``/ru/``, ``/fr/``,
``/de/`` addresses, crawled into a real archive.

Each version is archived once, as its own document (``osce.org/ru/<node>``), with its
language and the fields read with that language's labels; versions are linked both ways;
an edit of one language makes a version of that language's document only; the English
documents are what they are without languages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from tests.crawl.conftest import archived_records, wanted_truth
from web.testing import Server

SHARE = 0.15
LANG_PATH = re.compile(r"^/(ru|fr|de)/")


def _archived_equal(db: str, truth: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    records = {k: r for k, r in archived_records(db).items() if not r["deleted"]}
    assert set(records) == set(truth), (
        f"missing {sorted(set(truth) - set(records))[:5]}, "
        f"extra {sorted(set(records) - set(truth))[:5]}"
    )
    wrong = {k: [f for f in truth[k] if records[k][f] != truth[k][f]] for k in truth}
    wrong = {k: v for k, v in wrong.items() if v}
    assert not wrong, f"{len(wrong)} records differ from the truth: {list(wrong.items())[:3]}"
    return records


def _language_gets(log: list[Any]) -> list[str]:
    return [e.path for e in log if LANG_PATH.match(e.path)]


def _translation_paths(site: Any) -> set[str]:
    return {it.lang_path(code) for it in site.items_live() for code in site.translations(it)}


def test_versions_archived_once_linked_both_ways_and_edited_alone(
    replica_factory: Any, crawl: Any, tmp_path: Path
) -> None:
    server = replica_factory(items=200, seed=1, languages=SHARE)
    site, base = server.site, server.url
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"

    first = crawl(base, db, "--full")
    assert first.returncode == 0, first.stderr[-2000:]
    truth0 = wanted_truth(site, base)
    translated = {k: r for k, r in truth0.items() if r["language"] != "en"}
    assert {r["language"] for r in translated.values()} == {"ru", "fr", "de"}
    records = _archived_equal(db, truth0)  # language, labels' fields, language_versions
    assert first.summary["new_documents"] == len(truth0)

    # each version fetched once (those of kinds not archived too: the crawl reads a page
    # to know its kind); its id names its language, the English ids do not
    gets = _language_gets(server.log)
    assert len(gets) == len(set(gets))
    assert set(gets) == _translation_paths(site) and len(gets) > len(translated)
    for key, record in records.items():
        node = key.rsplit("/", 1)[1]
        lang = record["language"]
        assert key == (f"osce.org/{node}" if lang == "en" else f"osce.org/{lang}/{node}")
    # linked both ways: every link is answered by one back
    links = {(k, other) for k, r in records.items() for other in r["language_versions"]}
    assert links and all((b, a) in links for a, b in links)

    # --- epoch 1: one French text edited; its English and other versions stay as they were
    site.set_epoch(1)
    changes = site.changes(1)
    edited = [e["id"] for e in changes["translations_edited"] if e["id"] in truth0]
    assert edited, "the seed must edit a crawled translation"
    truth1 = wanted_truth(site, base)
    server.log.clear()
    second = crawl(base, db)
    assert second.returncode == 0, second.stderr[-2000:]
    after = _archived_equal(db, truth1)
    for doc in edited:
        assert after[doc]["version"] == 2, doc
        assert after[doc]["text"] != records[doc]["text"]
        for other in after[doc]["language_versions"]:
            if other not in changes["edited"]:
                assert after[other]["version"] == 1, other
                assert after[other]["content_hash"] == records[other]["content_hash"]
    changed = {k for k, r in after.items() if r["version"] > 1}
    date_edited = {k for k, how in changes["edits"].items() if how == "date"}
    for doc in changed - set(edited) - set(changes["edited"]):
        # only a date correction, which every language of the node shows, reaches another
        english = "osce.org/" + doc.rsplit("/", 1)[1]
        assert english in date_edited, doc
    assert second.summary["new_versions"] == len(changed)

    # --- the reading room and the API show the links
    serve = Server(db).start()
    try:
        doc = edited[0]
        with urlopen(f"{serve.url}/api/doc/{doc}", timeout=30) as answer:
            api = json.load(answer)
        assert api["language_versions"] == after[doc]["language_versions"]
        with urlopen(f"{serve.url}/doc/{doc}", timeout=30) as answer:
            html = answer.read().decode("utf-8")
        also = re.search(r'<p class="note" id="also-in">Also in: (.*?)</p>', html)
        assert also, "the document page names its other languages"
        for other in after[doc]["language_versions"]:
            assert f'href="/doc/{other}"' in also.group(1)
        names = {"en": "English", "ru": "Русский", "fr": "Français", "de": "Deutsch"}
        for other in after[doc]["language_versions"]:
            assert names[after[other]["language"]] in also.group(1)
    finally:
        serve.stop()


def test_found_from_the_item_pages_alone(replica_factory: Any, crawl: Any, tmp_path: Path) -> None:
    """A sitemap that lists English only: the versions come from the item pages' hreflang
    links and switcher, each fetched once, and only item pages lead to them."""
    server = replica_factory(items=200, seed=3, languages=SHARE, sitemap_languages=False)
    site, base = server.site, server.url
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    sitemap = server.site.render("/sitemap.xml?page=1").text
    assert not re.search(r"<loc>[^<]*/(ru|fr|de)/", sitemap)

    result = crawl(base, db, "--full")
    assert result.returncode == 0, result.stderr[-2000:]
    truth = wanted_truth(site, base)
    _archived_equal(db, truth)
    gets = _language_gets(server.log)
    assert len(gets) == len(set(gets))
    assert set(gets) == _translation_paths(site)

    # a second run, nothing changed: the versions are asked again only when their English
    # page is, and then conditionally
    server.log.clear()
    again = crawl(base, db)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.summary["new_versions"] == 0 and again.summary["new_documents"] == 0
    for entry in server.log:
        if LANG_PATH.match(entry.path):
            assert entry.if_none_match or entry.if_modified_since, entry.path
