"""The replica over HTTP: redirects, conditional requests, gzip, keep-alive, the log."""

from __future__ import annotations

import gzip
import re
from email.utils import format_datetime, parsedate_to_datetime

from replica import Rates, ReplicaServer
from tests.replica.http_helpers import Client


def test_item_page_has_validators_and_canonical_link(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    a = c.get("/fsc/55436")
    assert a.status == 200
    assert a.headers["etag"].startswith('W/"')
    assert parsedate_to_datetime(a.headers["last-modified"]).year == 2003
    assert f'<link rel="canonical" href="{replica.url}/fsc/55436">' in a.text
    assert '<html lang="en"' in a.text


def test_conditional_requests(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    a = c.get("/fsc/55436")
    etag, modified = a.headers["etag"], a.headers["last-modified"]
    assert c.get("/fsc/55436", If_None_Match=etag).status == 304
    assert c.get("/fsc/55436", If_None_Match='W/"other", ' + etag).status == 304
    assert c.get("/fsc/55436", If_None_Match='"other"').status == 200
    assert c.get("/fsc/55436", If_Modified_Since=modified).status == 304
    older = format_datetime(parsedate_to_datetime(modified).replace(year=2002), usegmt=True)
    assert c.get("/fsc/55436", If_Modified_Since=older).status == 200
    # If-None-Match wins over If-Modified-Since
    assert c.get("/fsc/55436", If_None_Match='"other"', If_Modified_Since=modified).status == 200
    for path in ("/press-releases", "/sitemap.xml", "/robots.txt", "/partnerships"):
        first = c.get(path)
        assert "etag" in first.headers and "last-modified" in first.headers
        assert c.get(path, If_None_Match=first.headers["etag"]).status == 304
    not_modified = c.get("/fsc/55436", If_None_Match=etag)
    assert not_modified.raw == b"" and not_modified.headers["etag"] == etag
    statuses = [e.status for e in replica.log if e.if_none_match == etag]
    assert statuses.count(304) >= 2


def test_node_addresses_redirect_to_the_canonical_one(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    a = c.get("/node/55436")
    assert a.status == 301 and a.headers["location"] == replica.url + "/fsc/55436"
    assert c.get("/node/1").status == 404
    assert c.get("/fsc/999999999").status == 404


def test_address_variants_serve_the_same_page(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    plain = c.get("/fsc/55436").text
    for variant in ("/fsc/55436/", "/fsc/55436?utm_source=newsletter&utm_medium=email"):
        other = c.get(variant)
        assert other.status == 200 and other.text == plain


def test_moved_and_deleted_items(replica_factory) -> None:  # type: ignore[no-untyped-def]
    server = replica_factory(items=300, rates=Rates(delete=0.03))
    site = server.site
    site.set_epoch(1)
    c = Client(server.url)
    move = site.changes(1)["moved"][0]
    a = c.get(move["old"])
    assert a.status == 301 and a.headers["location"] == server.url + move["new"]
    assert c.get(move["new"]).status == 200
    node = move["id"].split("/")[1]
    assert c.get(f"/node/{node}").headers["location"] == server.url + move["new"]
    statuses = set()
    for item_id in site.changes(1)["deleted"]:
        path = site.find(item_id).path
        answer = c.get(path)
        statuses.add(answer.status)
        assert answer.status in (404, 410) and "last-modified" in answer.headers
        assert path not in c.get("/sitemap.xml?page=1").text
    assert statuses == {404, 410}


def test_gzip_only_when_asked(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    plain = c.get("/fsc/55436")
    assert "content-encoding" not in plain.headers
    packed = c.get("/fsc/55436", Accept_Encoding="gzip, deflate")
    assert packed.headers["content-encoding"] == "gzip"
    assert len(packed.raw) < len(plain.raw) / 2
    assert gzip.decompress(packed.raw) == plain.raw
    assert int(packed.headers["content-length"]) == len(packed.raw)
    assert packed.headers["vary"] == "Accept-Encoding"
    refused = c.get("/fsc/55436", Accept_Encoding="gzip;q=0, identity")
    assert "content-encoding" not in refused.headers
    assert c.get("/sitemap.xml", Accept_Encoding="gzip").headers["content-encoding"] == "gzip"


def test_keep_alive_and_head(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    for path in replica.site.item_paths()[:25]:
        assert c.get(path).status == 200
    sock = c.conn.sock
    assert sock is not None
    assert c.get("/stories").status == 200
    assert c.conn.sock is sock  # same connection throughout
    head = c.get("/fsc/55436", method="HEAD")
    assert head.status == 200 and head.raw == b"" and int(head.headers["content-length"]) > 0


def test_request_log(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    replica.log.clear()
    c.get("/press-releases?page=1&rows=20", User_Agent="tester/1.0")
    c.get("/fsc/55436", If_None_Match='"x"', If_Modified_Since="Sat, 28 Jun 2003 00:00:00 GMT")
    c.get("/node/55436")
    c.get("/nowhere")
    first, second, third, fourth = replica.log
    assert first.method == "GET" and first.path == "/press-releases?page=1&rows=20"
    assert first.status == 200 and first.bytes > 1000 and first.user_agent == "tester/1.0"
    assert first.host == replica.url.removeprefix("http://")
    assert second.if_none_match == '"x"'
    assert second.if_modified_since == "Sat, 28 Jun 2003 00:00:00 GMT"
    assert (third.status, fourth.status) == (301, 404)
    assert first.time <= fourth.time
    assert [e.attempt for e in replica.requested("/fsc/55436")] == [0]


def test_www_host_alias_links_drop_the_www(replica: ReplicaServer) -> None:
    c = Client(replica.url)
    loopback = c.get("/newsroom?rows=50").text
    named = c.get("/newsroom?rows=50", Host="www.osce.example").text
    assert "http://osce.example/" in named
    assert '<link rel="canonical" href="http://www.osce.example/newsroom">' in named
    assert "osce.example" not in loopback
    assert not re.search(r'href="http://[^"]*"', loopback.split("<main")[1].split("</main>")[0])


def test_subprocess_server_writes_a_jsonl_log(replica_process_factory) -> None:  # type: ignore[no-untyped-def]
    proc = replica_process_factory(items=120, faults="error_rate=0")
    c = Client(proc.url)
    assert c.get("/fsc/55436").status == 200
    proc.set_epoch(1)
    c2 = Client(proc.url)
    assert "Czechia" in c2.get("/fsc/55436").text
    log = proc.read_log()
    assert [e.path for e in log] == ["/fsc/55436", "/fsc/55436"]
    assert [e.attempt for e in log] == [0, 1]


def test_the_replica_serves_the_site_own_addresses_as_a_proxy(replica: ReplicaServer) -> None:
    # What a client sends the HTTP proxy it is told to use: the whole address.
    c = Client(replica.url)
    proxied = c.get("http://www.osce.org/fsc/55436", Host="www.osce.org")
    assert proxied.status == 200
    assert '<link rel="canonical" href="http://www.osce.org/fsc/55436">' in proxied.text
    assert proxied.text == c.get("/fsc/55436", Host="www.osce.org").text
    moved = c.get("http://www.osce.org/node/55436?x=1", Host="www.osce.org")
    assert moved.status == 301 and moved.headers["location"] == "http://www.osce.org/fsc/55436"
