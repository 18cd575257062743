"""Several crawl processes, one crawl: ``osce-archive crawl --cluster redis://HOST:PORT/DB``.

Every process runs the same spider, extraction and archive code as a single crawl; what
they share lives in Redis (``scrapy-redis``'s priority queue and duplicate filter, and a
few keys of this module) and in the one PostgreSQL archive each writes to in its own
transactions.

* **Roles.** The first process to arrive (``SET coordinator NX``) is the run's
  *coordinator*: it takes the archive's one-crawl-at-a-time lock, opens the run record,
  publishes its id in Redis, and runs discovery (sitemap, feed, listings, the archive's
  revisits) exactly as a single crawl does. The others are *workers*: they join the run
  whose id Redis holds (no lock of their own) and fetch item pages. The coordinator
  fetches item pages too.
* **What is shared.** Item requests (the spider's ``parse_item``) go to the Redis queue,
  through the Redis duplicate filter; discovery requests, and the retries and redirect
  hops of a request a process already holds, stay in that process's own queue (the
  frontier that reads their answers lives there).
* **Nothing lost.** ``scrapy-redis`` pops a request and forgets it; here a pop moves the
  request into the ``inflight`` hash under the popping process's name (one Lua script, so
  one step for Redis), and the entry goes only when the request's answer is archived
  (Scrapy's scraper has finished with it: items through the pipeline, i.e. committed).
  Each process refreshes an ``alive`` key every second; the entries of a process whose key
  expired (killed, or its machine gone) are put back in the queue by the others.
* **Redis going away.** Every Redis call retries with back-off for about a minute
  (redis-py's ``Retry``), so a restart of a Redis that keeps its data (AOF) is ridden out:
  the processes wait, then go on where they were.
* **The end.** A process is idle only when its own queue, the shared queue and every
  other process's in-flight requests are empty; the coordinator then runs its next
  discovery phase, or, with none left, records the run with the counters of all processes
  (each adds its own to a Redis hash as it acknowledges each page) and marks it closed,
  and the workers leave.

Furniture (``crawler.learning``) is not learned during a cluster crawl: every process
reads with the model the archive keeps for the site when it starts (the bundled default
when it keeps none), so all processes write the same records.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from scrapy import Request, Spider, signals
from scrapy.exceptions import NotConfigured
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from archive.errors import ArchiveError, redact

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Seconds between a process's ``alive`` beats; its key lives ``ALIVE_TTL`` seconds, so a
#: process silent that long is taken for gone and its in-flight requests are re-queued.
BEAT_EVERY = 1.0
ALIVE_TTL = 10
#: How often an idle process looks at the shared queue (Scrapy's own heartbeat is 5 s).
POLL_EVERY = 0.1
#: How long a Redis call keeps retrying while Redis is unreachable (seconds, about);
#: past it the process stops (exit 1). Setting ``OSCE_CLUSTER_OUTAGE``.
OUTAGE_S = 60.0
#: How long a starting process waits for a coordinator to publish its run.
JOIN_WAIT_S = 60.0
#: How long the coordinator waits at the end for workers still adding their counters.
LEAVE_WAIT_S = 15.0
#: Request meta key holding the process's in-flight entry of a shared request.
TOKEN_META = "osce_cluster_token"
#: Callbacks whose requests are shared (item pages); every other request stays local.
SHARED_CALLBACKS = frozenset({"parse_item"})
#: Counters added up over the processes (the others are the coordinator's own).
ADDITIVE = (
    "requests",
    "new_documents",
    "new_versions",
    "unchanged",
    "deleted",
    "failed",
    "pages",
    "items",
    "skipped",
    "sources_kept",
    "sources_unrelated",
    "not_modified",
    "bytes",
)

# Pop the best request into this process's in-flight entry, in one step; none while the
# cluster already has ARGV[2] pages in progress (0: no such cap). Asked again with the
# same token (the reply was lost to a dropped connection), it answers the entry already
# taken instead of taking a second request.
_POP = """
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then return held end
local limit = tonumber(ARGV[2])
if limit > 0 and redis.call('HLEN', KEYS[2]) >= limit then return false end
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
local entry = top[2] .. '|' .. top[1]
redis.call('HSET', KEYS[2], ARGV[1], entry)
return entry
"""
# Mark a request seen and queue it, in one step (KEYS: the duplicate filter's set, the
# queue; ARGV: its fingerprint, score, encoded request); 0 when it was seen already.
# Done in two calls, a restart of Redis between the set's write and its reply would have
# the client's retry find the request seen, and never queue it.
_ENQUEUE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# Add a process's counters once and drop an in-flight entry (KEYS: in-flight, counters,
# each process's last acknowledgement; ARGV: the process, this acknowledgement's number,
# the entry's token or '', then counter names and amounts). Asked again with the same
# number (its reply was lost to a restart), it adds nothing twice.
_ACK = """
local last = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if tonumber(ARGV[2]) > last then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  for i = 4, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
if ARGV[3] ~= '' then redis.call('HDEL', KEYS[1], ARGV[3]) end
return 1
"""
# Put an in-flight request back in the queue, once, whoever asks first.
_REQUEUE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
local bar = string.find(entry, '|', 1, true)
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], string.sub(entry, 1, bar - 1), string.sub(entry, bar + 1))
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def connect(url: str, outage: float = OUTAGE_S) -> redis.Redis:
    """A Redis client that rides out an outage of about ``outage`` seconds: every call
    retries with back-off (at most a second apart)."""
    retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=max(1, int(outage)))
    return redis.Redis.from_url(
        url,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=2,
        socket_timeout=30,
        health_check_interval=5,
    )


def check_url(url: str) -> str:
    """The ``--cluster`` address, or ArchiveError (exit 1) when it is not a Redis URL."""
    text = (url or "").strip()
    if not text.startswith(("redis://", "rediss://", "unix://")):
        raise ArchiveError(f"--cluster expects redis://HOST:PORT/DB, got {url!r}")
    try:
        redis.connection.parse_url(text)
    except ValueError as exc:
        raise ArchiveError(f"--cluster: {exc}") from None
    return text


class Cluster:
    """This process's view of the shared crawl: its name, role, run and in-flight requests."""

    def __init__(
        self, url: str, prefix: str, spider: str, concurrency: int = 0, outage: float = OUTAGE_S
    ) -> None:
        self.url = url
        #: Redis stayed out of reach past the outage allowance: this process is stopping
        #: and asks it nothing more.
        self.lost = False
        #: Item pages in progress (fetched, extracted, archived) in all processes at once.
        self.concurrency = max(0, concurrency)
        self.redis = connect(url, outage)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        base = f"{prefix}:{spider}"
        self.queue_key = f"{base}:requests"
        self.dupefilter_key = f"{base}:dupefilter"
        self.inflight_key = f"{base}:inflight"
        self.counters_key = f"{base}:counters"
        self.acks_key = f"{base}:acks"
        self.run_key = f"{base}:run"
        self.coordinator_key = f"{base}:coordinator"
        self.alive_prefix = f"{base}:alive:"
        self.role: str | None = None
        self.run_id: int | None = None
        self._coordinator: str | None = None
        self._tokens = itertools.count(1)
        self._mine: set[str] = set()
        self._sent: dict[str, int] = {}
        self._acks = itertools.count(1)
        self._pop = self.redis.register_script(_POP)
        self._enqueue = self.redis.register_script(_ENQUEUE)
        self._ack = self.redis.register_script(_ACK)
        self._requeue = self.redis.register_script(_REQUEUE)
        self.counters: Callable[[], dict[str, Any]] = dict
        #: Called once, with the reason, when Redis is lost (the process then stops).
        self.on_lost: Callable[[str], None] = lambda message: None

    def lose(self, exc: Exception) -> None:
        """Redis stayed out of reach for the whole outage allowance: stop asking it."""
        if self.lost:
            return
        self.lost = True
        message = f"lost Redis at {redact(self.url)}: {redact(str(exc))}"
        logger.error("%s; this process stops", message)
        self.on_lost(message)

    @classmethod
    def of(cls, crawler: Crawler) -> Cluster | None:
        """The cluster of this crawler (one per process), None without ``OSCE_CLUSTER``."""
        found: Cluster | None = getattr(crawler, "_osce_cluster", None)
        if found is not None:
            return found
        url = crawler.settings.get("OSCE_CLUSTER")
        if not url:
            return None
        spider = getattr(crawler.spidercls, "name", "crawl")
        prefix = crawler.settings.get("OSCE_CLUSTER_KEY", "osce-archive")
        concurrency = crawler.settings.getint("OSCE_CLUSTER_CONCURRENCY", 0)
        outage = crawler.settings.getfloat("OSCE_CLUSTER_OUTAGE", OUTAGE_S)
        found = cls(check_url(url), prefix, spider, concurrency, outage)
        crawler._osce_cluster = found  # type: ignore[attr-defined]
        return found

    @property
    def coordinating(self) -> bool:
        return self.role == "coordinator"

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RedisError as exc:
            raise ArchiveError(f"Redis at {redact(self.url)}: {exc}") from None

    # -- joining and leaving ------------------------------------------------------------

    def join(self, options: dict[str, Any], start_run: Callable[[], int]) -> int:
        """Become the coordinator (calling ``start_run``, which takes the archive's lock)
        or join the run a live coordinator published; the run's id."""
        try:  # once, without retries: a wrong address is said at once, not in a minute
            redis.Redis.from_url(self.url, socket_connect_timeout=3, socket_timeout=5).ping()
        except RedisError as exc:
            raise ArchiveError(f"cannot reach Redis at {redact(self.url)}: {exc}") from None
        deadline = time.monotonic() + JOIN_WAIT_S
        shared = {k: options.get(k) for k in ("site", "full", "kinds", "max_items", "sources")}
        while True:
            if self._call(self.redis.set, self.coordinator_key, self.worker, nx=True, ex=ALIVE_TTL):
                return self._start(shared, start_run)
            held = self._call(self.redis.hgetall, self.run_key)
            run = {k.decode(): v.decode() for k, v in held.items()}
            holder = self._call(self.redis.get, self.coordinator_key)
            if (
                run.get("state") == "running"
                and holder is not None
                and run.get("coordinator") == holder.decode()
            ):
                theirs = json.loads(run.get("options") or "{}")
                if theirs != json.loads(json.dumps(shared)):
                    raise ArchiveError(
                        f"run {run['id']} crawls with {theirs}; this worker was started with "
                        f"{shared}: give every worker the coordinator's options"
                    )
                self.role = "worker"
                self.run_id = int(run["id"])
                self._coordinator = run["coordinator"]
                self.beat()
                logger.info("joined run %s as worker %s", self.run_id, self.worker)
                return self.run_id
            if time.monotonic() > deadline:
                raise ArchiveError(
                    f"no run to join in Redis at {redact(self.url)} after {JOIN_WAIT_S:.0f} s"
                )
            time.sleep(0.2)  # a coordinator is opening its run, or closing the last one

    def _start(self, options: dict[str, Any], start_run: Callable[[], int]) -> int:
        self.role = "coordinator"
        self._coordinator = self.worker
        try:
            # A new run starts from nothing: what an earlier run left is discovered again.
            self._call(
                self.redis.delete,
                self.queue_key,
                self.dupefilter_key,
                self.inflight_key,
                self.counters_key,
                self.acks_key,
                self.run_key,
            )
            run_id = start_run()
        except BaseException:
            self.redis.delete(self.coordinator_key)
            raise
        self.run_id = run_id
        self._call(
            self.redis.hset,
            self.run_key,
            mapping={
                "id": run_id,
                "state": "running",
                "coordinator": self.worker,
                "options": json.dumps(options),
            },
        )
        self.beat()
        logger.info("run %s opened by coordinator %s", run_id, self.worker)
        return run_id

    def beat(self) -> None:
        """This process is alive (and, for the coordinator, still coordinating)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.alive_prefix + self.worker, "1", ex=ALIVE_TTL)
        if self.coordinating:
            pipe.set(self.coordinator_key, self.worker, ex=ALIVE_TTL)
        pipe.execute()

    def coordinator_gone(self) -> bool:
        """A worker's question: did the coordinator of its run vanish with the run open?"""
        if self.coordinating:
            return False
        holder = self.redis.get(self.coordinator_key)
        state = self.redis.hget(self.run_key, "state")
        if state is not None and state != b"running":
            return False  # the run was closed: the worker leaves normally
        return holder is None or _text(holder) != self._coordinator

    def run_open(self) -> bool:
        if self.lost:
            return False
        state = self.redis.hget(self.run_key, "state")
        run_id = self.redis.hget(self.run_key, "id")
        return state == b"running" and run_id is not None and int(run_id) == self.run_id

    def leave(self) -> None:
        """A clean end: this process's last counters, and no trace of it left in Redis.
        A page it still holds was not archived (stopped before its retry or redirect hop
        was fetched): it goes back to the queue for the others."""
        if self.lost:
            return
        try:
            back = sum(self._give_back(token) for token in sorted(self._mine))
            if back:
                logger.info("put %d page(s) back in the shared queue", back)
            self._mine.clear()
            self._add_counters()
            self.redis.delete(self.alive_prefix + self.worker)
        except RedisError as exc:
            logger.warning("leaving the cluster: %s", redact(str(exc)))

    def totals(self, own: dict[str, Any]) -> dict[str, Any]:
        """The run's counters: the coordinator's, with the additive ones summed over every
        process (waiting a little for workers still writing theirs)."""
        self.leave_counters()
        deadline = time.monotonic() + LEAVE_WAIT_S
        while time.monotonic() < deadline and self.others_alive():
            time.sleep(0.2)
        summed = {_text(k): int(v) for k, v in self.redis.hgetall(self.counters_key).items()}
        out = dict(own)
        for name in ADDITIVE:
            if name in summed:
                out[name] = summed[name]
        return out

    def leave_counters(self) -> None:
        self._add_counters()

    def others_alive(self) -> bool:
        mine = self.alive_prefix + self.worker
        return any(key.decode() != mine for key in self.redis.scan_iter(self.alive_prefix + "*"))

    def close_run(self, outcome: str) -> None:
        """The coordinator's last word: the run is closed, so the workers leave (a new
        process waits until :meth:`release`, then opens the next run)."""
        if self.lost:
            raise ArchiveError(f"lost Redis at {redact(self.url)}")
        self._call(self.redis.hset, self.run_key, mapping={"state": "closed", "outcome": outcome})

    def release(self) -> None:
        """The coordinator has recorded the run: the next process to come opens another."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.alive_prefix + self.worker)
        pipe.execute()
        holder = self.redis.get(self.coordinator_key)
        if holder is not None and _text(holder) == self.worker:
            self.redis.delete(self.coordinator_key)

    # -- requests in flight -----------------------------------------------------------------

    def pop(self, decode: Callable[[bytes], Request]) -> Request | None:
        """The best shared request, now held in flight by this process; None when empty."""
        if self.lost:
            return None
        token = f"{self.worker}|{next(self._tokens)}"
        entry = self._pop(keys=[self.queue_key, self.inflight_key], args=[token, self.concurrency])
        if entry is None:
            return None
        _, _, data = (entry if isinstance(entry, bytes) else entry.encode()).partition(b"|")
        try:
            request = decode(data)
        except Exception as exc:  # noqa: BLE001 - a request that cannot be read: drop it
            logger.error("dropped an unreadable shared request: %s", exc)
            self.redis.hdel(self.inflight_key, token)
            return None
        request.meta[TOKEN_META] = token
        self._mine.add(token)
        return request

    def enqueue(self, fingerprint: str, score: int, data: bytes) -> bool:
        """Queue a shared request unless the duplicate filter has seen its fingerprint,
        as one step for Redis (asked again after a reply lost to a restart, it finds the
        request seen *and* queued); whether it was queued now."""
        added = self._enqueue(
            keys=[self.dupefilter_key, self.queue_key], args=[fingerprint, score, data]
        )
        return bool(added)

    def done(self, request: Request) -> None:
        """``request`` is archived: drop its in-flight entry, add this process's counters."""
        token = request.meta.get(TOKEN_META)
        if self.lost or token is None or token not in self._mine:
            return
        self._add_counters(token)
        self._mine.discard(token)

    def _add_counters(self, token: str = "") -> None:
        """This process's counters since it last sent them, added once to the run's, and
        the in-flight entry ``token`` dropped, as one step (:data:`_ACK`)."""
        now = self.counters()
        deltas = {}
        for name in ADDITIVE:
            value = int(now.get(name, 0) or 0)
            if value != self._sent.get(name, 0):
                deltas[name] = value - self._sent.get(name, 0)
        args: list[Any] = [self.worker, next(self._acks), token]
        for name, delta in deltas.items():
            args += [name, delta]
        self._ack(keys=[self.inflight_key, self.counters_key, self.acks_key], args=args)
        for name, delta in deltas.items():
            self._sent[name] = self._sent.get(name, 0) + delta

    def _give_back(self, field: str | bytes) -> int:
        return int(self._requeue(keys=[self.inflight_key, self.queue_key], args=[field]))

    def pending_elsewhere(self) -> bool:
        """Shared requests waiting, or in flight in another process."""
        if self.lost:
            return False
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(self.queue_key)
        pipe.hlen(self.inflight_key)
        queued, inflight = pipe.execute()
        return bool(queued) or int(inflight) > len(self._mine)

    def requeue_gone(self) -> int:
        """Put back the in-flight requests of processes whose ``alive`` key expired."""
        entries = self.redis.hgetall(self.inflight_key)
        holders = {_text(field).rpartition("|")[0] for field in entries}
        holders.discard(self.worker)
        if not holders:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        ordered = sorted(holders)
        for holder in ordered:
            pipe.exists(self.alive_prefix + holder)
        gone = {h for h, alive in zip(ordered, pipe.execute(), strict=True) if not alive}
        count = sum(
            self._give_back(field) for field in entries if _text(field).rpartition("|")[0] in gone
        )
        if count:
            logger.warning(
                "re-queued %d request(s) in flight in %s, gone", count, ", ".join(sorted(gone))
            )
        return count


class ClusterScheduler(Scheduler):
    """``scrapy-redis``'s scheduler, with item requests shared and the rest kept local.

    The shared queue is ``scrapy_redis.queue.PriorityQueue`` (with its Redis duplicate
    filter); a pop goes through :meth:`Cluster.pop`, which keeps the request in flight
    until its answer is archived. A process holds its discovery requests, and the
    retries and redirect hops of requests it already holds (their in-flight entry covers
    them), in its own priority queue.
    """

    cluster: Cluster
    _local: list[tuple[int, int, Request]]
    _order: Iterator[int]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        cluster = Cluster.of(crawler)
        if cluster is None:
            raise NotConfigured("ClusterScheduler needs OSCE_CLUSTER")
        settings = crawler.settings
        instance = cls(
            server=cluster.redis,
            persist=True,  # the coordinator clears a run's keys when it opens the next
            queue_key=cluster.queue_key,
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue"),
            dupefilter_key=cluster.dupefilter_key,
            dupefilter_cls="scrapy_redis.dupefilter.RFPDupeFilter",
        )
        instance.stats = crawler.stats
        instance.cluster = cluster
        instance._local = []
        instance._order = itertools.count()
        return instance

    def open(self, spider: Spider) -> None:
        # scrapy-redis's own open, without its deprecated Spider.log call
        from scrapy.utils.misc import load_object
        from scrapy_redis.dupefilter import RFPDupeFilter

        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer
        )
        self.df = RFPDupeFilter(self.cluster.redis, key=self.cluster.dupefilter_key)
        waiting = len(self.queue)
        if waiting:
            logger.info("%d shared request(s) waiting in the queue", waiting)

    def close(self, reason: str) -> None:
        self.df.close(reason)

    def enqueue_request(self, request: Request) -> bool:
        callback = getattr(request.callback, "__name__", None)
        if callback in SHARED_CALLBACKS and TOKEN_META not in request.meta:
            if self.cluster.lost:
                return False  # the process is stopping; the next run discovers it again
            try:
                # scrapy-redis's own enqueue_request (without its deprecated stats call),
                # its duplicate filter's SADD and its queue's ZADD made one step.
                if request.dont_filter:
                    self.queue.push(request)
                elif not self.cluster.enqueue(
                    self.df.request_fingerprint(request),
                    -request.priority,
                    self.queue._encode_request(request),
                ):
                    self.df.log(request, self.spider)
                    return False
                if self.stats:
                    self.stats.inc_value("scheduler/enqueued/redis")
                return True
            except RedisError as exc:
                self.cluster.lose(exc)
                return False
        heapq.heappush(self._local, (-request.priority, next(self._order), request))
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/memory")
        return True

    def next_request(self) -> Request | None:
        if self._local:
            return heapq.heappop(self._local)[2]
        try:
            request = self.cluster.pop(self.queue._decode_request)
        except RedisError as exc:
            self.cluster.lose(exc)
            return None
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self._local:
            return True
        try:
            if self.cluster.pending_elsewhere():
                return True
            # A worker waits for the coordinator's next discovery phase until the run closes.
            return not self.cluster.coordinating and self.cluster.run_open()
        except RedisError as exc:
            self.cluster.lose(exc)
            return False

    def __len__(self) -> int:
        if self.cluster.lost:
            return len(self._local)
        try:
            return len(self._local) + len(self.queue)
        except RedisError as exc:
            self.cluster.lose(exc)
            return len(self._local)


class ClusterRun:
    """The process's part in the shared crawl: beats, re-queues the requests of gone
    processes, acknowledges each request once archived, and looks at the shared queue
    often (an idle Scrapy engine asks its scheduler only every five seconds).

    Settings: ``OSCE_CLUSTER`` (the Redis URL; empty switches this off),
    ``OSCE_CLUSTER_KEY`` (prefix of the Redis keys, default ``osce-archive``),
    ``OSCE_CLUSTER_CONCURRENCY`` (item pages in progress in all processes at once: the
    site's load does not grow with the number of workers past it; 0: no such cap).
    """

    def __init__(self, crawler: Crawler, cluster: Cluster) -> None:
        self.crawler = crawler
        self.cluster = cluster
        self._loops: list[task.LoopingCall] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterRun:
        cluster = Cluster.of(crawler)
        if cluster is None:
            # Not a cluster crawl: off without a word (Scrapy logs a warning for a
            # NotConfigured that carries a reason, on every single-process crawl).
            raise NotConfigured
        ext = cls(crawler, cluster)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        from crawler.extensions import run_counters

        self.cluster.counters = lambda: run_counters(self.crawler.stats.get_stats())
        self.cluster.on_lost = self._lost
        engine = self.crawler.engine
        slot = engine.scraper.slot if engine is not None else None
        if slot is None or not hasattr(slot, "finish_response"):
            raise NotConfigured("this Scrapy's scraper has no finish_response to hook")
        # The scraper finishes with a request once its callback's output has gone
        # through the pipeline (committed) or failed: the one moment its in-flight
        # entry may go. Scrapy has no signal for it, so the slot's method is wrapped.
        finish = slot.finish_response

        def finish_response(result: Any, request: Request) -> None:
            finish(result, request)
            try:
                self.cluster.done(request)
            except RedisError as exc:
                self.cluster.lose(exc)

        slot.finish_response = finish_response  # type: ignore[method-assign]
        self._loop(self._beat, BEAT_EVERY)
        self._loop(self._poll, POLL_EVERY)

    def _loop(self, fn: Callable[[], None], every: float) -> None:
        loop = task.LoopingCall(fn)
        loop.start(every, now=False).addErrback(
            lambda f: logger.error("cluster loop failed: %s", f.getErrorMessage())
        )
        self._loops.append(loop)

    def _beat(self) -> None:
        from crawler.extensions import STATS_PREFIX, close_crawl

        try:
            self.cluster.beat()
            self.cluster.requeue_gone()
            if self.cluster.coordinator_gone():
                message = f"the coordinator of run {self.cluster.run_id} is gone"
                logger.error("%s; this worker stops", message)
                self.crawler.stats.set_value(STATS_PREFIX + "error", message)
                self._stop_loops()
                close_crawl(self.crawler, "coordinator_gone")
        except RedisError as exc:  # retried for the whole outage allowance: stop
            self.cluster.lose(exc)

    def _lost(self, message: str) -> None:
        from crawler.extensions import STATS_PREFIX, close_crawl

        self.crawler.stats.set_value(STATS_PREFIX + "error", message)
        self._stop_loops()
        close_crawl(self.crawler, "cluster_lost")

    def _poll(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if slot is not None and slot.closing is None and not engine.needs_backout():
            slot.nextcall.schedule()

    def _stop_loops(self) -> None:
        for loop in self._loops:
            if loop.running:
                loop.stop()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self._stop_loops()
