"""A learned, per-host model of site furniture: text blocks that recur across pages.

Why learned: the site profile prunes what it knows (navigation, labels, byline,
promotion block), but a site grows furniture nobody listed (a new footer line, a
"Follow us" box inside the article), and its menus drift between captures
(``Czech Republic`` -> ``Czechia``).  A block that appears on a large share of a
host's pages is not content.

Why data: the model is a frozen set of normalised blocks with a version (a hash of
its content), stored as JSON.  Extraction takes it as an argument, so a record is a
pure function of (page, address, listing entry, model) and says which model made it;
no cache that depends on crawl order decides anything.

Learn one: ``FurnitureModel.learn((url, body) for ...)``; the bundled default
(``crawler/data/furniture-default.json``) was learned from the navigation, labels and
promotion lines of seeds 000-002 (``python -m crawler.furniture SEED.txt ...``).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from crawler import site_profile

#: A block is furniture when it appears on at least this share of a host's pages ...
MIN_SHARE = 0.3
#: ... and on at least this many of them (a handful of copies of one text is a duplicate,
#: not furniture).
MIN_PAGES = 5
#: Blocks longer than this are never furniture (they are paragraphs, republished or not).
MAX_BLOCK_CHARS = 300
DEFAULT_RESOURCE = "furniture-default.json"


@dataclass(frozen=True)
class FurnitureModel:
    """Normalised text blocks that are furniture on one host."""

    blocks: frozenset[str]
    host: str | None = None
    pages: int = 0

    @property
    def version(self) -> str:
        """A content hash: the same blocks give the same version, whoever learned them."""
        payload = json.dumps(sorted(self.blocks), ensure_ascii=False).encode("utf-8")
        return "fm-" + hashlib.sha256(payload).hexdigest()[:16]

    def is_furniture(self, text: str) -> bool:
        return site_profile.norm_key(text) in self.blocks

    # ------------------------------------------------------------------ learning

    @classmethod
    def learn(
        cls,
        pages: Iterable[tuple[str, bytes | str]],
        min_share: float = MIN_SHARE,
        min_pages: int = MIN_PAGES,
    ) -> FurnitureModel:
        """Learn from ``(url, body)`` pages of one host (use :meth:`learn_by_host` for many)."""
        counts: Counter[str] = Counter()
        total = 0
        host = None
        for url, body in pages:
            tree = site_profile.load(body)
            if tree is None:
                continue
            total += 1
            host = host or _host(url)
            counts.update(_blocks(ln.text for ln in site_profile.lines(tree)))
        return cls._from_counts(counts, total, host, min_share, min_pages)

    @classmethod
    def learn_by_host(
        cls,
        pages: Iterable[tuple[str, bytes | str]],
        min_share: float = MIN_SHARE,
        min_pages: int = MIN_PAGES,
    ) -> dict[str, FurnitureModel]:
        """One model per host of the given pages."""
        by_host: dict[str, list[tuple[str, bytes | str]]] = {}
        for url, body in pages:
            by_host.setdefault(_host(url), []).append((url, body))
        return {
            host: cls.learn(group, min_share, min_pages) for host, group in sorted(by_host.items())
        }

    @classmethod
    def learn_from_texts(
        cls,
        texts: Iterable[str],
        min_share: float = 0.5,
        min_pages: int = 2,
        host: str | None = None,
    ) -> FurnitureModel:
        """Learn from pages saved as plain text (one block a line, list marks ``- `` dropped)."""
        counts: Counter[str] = Counter()
        total = 0
        for text in texts:
            total += 1
            counts.update(_blocks(line.strip().lstrip("-").strip() for line in text.splitlines()))
        return cls._from_counts(counts, total, host, min_share, min_pages)

    @classmethod
    def _from_counts(
        cls, counts: Counter[str], total: int, host: str | None, min_share: float, min_pages: int
    ) -> FurnitureModel:
        need = max(min_pages, math.ceil(min_share * total))
        blocks = frozenset(block for block, n in counts.items() if n >= need)
        return cls(blocks=blocks, host=host, pages=total)

    # ------------------------------------------------------------------ storage

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "host": self.host,
            "pages": self.pages,
            "blocks": sorted(self.blocks),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FurnitureModel:
        blocks = data.get("blocks") or []
        assert isinstance(blocks, list)
        host = data.get("host")
        pages = data.get("pages") or 0
        return cls(
            blocks=frozenset(site_profile.norm_key(str(b)) for b in blocks),
            host=str(host) if host else None,
            pages=int(pages) if isinstance(pages, int) else 0,
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> FurnitureModel:
        return cls.from_json(json.loads(Path(path).read_text()))

    @classmethod
    def default(cls) -> FurnitureModel:
        """The model shipped with the package (learned from the seeds)."""
        return _default()


@lru_cache(maxsize=1)
def _default() -> FurnitureModel:
    data = resources.files("crawler").joinpath("data", DEFAULT_RESOURCE).read_text("utf-8")
    return FurnitureModel.from_json(json.loads(data))


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def _blocks(texts: Iterable[str]) -> set[str]:
    """The distinct normalised blocks of one page (counted once per page)."""
    out = set()
    for text in texts:
        key = site_profile.norm_key(text)
        if key and len(key) <= MAX_BLOCK_CHARS:
            out.add(key)
    return out


def main(argv: list[str]) -> int:
    """``python -m crawler.furniture SEED.txt ... > crawler/data/furniture-default.json``."""
    texts = [Path(p).read_text("utf-8") for p in argv]
    model = FurnitureModel.learn_from_texts(texts, host="osce.org")
    json.dump(model.to_json(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
