"""The replica's language versions: a share of items at /ru/, /fr/, /de/, edited alone,
and an English site that is exactly what it was without them."""

from __future__ import annotations

import re

from replica.site import Site

SWITCH = re.compile(
    r'<link rel="alternate" hreflang="[a-z]+" href="[^"]*">\n'
    r'|<div class="language-switcher-language-url".*?</div>\n',
    re.S,
)
LANG_ID = re.compile(r"^osce\.org/[a-z]{2}/\d+$")


def _english_changes(changes: dict) -> dict:  # type: ignore[type-arg]
    out = {k: v for k, v in changes.items() if k != "translations_edited"}
    for key in ("new", "deleted"):
        out[key] = [i for i in out[key] if not LANG_ID.match(i)]
    return out


def test_the_english_site_is_the_same_with_languages() -> None:
    plain = Site(items=300, seed=1)
    multi = Site(items=300, seed=1, languages=0.15)
    for epoch in range(4):
        plain.set_epoch(epoch)
        multi.set_epoch(epoch)
        assert _english_changes(multi.changes(epoch)) == plain.changes(epoch)
        with_versions = 0
        for item in plain.items_live():
            other = multi.by_node[item.node]
            record = multi.record(other)
            assert record.pop("language_versions") == sorted(
                other.lang_id(c) for c in multi.translations(other)
            )
            assert record == plain.record(item)
            page, bare = multi.render(item.path).text, plain.render(item.path).text
            if multi.translations(other):
                with_versions += 1
                assert page != bare and SWITCH.sub("", page) == bare
            else:
                assert page == bare
        assert 0.08 < with_versions / len(plain.items_live()) < 0.25


def test_versions_have_their_own_text_labels_and_edits() -> None:
    site = Site(items=400, seed=2, languages=0.15)
    before = {
        (it.node, code): site.translation(it, code).text
        for it in site.items_live()
        for code in site.translations(it)
    }
    texts = list(before.values())
    assert len(set(texts)) == len(texts), "every version says its own text"
    item = next(it for it in site.items_live() if len(site.translations(it)) >= 2)
    ru_or_other = site.translations(item)[0]
    page = site.render(item.lang_path(ru_or_other))
    assert page.status == 200 and page.headers["Content-Language"] == ru_or_other
    assert f'<html lang="{ru_or_other}"' in page.text
    for code in ("en", *site.translations(item)):
        assert f'hreflang="{code}" href="http://127.0.0.1{item.lang_path(code)}"' in page.text

    site.set_epoch(1)
    edited = site.changes(1)["translations_edited"]
    assert edited
    english_edits = set(site.changes(1)["edited"])
    for entry in edited:
        it = site.find(entry["of"])
        assert site.translation(it, entry["language"]).text != before[(it.node, entry["language"])]
        for code in site.translations(it):
            if code != entry["language"] and it.item_id not in english_edits:
                assert site.translation(it, code).text == before[(it.node, code)]


def test_language_addresses_redirect_and_vanish_with_their_item() -> None:
    site = Site(items=300, seed=1, languages=0.3)
    item = next(it for it in site.items_live() if 0 < len(site.translations(it)) < 3)
    code = site.translations(item)[0]
    missing = next(c for c in ("ru", "fr", "de") if c not in site.translations(item))
    alias = site.render(f"/{code}/node/{item.node}")
    assert alias.status == 301 and alias.headers["Location"].endswith(item.lang_path(code))
    assert site.render(f"/{missing}{item.path}").status == 404
    assert site.render(f"/{code}/no-such-section/1").status == 404
    # a site without languages has no such addresses
    assert Site(items=300, seed=1).render(f"/{code}{item.path}").status == 404

    gone_seen = moved_seen = 0
    for epoch in range(1, 8):
        site.set_epoch(epoch)
        ch = site.changes(epoch)
        for gone in ch["deleted"]:
            if LANG_ID.match(gone):
                lang, node = gone.split("/")[1:]
                it = site.find(node)
                assert site.render(it.lang_path(lang)).status in (404, 410)
                gone_seen += 1
        for move in ch["moved"]:
            it = site.find(move["id"])
            for lang in site.translations(it):
                moved_seen += 1
                moved = site.render(f"/{lang}{move['old']}")
                assert moved.status == 301
                assert moved.headers["Location"].endswith(f"/{lang}{move['new']}")
    assert gone_seen and moved_seen  # the seed deletes and moves items that have versions
