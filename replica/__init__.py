"""A local copy of www.osce.org that tests, benchmarks and ``osce-archive demo`` crawl.

``Site`` holds the content (deterministic from items/seed/epoch) and its ground truth;
``ReplicaServer`` serves it over loopback HTTP with switchable ``Faults``. Standard library
only, so the demo needs nothing beyond the package.
"""

from __future__ import annotations

from replica.faults import Faults
from replica.generator import DEFAULT_TODAY, Rates, Site
from replica.server import ReplicaServer, RequestLogEntry, spawn

__all__ = ["DEFAULT_TODAY", "Faults", "Rates", "ReplicaServer", "RequestLogEntry", "Site", "spawn"]
