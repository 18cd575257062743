"""`osce-archive reextract [--workers N] [--json]`: the current extraction over stored raw
pages, in worker processes (one per core unless ``--workers``; 1 or 0: in this process)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass

from archive.records import ListingEntry, Record
from archive.store import Archive


@dataclass(frozen=True)
class Extractor:
    """The crawl's extraction for each stored page: a page of a third-party source's
    host (``third_party``: the hosts some document belongs to, other than the default
    profile's) is read as ``crawl --sources`` reads it (the host's generic profile, kept
    only when about the OSCE, else a ``page``), every other page with the profile its
    address picks. A plain value, so it travels to the worker processes; each page is
    read with the bundled furniture model (``extract``'s default), there as here."""

    third_party: frozenset[str]

    def __call__(self, body: bytes, url: str, listing: ListingEntry | None = None) -> Record:
        from crawler.extraction.relevance import about_osce
        from crawler.sites import extract
        from crawler.sites.generic import for_host
        from crawler.sources import bare_netloc, netloc_of

        if bare_netloc(url) not in self.third_party:
            return extract(body, url, listing)
        record = for_host(netloc_of(url)).extract(body, url, listing)
        if record.is_item and not about_osce(record.title, record.text).kept:
            record.kind = "page"  # as the crawl skips it: its capture, no document
        return record


def extractor(archive: Archive) -> Extractor:
    """The :class:`Extractor` of the hosts ``archive`` holds."""
    from archive.known import Known
    from crawler.sites import DEFAULT

    return Extractor(frozenset(Known(archive).sites() - {DEFAULT.id_prefix.rstrip("/")}))


def run(args: argparse.Namespace) -> int:
    from crawler import linking
    from crawler.extraction import EXTRACTOR_VERSION

    with Archive.open(args.db) as archive:
        workers = (os.cpu_count() or 1) if args.workers is None else args.workers
        counters = archive.reextract(extractor(archive), EXTRACTOR_VERSION, workers=workers)
        # what the articles report on, read again from the versions just written
        counters["reports_linked"] = linking.refresh(archive)["linked"]
    if args.json:
        sys.stdout.write(json.dumps({"extractor_version": EXTRACTOR_VERSION, **counters}) + "\n")
    else:
        summary = ", ".join(f"{k} {v}" for k, v in counters.items())
        print(f"reextract (extractor {EXTRACTOR_VERSION}): {summary}")
    return 0
