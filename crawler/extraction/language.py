"""The record's language: the one the markup declares, unless the text clearly reads as another."""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

#: Frequent function words of the site's languages: enough to check a declared language.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the of and to in a is that for on with as by are was it be at from".split()),
    "ru": frozenset("и в не на что с по как для это от из к о а то же за".split()),
    "fr": frozenset("le la les de des et en un une du est que pour dans par sur au".split()),
    "de": frozenset("der die das und in den von zu mit sich des auf für ist im dem nicht".split()),
    "es": frozenset("el la de que y en los del se las por un para con una es al".split()),
    "it": frozenset("il di che e la per in un del della è con non una le si da".split()),
    "uk": frozenset("і в не на що з по як для це від до та у й за".split()),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(body: str) -> str | None:
    """The language whose stopwords cover most of the text's first words, if clear."""
    words = [w.lower() for w in _WORD.findall(body[:4000])][:600]
    if len(words) < 20:
        return None
    scores = {lang: sum(w in sw for w in words) / len(words) for lang, sw in STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] < 0.08 or ranked[0] < 1.5 * ranked[1]:
        return None
    return best


def language(declared: str | None, body: str) -> str | None:
    """The declared language, unless the text clearly reads as another one."""
    detected = detect_language(body)
    if declared and detected and detected != declared:
        log.info("language: markup says %s, text reads as %s", declared, detected)
        return detected
    return declared or detected
