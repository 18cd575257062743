"""One crawl's furniture model: where it starts, when it settles, what it corrects.

A site's furniture is learned while the crawl runs (``crawler.extraction.furniture``
learns; this module decides *when* and *from what*), and kept in the archive as
versioned rows (``archive.furniture``):

* **Start.** The newest model the archive keeps for the site. With none (the first run
  of a site), the first pages are *held*: their features are counted but no record is
  extracted until the model settles, so that the first run's records are already clean.
* **Settle.** When :data:`WARMUP` pages have been counted, or when no new page has come
  for :data:`SETTLE_AFTER_S` seconds (the crawl is small, or Scrapy's item slot is
  full), the learner's model becomes the run's model and is kept in the archive. Under
  ``MIN_PAGES`` pages the site's bundled default stays, and records say so.
* **End.** A run that extracted pages learns again from the archive's newest stored
  pages of the site (:data:`SAMPLE` of them, this run's included), holding on to what
  the current model has (hysteresis); a model that changed is kept, and the documents
  whose newest version another model produced are read again from their stored raw
  bodies (``reason`` ``reextracted``, shown as ``extraction`` downstream).

No Scrapy here: the pipeline feeds it pages and asks it questions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from crawler.extraction.furniture import FurnitureModel, Learner, PageFeatures

logger = logging.getLogger(__name__)

#: Pages counted before the first model of a site settles.
WARMUP = 300
#: Seconds without a new page after which the held pages settle with what was counted.
SETTLE_AFTER_S = 1.5
#: Stored pages a finished run learns from.
SAMPLE = 300


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
        on_settled: Callable[[FurnitureModel], None] | None = None,
    ) -> None:
        self.site = site
        self.default = default
        self.model = stored if stored is not None else default
        self.stored = stored is not None
        self.warmup = max(0, warmup)
        self.settle_after = settle_after
        self.on_settled = on_settled
        self.learner = Learner(site, default=default)
        self.extracted = 0  # item pages extracted this run
        self._settled: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None
        if self.stored or self.warmup == 0:
            self._settled = _set_event()

    @property
    def warming(self) -> bool:
        """Pages are being held until the first model settles."""
        return self._settled is None or not self._settled.is_set()

    async def hold(self, features: PageFeatures | None) -> None:
        """Count one held page and wait until the model settles."""
        if self._settled is None:
            self._settled = asyncio.Event()
        if self._settled.is_set():
            return
        if features is not None:
            self.learner.add_features(features)
        if self.learner.pages >= self.warmup:
            self.settle("warm-up sample complete")
        else:
            self._arm()
        await self._settled.wait()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.settle_after, self.settle, "no new page for a while")

    def settle(self, why: str = "") -> None:
        """End the warm-up: the learner's model (or the default) is the run's model."""
        if self._settled is not None and self._settled.is_set():
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        learned = self.learner.model()
        if learned.fallback:
            logger.info(
                "furniture of %s: %d page(s), too few to learn from; the bundled default is used",
                self.site,
                self.learner.pages,
            )
        else:
            self.model = learned
            logger.info(
                "furniture of %s learned from %d pages (%s): %s",
                self.site,
                learned.pages,
                why,
                learned.version,
            )
            if self.on_settled is not None:
                self.on_settled(learned)
        if self._settled is None:
            self._settled = asyncio.Event()
        self._settled.set()

    def relearn(self, sample: list[PageFeatures]) -> FurnitureModel | None:
        """The model of the stored sample, held against the current one; None when it is
        the current one or the sample is too small."""
        learner = Learner(self.site, default=self.default)
        for features in sample:
            learner.add_features(features)
        current = None if self.model is self.default else self.model
        learned = learner.model(keep=current)
        if learned.fallback or learned.version == self.model.version:
            return None
        self.model = learned
        return learned


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event
