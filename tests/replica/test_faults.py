"""Every fault, switched on alone, does what it says and leaves the ground truth alone."""

from __future__ import annotations

import http.client
import time

import pytest

from replica import Faults, Site
from replica.__main__ import _faults, build_parser
from replica.textview import visible_lines
from tests.replica.http_helpers import Client


def test_errors_carry_retry_after_and_a_retry_can_succeed(replica_factory) -> None:  # type: ignore[no-untyped-def]
    faults = Faults(error_rate=0.5, retry_after=2)
    server = replica_factory(faults=faults)
    c = Client(server.url)
    paths = server.site.item_paths()[:40]
    first = [c.get(p) for p in paths]
    failed = [p for p, a in zip(paths, first, strict=True) if a.status >= 500]
    assert {a.status for a in first} == {200, 500, 503}
    assert all(a.headers["retry-after"] == "2" for a in first if a.status >= 500)
    for path in failed:
        for _ in range(10):
            if c.get(path).status == 200:
                break
        else:
            pytest.fail(f"{path} never recovered")
    # deterministic: another server with the same faults fails the same first requests
    again = replica_factory(faults=faults)
    c2 = Client(again.url)
    assert [c2.get(p).status for p in paths] == [a.status for a in first]
    assert {e.fault for e in server.log if e.status >= 500} == {"error"}


def test_slow_answers(replica_factory) -> None:  # type: ignore[no-untyped-def]
    server = replica_factory(faults=Faults(slow_rate=1.0, slow_seconds=0.3))
    c = Client(server.url)
    start = time.perf_counter()
    assert c.get("/fsc/55436").status == 200
    assert time.perf_counter() - start >= 0.3
    assert server.log[-1].fault == "slow"


def test_truncated_bodies(replica_factory) -> None:  # type: ignore[no-untyped-def]
    server = replica_factory(faults=Faults(truncate_rate=0.5))
    paths = server.site.item_paths()[:12]
    truncated = 0
    for path in paths:
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", path)
        resp = conn.getresponse()
        length = int(resp.getheader("Content-Length") or 0)
        try:
            resp.read()
        except http.client.IncompleteRead as exc:
            truncated += 1
            assert len(exc.partial) < length
        conn.close()
    assert 0 < truncated < len(paths)
    cut = [e for e in server.log if e.fault == "truncated"]
    assert len(cut) == truncated
    retry = Client(server.url)  # the next attempt at a truncated path may succeed
    assert any(
        retry.get(cut[0].path).status == 200 and server.log[-1].fault is None for _ in range(8)
    )


def _record_lines(site: Site, path: str) -> list[str]:
    item = site.by_path[path]
    c = site.content(item)
    return [c.title, *c.paragraphs]


def _contains_in_order(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(any(x == y for y in it) for x in needle)


def test_malformed_html_keeps_content_recoverable(replica_factory) -> None:  # type: ignore[no-untyped-def]
    clean = replica_factory()
    broken = replica_factory(faults=Faults(malformed_rate=1.0))
    for path in clean.site.item_paths()[::40]:
        good = Client(clean.url).get(path).body
        bad = Client(broken.url).get(path).body
        assert bad != good and b"</li>" not in bad and b"</p>" not in bad
        assert b"</nav></div></span></section>" in bad
        lines = visible_lines(bad)
        assert _contains_in_order(_record_lines(broken.site, path), lines)
    listing = Client(broken.url).get("/press-releases").body
    assert b"</p>" not in listing and b"Publishing date:" in listing


def test_wrong_charset_declaration(replica_factory) -> None:  # type: ignore[no-untyped-def]
    server = replica_factory(faults=Faults(wrong_charset_rate=1.0))
    answer = Client(server.url).get("/secretary-general/74289")
    assert answer.headers["content-type"] == "text/html; charset=iso-8859-1"
    assert b'<meta charset="utf-8">' in answer.body
    text = answer.body.decode("utf-8")  # the bytes are UTF-8 all the same
    assert "in your own home – it could mean" in text
    trusting_the_header = answer.body.decode("iso-8859-1")
    assert "in your own home – it could mean" not in trusting_the_header
    assert "home \u00e2\u0080\u0093 it could" in trusting_the_header


def test_oversized_page(replica_factory) -> None:  # type: ignore[no-untyped-def]
    server = replica_factory(faults=Faults(oversized_rate=1.0, oversized_bytes=2_000_000))
    c = Client(server.url)
    answer = c.get("/fsc/55436", Accept_Encoding="gzip")
    assert len(answer.raw) > 1_000_000  # incompressible, even gzipped
    body = answer.body
    assert len(body) > 2_000_000
    end_of_content = body.index(b"Background information and speeches")
    assert end_of_content < 100_000  # the padding comes after every piece of content


def test_redirect_loop(replica_factory) -> None:  # type: ignore[no-untyped-def]
    looping = replica_factory(faults=Faults(redirect_loop=True))
    c = Client(looping.url)
    a, b = c.get("/loop/a"), c.get("/loop/b")
    assert a.status == 302 and a.headers["location"] == looping.url + "/loop/b"
    assert b.status == 302 and b.headers["location"] == looping.url + "/loop/a"
    assert 'href="/loop/a"' in c.get("/fsc/55436").text
    calm = replica_factory()
    c2 = Client(calm.url)
    assert c2.get("/loop/a").status == 404
    assert "/loop/a" not in c2.get("/fsc/55436").text


def test_offsite_links(replica_factory) -> None:  # type: ignore[no-untyped-def]
    server = replica_factory(faults=Faults(offsite_links=True))
    c = Client(server.url)
    html = c.get(server.site.item_paths()[30]).text
    assert "annual-" in html and ".pdf" in html
    assert any(
        host in html
        for host in ("vindobona.org", "un.org", "coe.int", "osce-mirror.example.net", "europa.eu")
    )


def test_faults_never_change_the_ground_truth(replica_factory) -> None:  # type: ignore[no-untyped-def]
    every = Faults(
        malformed_rate=1.0,
        wrong_charset_rate=1.0,
        oversized_rate=1.0,
        oversized_bytes=300_000,
        offsite_links=True,
        redirect_loop=True,
    )
    server = replica_factory(faults=every)
    before = server.site.ground_truth()
    assert before == Site(300, seed=1).ground_truth()
    c = Client(server.url)
    for path in server.site.item_paths()[::30]:
        lines = visible_lines(c.get(path).body)
        assert _contains_in_order(_record_lines(server.site, path), lines), path
    assert server.site.ground_truth() == before


def test_faults_from_the_command_line() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--error-rate",
            "0.2",
            "--redirect-loop",
            "--faults",
            "slow_rate=0.1",
            "--fault-seed",
            "4",
        ]
    )
    faults = _faults(args)
    assert faults == Faults(error_rate=0.2, redirect_loop=True, slow_rate=0.1, seed=4)
    assert Faults.parse("truncate_rate=0.3,offsite_links=1") == Faults(
        truncate_rate=0.3, offsite_links=True
    )
    everything = _faults(build_parser().parse_args(["serve", "--faults", "all"]))
    assert everything.error_rate > 0 and everything.redirect_loop
    with pytest.raises(ValueError):
        Faults.parse("no_such_fault=1")
