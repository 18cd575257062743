"""A local copy of www.osce.org that tests, benchmarks and ``osce-archive demo`` crawl.

``Site`` holds the content (deterministic from items/seed/epoch) and its ground truth;
``ReplicaServer`` serves it over loopback HTTP with switchable ``Faults``.
"""

from __future__ import annotations

from replica.faults import Faults
from replica.generator import DEFAULT_TODAY, Rates, Site

__all__ = ["DEFAULT_TODAY", "Faults", "Rates", "ReplicaServer", "RequestLogEntry", "Site"]


def __getattr__(name: str) -> object:
    # The server module is imported on first use so ``import replica`` stays light.
    if name in ("ReplicaServer", "RequestLogEntry"):
        from replica import server

        return getattr(server, name)
    raise AttributeError(name)
