"""Pages in other languages: labels from the data file, ids, language, the versions a page links."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sites import OSCE
from crawler.sites.osce import LabelsError, load_labels, profile, read_labels
from replica.site import Site

BASE = "http://127.0.0.1:8800"
BUNDLED = Path(__file__).resolve().parents[2] / "crawler" / "data" / "labels.toml"
FIELDS = ("id", "url", "kind", "title", "published", "date_source", "place", "sources",
          "fields_of_work", "byline", "language", "text", "language_versions")  # fmt: skip


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(items=300, seed=1, languages=0.2)


def _translated(site: Site) -> list[tuple[object, str]]:
    pairs = [(it, code) for it in site.items_live() for code in site.translations(it)]
    assert {code for _, code in pairs} == {"ru", "fr", "de"}
    return pairs


def _read(site: Site, item: object, code: str, labels: object = None) -> dict[str, object]:
    url = BASE + item.lang_path(code)  # type: ignore[attr-defined]
    body = site.render(item.lang_path(code), host="127.0.0.1:8800").body  # type: ignore[attr-defined]
    reader = OSCE if labels is None else profile(labels)  # type: ignore[arg-type]
    record = reader.extract(body, url)
    return {name: getattr(record, name) for name in FIELDS}


def test_every_language_version_reads_as_its_truth(site: Site) -> None:
    for item, code in _translated(site):
        truth = site.translation_record(item, code, BASE)
        got = _read(site, item, code)
        assert got == {name: truth[name] for name in FIELDS}, (item.node, code)


def test_english_pages_link_their_versions_and_keep_their_ids(site: Site) -> None:
    for item in site.items_live():
        if not site.translations(item):
            continue
        body = site.render(item.path, host="127.0.0.1:8800").body
        record = OSCE.extract(body, BASE + item.path)
        assert record.id == item.item_id and record.language == "en"
        assert record.language_versions == [
            item.lang_id(c) for c in sorted(site.translations(item))
        ]


def test_a_language_left_out_of_the_data_is_not_read(site: Site) -> None:
    """The Russian labels come from the data file: without its table a Russian page's
    content type and labels mean nothing, and the page reads as no item."""
    text = BUNDLED.read_text("utf-8")
    start = text.index("[ru]")
    without_ru = read_labels(text[:start] + text[text.index("[fr]") :])
    item, code = next((it, c) for it, c in _translated(site) if c == "ru")
    assert _read(site, item, code)["kind"] == item.kind
    assert _read(site, item, code, without_ru)["kind"] == "page"
    # the address prefix is no language of that site either: no language id
    assert profile(without_ru).document_id(BASE + item.lang_path(code), "") != item.lang_id(code)


def test_a_language_added_in_a_data_file_is_read(site: Site, tmp_path: Path) -> None:
    """An Italian page (made from a French one with Italian labels) is read once a labels
    file has an [it] table, and not before: nothing in the code names a language."""
    item, code = next((it, c) for it, c in _translated(site) if c == "fr")
    html = site.render(item.lang_path(code), host="127.0.0.1:8800").text
    italian = (
        html.replace('lang="fr"', 'lang="it"')
        .replace("/fr/", "/it/")
        .replace("Communiqué de presse", "Comunicato stampa")
        .replace("Reportage", "Storia")
        .replace(">Lieu", ">Luogo")
        .replace(">Source", ">Fonte")
        .replace(">Domaines d&#x27;action", ">Settori di attività")
        .replace(">LIEU", ">LUOGO")
        .replace(">SOURCE", ">FONTE")
        .replace(">DOMAINES D&#x27;ACTION", ">SETTORI DI ATTIVITÀ")
    )
    labels_file = tmp_path / "labels.toml"
    labels_file.write_text(
        BUNDLED.read_text("utf-8")
        + '\n[it]\nname = "Italiano"\nbyline = ["Di"]\n'
        + '[it.details]\ndate = ["Data"]\nplace = ["Luogo"]\nsources = ["Fonte"]\n'
        + 'fields_of_work = ["Settori di attività"]\n'
        + '[it.kinds]\npress-release = ["Comunicato stampa"]\nstory = ["Storia"]\n',
        "utf-8",
    )
    url = BASE + "/it" + item.path
    truth = site.translation_record(item, code, BASE)
    with_it = profile(load_labels(str(labels_file))).extract(italian, url)
    assert with_it.id == f"osce.org/it/{item.node}"
    assert with_it.kind == item.kind
    assert (with_it.place, with_it.sources, with_it.fields_of_work) == (
        truth["place"], truth["sources"], truth["fields_of_work"],
    )  # fmt: skip
    # the bundled data has no Italian: the type label is not a known kind, the labels are
    # no labels, and /it/ is not a language prefix
    before = OSCE.extract(italian, url)
    assert before.kind != item.kind and before.place is None and before.sources == []
    assert before.id == f"osce.org/{item.node}"


def test_ids_of_language_addresses() -> None:
    assert OSCE.document_id("https://www.osce.org/ru/fsc/55436", "") == "osce.org/ru/55436"
    assert OSCE.document_id("https://www.osce.org/fsc/55436", "") == "osce.org/55436"
    assert OSCE.document_id("https://www.osce.org/en/fsc/55436", "") == "osce.org/55436"
    # a two-letter section is a section, not a language
    assert OSCE.document_id("https://www.osce.org/pc/46723", "") == "osce.org/46723"
    assert OSCE.document_id("https://www.osce.org/de/node/55436", "") == "osce.org/de/55436"
    assert OSCE.address_language("https://www.osce.org/fr/pc/46723") == "fr"
    assert OSCE.address_language("https://www.osce.org/pc/46723") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[ru\nname = 1", "not TOML"),
        ('[russian]\nname = "x"\n', "ISO 639-1"),
        ('[ru.details]\nwhen = ["Дата"]\n', "when: not one of"),
        ("[ru.kinds]\nstory = [1]\n", "expected a list of labels"),
        ("", "no language"),
    ],
)
def test_a_bad_labels_file_is_one_clear_line(text: str, says: str) -> None:
    with pytest.raises(LabelsError) as caught:
        read_labels(text, "labels.toml")
    message = str(caught.value)
    assert says in message and message.startswith("labels.toml") and "\n" not in message


def test_an_unreadable_labels_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="cannot read labels file"):
        load_labels(str(tmp_path / "missing.toml"))


def test_extract_command_prints_a_language_versions_id(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``osce-archive extract`` gives a saved language version the id the crawl gives it
    (``osce.org/<lang>/<node>``), not the null it keeps for pages that are no item."""
    import json

    from crawler.cli import main

    item, code = _translated(site)[0]
    saved = tmp_path / "page.html"
    saved.write_bytes(site.render(item.lang_path(code), host="www.osce.org").body)  # type: ignore[attr-defined]
    url = "https://www.osce.org" + item.lang_path(code)  # type: ignore[attr-defined]
    assert main(["extract", str(saved), "--url", url]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == f"osce.org/{code}/{item.node}"  # type: ignore[attr-defined]
    assert record["language"] == code
