"""The change feed, as-of and history against an archive that lived through
create, edit, delete and return (``conftest.scenario``), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from archive.api import ArchiveReader, open_archive
from archive.errors import ArchiveError
from tests.export.builders import at
from tests.export.conftest import Scenario

#: Fields that move on every fetch without the content changing: by CONTRACT.md a feed
#: carries documents that "gained a version, were deleted or appeared", not touches.
OBSERVATION_FIELDS = ("last_seen",)


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


def without(record: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in names}


def test_each_feed_holds_exactly_what_changed(scenario: Scenario) -> None:
    r0, r1, r2, r3 = scenario.rounds
    assert sorted(by_id(r0.changes)) == [f"osce.org/{n}" for n in (1, 2, 3, 4, 5)]
    feed1 = by_id(r1.changes)
    assert sorted(feed1) == ["osce.org/2", "osce.org/4", "osce.org/6"]
    assert feed1["osce.org/2"]["version"] == 2
    assert feed1["osce.org/2"]["title"] == "Release 2 (corrected)"
    assert feed1["osce.org/4"]["deleted"] is True  # a tombstone keeps its last version
    assert feed1["osce.org/4"]["title"] == "Release 4"
    feed2 = by_id(r2.changes)
    assert sorted(feed2) == ["osce.org/4", "osce.org/5"]
    assert feed2["osce.org/4"]["deleted"] is False and feed2["osce.org/4"]["version"] == 2
    assert feed2["osce.org/5"]["deleted"] is True
    assert r3.changes == []  # only an unchanged fetch: nothing to send
    assert r3.changes_cursor == r2.cursor
    # Each round's feed cursor is the cursor of the full export taken at that moment.
    assert [r.changes_cursor for r in scenario.rounds] == [r.cursor for r in scenario.rounds]
    assert len({r0.cursor, r1.cursor, r2.cursor}) == 3


def test_feed_from_first_cursor_to_last_equals_full_export(scenario: Scenario) -> None:
    folded: dict[str, dict[str, Any]] = {}
    for round_ in scenario.rounds:
        for record in round_.changes:
            folded[record["id"]] = record  # a consumer's upsert; tombstones included
    final = by_id(scenario.rounds[-1].full)
    assert sorted(folded) == sorted(final)
    for doc_id, record in final.items():
        assert without(folded[doc_id], OBSERVATION_FIELDS) == without(record, OBSERVATION_FIELDS)
        assert folded[doc_id]["last_seen"] <= record["last_seen"]
    # Dropping tombstones gives the live documents.
    live = {k for k, v in folded.items() if not v["deleted"]}
    assert live == {"osce.org/1", "osce.org/2", "osce.org/3", "osce.org/4", "osce.org/6"}


def test_feed_since_an_old_cursor_gives_final_state(
    scenario: Scenario, reader: ArchiveReader
) -> None:
    with reader.changes(since=scenario.rounds[0].cursor) as changes:
        got = by_id(list(changes))
    final = by_id(scenario.rounds[-1].full)
    assert sorted(got) == ["osce.org/2", "osce.org/4", "osce.org/5", "osce.org/6"]
    for doc_id, record in got.items():
        assert record == final[doc_id]


def test_as_of_is_the_export_taken_then(scenario: Scenario, reader: ArchiveReader) -> None:
    for round_ in scenario.rounds:
        then = list(reader.records(as_of=at(round_.when + 0.5)))
        assert then == round_.full, f"as of round {round_.when}"
    assert list(reader.records(as_of=at(-1))) == []
    # An ISO string works as well as a datetime, and a date means the end of that day.
    text = at(1.5).isoformat().replace("+00:00", "Z")
    assert list(reader.records(as_of=text)) == scenario.rounds[1].full
    assert list(reader.records(as_of="2024-01-02")) == scenario.rounds[1].full  # 23:59:59.999


def test_history_one_record_per_version_in_stable_order(
    scenario: Scenario, reader: ArchiveReader
) -> None:
    rows = list(reader.records(history=True))
    keys = [(r["id"], r["version"]) for r in rows]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys))
    versions = {doc_id: [v for d, v in keys if d == doc_id] for doc_id, _ in keys}
    assert versions["osce.org/2"] == [1, 2]
    assert versions["osce.org/4"] == [1, 2]  # the return is a version of its own
    assert all(versions[f"osce.org/{n}"] == [1] for n in (1, 3, 5, 6))
    two = [r for r in rows if r["id"] == "osce.org/2"]
    assert [r["title"] for r in two] == ["Release 2", "Release 2 (corrected)"]
    assert two[0]["content_hash"] != two[1]["content_hash"]
    assert reader.history("osce.org/2") == two
    assert reader.history("https://osce.org/node/3")[0]["id"] == "osce.org/3"
    # The current export is the newest row of each document's history.
    newest = {r["id"]: r for r in rows}
    assert list(newest.values()) == scenario.rounds[-1].full


def test_kinds_filter(scenario: Scenario, reader: ArchiveReader) -> None:
    stories = list(reader.records(kinds=["story"]))
    assert [r["id"] for r in stories] == ["osce.org/5"]
    releases = list(reader.records(kinds="press-release"))
    assert {r["kind"] for r in releases} == {"press-release"}
    assert len(releases) + len(stories) == len(scenario.rounds[-1].full)
    assert list(reader.records(kinds="all")) == scenario.rounds[-1].full


def test_aliases_are_the_other_addresses(scenario: Scenario) -> None:
    final = by_id(scenario.rounds[-1].full)
    three = final["osce.org/3"]
    assert three["url"].endswith("/press-releases/3")
    assert len(three["aliases"]) == 1 and three["aliases"][0].endswith("/node/3")
    assert final["osce.org/1"]["aliases"] == []


def test_bad_cursors_are_one_line_errors(sqlite_url: str) -> None:
    from tests.export.conftest import build_scenario

    scenario = build_scenario(sqlite_url)
    good = scenario.rounds[1].cursor
    seq, check = good.split(".")
    wrong_check = f"{seq}.{'0' * 8 if check != '0' * 8 else '1' * 8}"
    with open_archive(sqlite_url) as reader:
        assert list(reader.changes(since=seq))  # the bare number is accepted
        for bad in ("abc", "-1", "99999", wrong_check, "1.zz"):
            with pytest.raises(ArchiveError) as exc:
                reader.changes(since=bad)
            assert "unknown cursor" in str(exc.value)
            assert "\n" not in str(exc.value)
        with pytest.raises(ArchiveError, match="cannot parse time"):
            list(reader.records(as_of="last tuesday"))
