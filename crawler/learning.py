"""One crawl's furniture model: where it starts, when it settles, what it corrects.

A site's furniture is learned while the crawl runs (``crawler.extraction.furniture``
learns; this module decides *when* and *from what*), and kept in the archive as
versioned rows (``archive.furniture``):

* **Start.** The newest model the archive keeps for the site; with none (the site's
  first run), the site profile's bundled default.
* **Hold.** The first pages a run extracts are *held*: what recurs on them is counted,
  and no record is extracted until the model settles. So the first run's records are
  clean from the start, and a site that grew a box since the last run is read without
  it at once (never archived first as a change of the article).
* **Settle.** When :data:`WARMUP` pages have been counted, or when no new page has come
  for :data:`SETTLE_AFTER_S` seconds (a small run, or Scrapy's item slot, which bounds
  the pages held, is full), the model is decided and kept in the archive. Counting goes
  on, pages no longer held, until :data:`WARMUP` pages, and the model is decided again.
* **Decide.** The first run takes what its pages show (under ``MIN_PAGES`` pages the
  bundled default stays, and records say so); the second decision holds on to what the
  first found (hysteresis). A later run only *adds* to the kept model what at least
  :data:`RELEARN_MIN` of its pages show: a run that reads a handful of new items cannot
  teach that their shared lines are furniture, nor forget a box they happen to lack.
* **End.** The documents whose newest version another model produced are read again
  from their stored raw bodies (``reason`` ``reextracted``, ``extraction`` downstream),
  so no record of a finished run carries furniture that the final model knows.

No Scrapy here: the pipeline feeds it pages and asks it questions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from crawler.extraction.furniture import FurnitureModel, Learner, PageFeatures

logger = logging.getLogger(__name__)

#: Pages counted before a run's model is decided for good.
WARMUP = 300
#: Seconds without a new page after which the held pages settle with what was counted.
SETTLE_AFTER_S = 1.5
#: Pages a later run must have read to add anything to the kept model.
RELEARN_MIN = 20


class FurnitureKeeper:
    """The furniture model of one site during one crawl."""

    def __init__(
        self,
        site: str,
        default: FurnitureModel,
        stored: FurnitureModel | None,
        *,
        warmup: int = WARMUP,
        settle_after: float = SETTLE_AFTER_S,
        relearn_min: int = RELEARN_MIN,
        on_change: Callable[[FurnitureModel], None] | None = None,
    ) -> None:
        self.site = site
        self.default = default
        self.stored = stored
        self.model = stored if stored is not None else default
        self.warmup = max(0, warmup)
        self.settle_after = settle_after
        self.relearn_min = relearn_min
        self.on_change = on_change
        self.learner = Learner(site, default=default)
        self.extracted = 0  # item pages extracted this run
        self._settled: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None
        if self.warmup == 0:  # a fixed model: nothing to learn
            self._settled = _set_event()

    @property
    def counting(self) -> bool:
        """The run's warm-up sample is not complete: count each extracted page."""
        return self.learner.pages < self.warmup

    @property
    def warming(self) -> bool:
        """Pages are being held until the model settles."""
        return self._settled is None or not self._settled.is_set()

    async def hold(self, features: PageFeatures | None) -> None:
        """Count one held page and wait until the model settles."""
        if self._settled is None:
            self._settled = asyncio.Event()
        if self._settled.is_set():
            return self.count(features)
        if features is not None:
            self.learner.add_features(features)
        if self.learner.pages >= self.warmup:
            self.settle("warm-up sample complete")
        else:
            self._arm()
        await self._settled.wait()

    def count(self, features: PageFeatures | None) -> None:
        """Count a page extracted after the model settled; at :data:`WARMUP` pages the
        model is decided again."""
        if features is None or not self.counting:
            return
        self.learner.add_features(features)
        if self.learner.pages >= self.warmup:
            self._decide("warm-up sample complete")

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.settle_after, self.settle, "no new page for a while")

    def settle(self, why: str = "") -> None:
        """End the hold: decide the model from what was counted, release the pages."""
        if self._settled is not None and self._settled.is_set():
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._decide(why)
        if self._settled is None:
            self._settled = asyncio.Event()
        self._settled.set()

    def _decide(self, why: str) -> None:
        if self.stored is None:  # the site's first run: what its pages show
            keep = None if self.model is self.default else self.model
            chosen = self.learner.model(keep=keep)
        else:  # a later run: only additions, and only from enough pages
            learned = self.learner.model()
            if self.learner.pages < self.relearn_min or learned.fallback:
                return
            chosen = union(self.stored, learned)
        if chosen.fallback:
            self.model = chosen  # the default, marked: the records say so
            logger.info(
                "furniture of %s: %d page(s), too few to learn from; the bundled default is used",
                self.site,
                self.learner.pages,
            )
            return
        if chosen.version == self.model.version:
            return
        self.model = chosen
        logger.info(
            "furniture of %s: model %s from %d pages (%s)",
            self.site,
            chosen.version,
            self.learner.pages,
            why,
        )
        if self.on_change is not None:
            self.on_change(chosen)


def union(kept: FurnitureModel, learned: FurnitureModel) -> FurnitureModel:
    """``kept`` with what ``learned`` adds: lines and boxes are only ever added."""
    if learned.lines <= kept.lines and learned.boxes <= kept.boxes:
        return kept
    return FurnitureModel(
        lines=kept.lines | learned.lines,
        boxes=kept.boxes | learned.boxes,
        host=kept.host,
        pages=kept.pages + learned.pages,
    )


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event
