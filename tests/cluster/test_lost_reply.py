"""A shared request whose enqueue reply is lost (Redis restarted after it wrote, before it
answered) is still queued: the duplicate filter's mark and the queue's entry are one
step for Redis, so the client's retry finds both or neither. Against a real Redis; the
lost reply is the client's connection failing right after reading it."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from crawler.cluster import Cluster


@pytest.fixture
def lose_next_reply(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Arm it: the next reply the client reads is read, then lost (the connection fails)."""
    armed = {"lose": 0, "lost": 0}
    real = redis.connection.Connection.read_response

    def read_response(self: Any, *args: Any, **kwargs: Any) -> Any:
        reply = real(self, *args, **kwargs)
        if armed["lose"]:
            armed["lose"] -= 1
            armed["lost"] += 1
            raise RedisConnectionError("the reply was lost with the connection")
        return reply

    monkeypatch.setattr(redis.connection.Connection, "read_response", read_response)
    return armed


def test_an_enqueue_whose_reply_was_lost_is_queued_once(
    redis_server: Any, lose_next_reply: Any
) -> None:
    cluster = Cluster(redis_server.url, "osce-test", "newsroom", outage=5)
    client = redis_server.client()
    assert cluster.enqueue("fp-1", -5, b"request one") is True
    lose_next_reply["lose"] = 1
    # The script ran and wrote; its answer is lost; the client asks again and hears
    # "seen". The request must be in the queue all the same.
    second = cluster.enqueue("fp-2", -3, b"request two")
    assert lose_next_reply["lost"] == 1
    assert second is False
    assert client.zrange(cluster.queue_key, 0, -1) == [b"request one", b"request two"]
    assert client.smembers(cluster.dupefilter_key) == {b"fp-1", b"fp-2"}
    # Seen requests are not queued again.
    assert cluster.enqueue("fp-1", -5, b"request one again") is False
    assert client.zcard(cluster.queue_key) == 2


def test_an_acknowledgement_whose_reply_was_lost_counts_once(
    redis_server: Any, lose_next_reply: Any
) -> None:
    from scrapy import Request

    from crawler.cluster import TOKEN_META

    cluster = Cluster(redis_server.url, "osce-test", "newsroom", outage=5)
    client = redis_server.client()
    archived = {"pages": 0, "new_documents": 0}
    cluster.counters = lambda: dict(archived)
    for n in (1, 2):
        assert cluster.enqueue(f"fp-{n}", 0, f"request {n}".encode())
    taken = [cluster.pop(lambda data: Request(f"http://x/{data.decode()}")) for _ in (1, 2)]
    assert all(r is not None and TOKEN_META in r.meta for r in taken)
    assert client.hlen(cluster.inflight_key) == 2
    archived.update(pages=1, new_documents=1)
    cluster.done(taken[0])  # type: ignore[arg-type]
    # The second page's acknowledgement is carried out, its reply lost, asked again.
    archived.update(pages=2, new_documents=2)
    lose_next_reply["lose"] = 1
    cluster.done(taken[1])  # type: ignore[arg-type]
    assert lose_next_reply["lost"] == 1
    assert client.hgetall(cluster.counters_key) == {b"pages": b"2", b"new_documents": b"2"}
    assert client.hlen(cluster.inflight_key) == 0
    # Leaving adds only what is new.
    archived.update(pages=3)
    cluster.leave_counters()
    assert client.hgetall(cluster.counters_key) == {b"pages": b"3", b"new_documents": b"2"}
