"""Extraction: pure functions from one fetched page to one record.

Owns reading a page: ``page`` (parse once, lines), ``header`` (title, kind, byline),
``details`` (labelled values), ``body`` (structural boundaries), ``furniture`` (the
learned per-host model and its learner), ``dates``, ``language``, ``text`` (every
trafilatura call), ``generic`` (a page of a site without a profile), ``listing``
(entries and pager of a listing page), ``item`` (the record).  It imports neither
Scrapy nor SQLAlchemy, nor ``crawler.sites``: what is particular to a site comes in
as a :class:`~crawler.extraction.vocabulary.Vocabulary` and an
:class:`~crawler.extraction.item.ItemSite`.
"""

from crawler.extraction.furniture import FurnitureModel, Learner
from crawler.extraction.item import EXTRACTOR_VERSION, ItemSite, extract
from crawler.extraction.listing import ListingPage
from crawler.extraction.vocabulary import Vocabulary

__all__ = [
    "EXTRACTOR_VERSION",
    "FurnitureModel",
    "ItemSite",
    "Learner",
    "ListingPage",
    "Vocabulary",
    "extract",
]
