"""A local copy of www.osce.org that tests, benchmarks and ``osce-archive demo`` crawl.

``Site`` holds the content (deterministic from items/seed/epoch/theme) and its ground truth
(``site.gold(item)``: the expected record and the furniture lines its page shows);
``ReplicaServer`` serves it over loopback HTTP with switchable ``Faults``. Standard library
only, so the demo needs nothing beyond the package.
"""

from __future__ import annotations

from replica.faults import Faults
from replica.generator import DEFAULT_TODAY, Rates
from replica.server import ReplicaServer, RequestLogEntry, spawn
from replica.site import Site
from replica.themes import Theme, make_theme

__all__ = [
    "DEFAULT_TODAY",
    "Faults",
    "Rates",
    "ReplicaServer",
    "RequestLogEntry",
    "Site",
    "Theme",
    "make_theme",
    "spawn",
]
