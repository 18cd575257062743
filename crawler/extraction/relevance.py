"""Whether a third-party article is about the OSCE: the rule, with its terms as data.

An article is *about the OSCE* when its title or its text names an OSCE term, one of
its institutions or one of its officials, as listed in ``crawler/data/relevance.toml``
(acronyms match as whole words with their case; names as whole words in any case, any
spacing).  The crawl keeps such an article as a document and skips every other page of
a third-party source (its capture is kept, no document is made).  The terms found are
the evidence, in the order the rule lists them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Relevance", "Rule", "about_osce", "default_rule"]

RULE_FILE = "relevance.toml"


@dataclass(frozen=True)
class Relevance:
    """The rule's answer for one article: kept or not, and the terms that decided."""

    kept: bool
    terms: tuple[str, ...] = ()


class Rule:
    """A compiled set of terms: ``acronyms`` (case kept) and ``names`` (any case)."""

    def __init__(self, acronyms: list[str], names: list[str]) -> None:
        self.acronyms = tuple(acronyms)
        self.names = tuple(names)
        self._patterns = [(t, _pattern(t, ignore_case=False)) for t in self.acronyms]
        self._patterns += [(t, _pattern(t, ignore_case=True)) for t in self.names]

    @classmethod
    def from_toml(cls, text: str) -> Rule:
        data = tomllib.loads(text)
        return cls(
            [str(t) for t in data.get("acronyms", [])], [str(t) for t in data.get("names", [])]
        )

    def check(self, title: str, text: str) -> Relevance:
        """Which terms the article's ``title`` or ``text`` names."""
        haystack = f"{title}\n{text}"
        found = tuple(term for term, pattern in self._patterns if pattern.search(haystack))
        return Relevance(bool(found), found)


def _pattern(term: str, ignore_case: bool) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.split()]
    return re.compile(
        r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE if ignore_case else 0
    )


@lru_cache(maxsize=1)
def default_rule() -> Rule:
    """The rule of ``crawler/data/relevance.toml``."""
    text = resources.files("crawler").joinpath("data", RULE_FILE).read_text("utf-8")
    return Rule.from_toml(text)


def about_osce(title: str, text: str, rule: Rule | None = None) -> Relevance:
    """Whether an article with this ``title`` and body ``text`` is about the OSCE."""
    return (rule or default_rule()).check(title or "", text or "")
