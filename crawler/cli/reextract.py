"""`osce-archive reextract [--json]`: the current extraction over stored raw pages."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from archive.records import ListingEntry, Record
from archive.store import Archive


def extractor(archive: Archive) -> Callable[..., Record]:
    """The crawl's extraction for each stored page: a page of a third-party source's
    host (a host some document belongs to, other than the default profile's) is read as
    ``crawl --sources`` reads it (the host's generic profile, kept only when about the
    OSCE, else a ``page``), every other page with the profile its address picks."""
    from archive.known import Known
    from crawler.extraction.relevance import about_osce
    from crawler.sites import DEFAULT, extract
    from crawler.sites.generic import for_host
    from crawler.sources import bare_netloc, netloc_of

    third_party = Known(archive).sites() - {DEFAULT.id_prefix.rstrip("/")}

    def read(body: bytes, url: str, listing: ListingEntry | None = None) -> Record:
        if bare_netloc(url) not in third_party:
            return extract(body, url, listing)
        record = for_host(netloc_of(url)).extract(body, url, listing)
        if record.is_item and not about_osce(record.title, record.text).kept:
            record.kind = "page"  # as the crawl skips it: its capture, no document
        return record

    return read


def run(args: argparse.Namespace) -> int:
    from crawler.extraction import EXTRACTOR_VERSION

    with Archive.open(args.db) as archive:
        counters = archive.reextract(extractor(archive), EXTRACTOR_VERSION)
    if args.json:
        sys.stdout.write(json.dumps({"extractor_version": EXTRACTOR_VERSION, **counters}) + "\n")
    else:
        summary = ", ".join(f"{k} {v}" for k, v in counters.items())
        print(f"reextract (extractor {EXTRACTOR_VERSION}): {summary}")
    return 0
