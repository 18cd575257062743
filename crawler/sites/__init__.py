"""Site profiles as plug-ins: one module per site, registered here.

Owns everything the project knows about particular sites (hosts, address rules,
listings, labels, kinds, politeness, default furniture).  May import
``crawler.extraction`` and ``archive.records``; nothing else in ``crawler`` names a host
or a label of a site.

    sites.get("osce")            # a profile by name
    sites.for_url(url)           # the profile whose hosts hold url, else DEFAULT
    sites.extract(body, url)     # the record, read with the profile the address picks
"""

from __future__ import annotations

from archive.records import ListingEntry, Record
from crawler.extraction.furniture import FurnitureModel
from crawler.sites.generic import GENERIC
from crawler.sites.osce import OSCE
from crawler.sites.profile import Politeness, SiteProfile

#: Every profile by name; the first site-specific one is the default.
PROFILES: dict[str, SiteProfile] = {p.name: p for p in (OSCE, GENERIC)}
#: The profile for a crawl or an extraction that names no site (a mirror, a local copy).
DEFAULT: SiteProfile = OSCE

__all__ = ["DEFAULT", "PROFILES", "Politeness", "SiteProfile", "extract", "for_url", "get"]


def get(name: str) -> SiteProfile:
    """The profile called ``name``; ``KeyError`` with the known names otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise KeyError(f"unknown site profile {name!r} (known: {known})") from None


def for_url(url: str) -> SiteProfile:
    """The site-specific profile whose hosts hold ``url``; :data:`DEFAULT` otherwise.

    A copy of a site under another base (the replica on loopback) is read with the
    default profile; use :data:`PROFILES` ``["generic"]`` for a site we have no profile for.
    """
    for profile in PROFILES.values():
        if profile is not GENERIC and profile.owns(url):
            return profile
    return DEFAULT


def extract(
    body: bytes | str | None,
    url: str,
    listing: ListingEntry | None = None,
    furniture: FurnitureModel | None = None,
    profile: SiteProfile | None = None,
) -> Record:
    """The record of one page, read with ``profile`` (else the one the address picks)."""
    return (profile or for_url(url)).extract(body, url, listing, furniture)
