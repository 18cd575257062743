"""Switchable faults of the replica, decided deterministically so runs repeat.

Transport faults (errors, slowness, truncation) are decided per ``(path, attempt)``: the
n-th request for a path either fails or not, the same way every run, and a retry (the next
attempt) can succeed. Content faults (malformed HTML, a wrong charset, an oversized page)
are decided per path: a page is malformed, or not, whoever asks. No fault changes the
ground truth: what a reader can recover from the page stays the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Faults:
    """Which faults are on. All off by default: a polite, healthy site."""

    #: share of requests answered 500 or 503 with ``Retry-After`` (per path and attempt)
    error_rate: float = 0.0
    retry_after: int = 1
    #: share of requests answered only after ``slow_seconds``
    slow_rate: float = 0.0
    slow_seconds: float = 0.5
    #: share of 200 answers whose body stops short of ``Content-Length`` (then close)
    truncate_rate: float = 0.0
    #: share of pages with unclosed and stray tags (content still recoverable)
    malformed_rate: float = 0.0
    #: share of pages whose HTTP header declares ISO-8859-1 for a UTF-8 body
    wrong_charset_rate: float = 0.0
    #: share of item pages padded (after the content) to ``oversized_bytes``
    oversized_rate: float = 0.0
    oversized_bytes: int = 3_000_000
    #: ``/loop/a`` <-> ``/loop/b`` redirect each other, and pages link to them
    redirect_loop: bool = False
    #: item pages carry extra links to PDFs and to other hosts
    offsite_links: bool = False
    #: item pages grow a short line after the body, the same on every page: furniture the
    #: site added without notice, which only learning from the pages can tell from text
    grown_furniture: bool = False
    #: listing pages show this many rows whatever ``rows=`` asks (0: as asked, up to 50),
    #: as the real site did when a capture asked for 50 (SITE.md)
    listing_rows: int = 0
    #: a listing page past the last answers 404 (else an empty page without a next link)
    listing_end_404: bool = False
    #: listing pages carry no pager (the page size and a 404 or empty page end a listing)
    listing_no_pager: bool = False
    #: varies every decision above
    seed: int = 0

    @property
    def any(self) -> bool:
        return self != Faults(seed=self.seed)

    def decide(self, kind: str, path: str, attempt: int = 0) -> bool:
        """Whether fault ``kind`` (a ``*_rate`` field without ``_rate``) hits this request."""
        rate = float(getattr(self, f"{kind}_rate"))
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        digest = hashlib.blake2b(
            f"{self.seed}|{kind}|{path}|{attempt}".encode(), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big") / 2**64 < rate

    def error_status(self, path: str, attempt: int) -> int:
        digest = hashlib.blake2b(
            f"{self.seed}|status|{path}|{attempt}".encode(), digest_size=2
        ).digest()
        return 503 if digest[0] % 2 else 500

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """``error_rate=0.1,redirect_loop=1`` -> Faults (for the command line)."""
        values: dict[str, object] = {}
        types = {f.name: f.type for f in fields(cls)}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, raw = part.partition("=")
            name = name.strip().replace("-", "_")
            if name not in types:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(types)}")
            kind = str(types[name])
            if kind == "bool":
                values[name] = raw.strip().lower() in ("", "1", "true", "yes", "on")
            elif kind == "int":
                values[name] = int(raw)
            else:
                values[name] = float(raw)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def all_on(cls, rate: float = 0.1, seed: int = 0) -> Faults:
        """Every fault at ``rate`` (used by the soak tests and ``--faults all``)."""
        return cls(
            error_rate=rate,
            slow_rate=rate,
            truncate_rate=rate,
            malformed_rate=rate,
            wrong_charset_rate=rate,
            oversized_rate=rate / 10,
            redirect_loop=True,
            offsite_links=True,
            slow_seconds=0.2,
            seed=seed,
        )
