"""Mutations of real replica pages, shared by the fuzz tests, the atheris harness and
the crawl over fuzzed pages.

Each mutation is a plain function of (page bytes, a ``random.Random``) so hypothesis,
libFuzzer (atheris) and a seeded loop can all drive the same set. They aim where an
extractor breaks: cut pages, stray and unbalanced tags, deep nesting, wrong or mixed
encodings, NUL and control bytes, duplicated regions, enormous attributes, entity soup.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

from replica import Site

Mutation = Callable[[bytes, random.Random], bytes]
TAGS = (
    b"div",
    b"p",
    b"span",
    b"article",
    b"main",
    b"time",
    b"h1",
    b"dl",
    b"dd",
    b"script",
    b"table",
    b"tr",
    b"td",
    b"li",
    b"ul",
    b"!--",
    b"![CDATA[",
    b"svg",
    b"math",
    b"template",
)


@lru_cache(maxsize=1)
def replica_pages() -> tuple[tuple[str, bytes], ...]:
    """(url, body) of real replica pages: items of every markup variant, listings, a
    static page, the home page."""
    site = Site(items=40, seed=5)
    paths = [it.path for it in site.items_live()][:24]
    paths += ["/press-releases?page=0&rows=10", "/stories", "/partnerships", "/", "/about-us"]
    out = []
    for path in paths:
        status, _, body = site.render(path, "www.osce.org")
        if status == 200:
            out.append(("https://www.osce.org" + path, bytes(body)))
    return tuple(out)


def _span(page: bytes, rng: random.Random) -> tuple[int, int]:
    a = rng.randrange(0, max(1, len(page)))
    return a, min(len(page), a + rng.randrange(0, 2000))


def cut(page: bytes, rng: random.Random) -> bytes:
    return page[: rng.randrange(0, len(page) + 1)]


def delete_span(page: bytes, rng: random.Random) -> bytes:
    a, b = _span(page, rng)
    return page[:a] + page[b:]


def duplicate_span(page: bytes, rng: random.Random) -> bytes:
    a, b = _span(page, rng)
    return page[:b] + page[a:b] * rng.randrange(1, 20) + page[b:]


def insert_junk(page: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(0, len(page) + 1)
    return page[:at] + rng.randbytes(rng.randrange(1, 500)) + page[at:]


def stray_tags(page: bytes, rng: random.Random) -> bytes:
    out = page
    for _ in range(rng.randrange(1, 40)):
        at = rng.randrange(0, len(out) + 1)
        tag = rng.choice(TAGS)
        piece = rng.choice([b"<" + tag + b">", b"</" + tag + b">", b"<" + tag])
        out = out[:at] + piece + out[at:]
    return out


def deep_nesting(page: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(0, len(page) + 1)
    tag = rng.choice(TAGS[:8])
    depth = rng.choice([300, 3000, 30_000])
    return page[:at] + (b"<" + tag + b">") * depth + page[at:]


def wrong_encoding(page: bytes, rng: random.Random) -> bytes:
    text = page.decode("utf-8", "replace")
    codec = rng.choice(["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1251", "shift_jis"])
    body = text.encode(codec, "replace")
    if rng.random() < 0.5:
        body = body.replace(b'charset="utf-8"', b'charset="' + codec.encode() + b'"')
    return body


def control_bytes(page: bytes, rng: random.Random) -> bytes:
    data = bytearray(page)
    for _ in range(rng.randrange(1, 200)):
        data[rng.randrange(0, len(data))] = rng.choice([0, 1, 8, 0x0B, 0x1B, 0x7F, 0xFF, 0xC0])
    return bytes(data)


def huge_attribute(page: bytes, rng: random.Random) -> bytes:
    return page.replace(b"<h1", b'<h1 data-x="' + b"A" * rng.randrange(10_000, 2_000_000) + b'"', 1)


def entity_soup(page: bytes, rng: random.Random) -> bytes:
    soup = b"".join(
        rng.choice(
            [b"&amp;", b"&#0;", b"&#x110000;", b"&nbsp", b"&#9999999999;", b"&lt;script&gt;", b"&"]
        )
        for _ in range(rng.randrange(1, 3000))
    )
    at = rng.randrange(0, len(page) + 1)
    return page[:at] + soup + page[at:]


def bit_flips(page: bytes, rng: random.Random) -> bytes:
    data = bytearray(page)
    for _ in range(rng.randrange(1, 100)):
        i = rng.randrange(0, len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


MUTATIONS: tuple[Mutation, ...] = (
    cut,
    delete_span,
    duplicate_span,
    insert_junk,
    stray_tags,
    deep_nesting,
    wrong_encoding,
    control_bytes,
    huge_attribute,
    entity_soup,
    bit_flips,
)


def mutate(page: bytes, rng: random.Random, rounds: int = 3) -> bytes:
    """``page`` through 1..``rounds`` random mutations."""
    for _ in range(rng.randrange(1, rounds + 1)):
        page = rng.choice(MUTATIONS)(page, rng) or page
    return page
