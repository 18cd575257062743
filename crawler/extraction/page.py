"""A page parsed once and flattened into lines: what every other extraction step reads.

A :class:`Line` is one visual text block in document order, with the element that holds
it, the text of its links (for link density) and its ``<time>`` elements.  Tag names are
used only as hints (``nav``/``footer``/``aside`` mark *probable* chrome, ``h1``-``h6``
mark headings); no decision downstream rests on a class name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav "
    "ol p pre section summary table tbody thead tfoot tr td th caption ul br".split()
)
SKIP_TAGS = frozenset(
    "script style noscript template head svg iframe object embed button select option "
    "textarea input canvas map video audio".split()
)
#: Never body text: photos and their captions.
PRUNE_TAGS = frozenset({"figure", "figcaption"})
#: Probable chrome (a hint: menus, page header and footer, sidebars, dialogs).
CHROME_TAGS = frozenset({"nav", "footer", "aside", "dialog"})
CHROME_ROLES = frozenset(
    {"navigation", "contentinfo", "banner", "complementary", "search", "dialog", "alertdialog"}
)
#: Inside these, a <header> is an article header, not the page banner.
CONTENT_TAGS = frozenset({"article", "main"})
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

#: Bodies beyond this are cut before parsing: a hostile page must not stall a crawl.
MAX_BODY_BYTES = 8 * 1024 * 1024

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def collapse(text: str) -> str:
    """Whitespace collapsed to single spaces, as a reader sees a line."""
    return " ".join(text.split())


def norm_key(text: str) -> str:
    """The comparison key of a line (case and whitespace ignored)."""
    return " ".join(text.split()).casefold()


@dataclass
class Line:
    """One visual text block of a page, in document order."""

    text: str
    owner: etree._Element  # the innermost block element holding the line
    chrome: bool = False  # inside probable chrome (a hint only)
    times: list[etree._Element] = field(default_factory=list)  # <time> elements on the line
    links: list[str] = field(default_factory=list)  # hrefs of <a> on the line
    link_chars: int = 0  # characters of the line inside <a>
    key: str = field(init=False, repr=False)  # norm_key(text), computed once

    def __post_init__(self) -> None:
        self.key = self.text.casefold()  # text is collapsed already

    @property
    def link_density(self) -> float:
        return min(1.0, self.link_chars / len(self.text)) if self.text else 0.0

    @property
    def heading(self) -> bool:
        return isinstance(self.owner.tag, str) and self.owner.tag.lower() in HEADING_TAGS


@dataclass
class Page:
    """A parsed page: its tree and its lines (computed once)."""

    tree: lxml_html.HtmlElement
    lines: list[Line]
    #: ``id(element) -> (first, last)`` line indexes inside it (an element's lines are
    #: contiguous); elements holding no line are absent.
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: Every element of the tree, held so that lxml keeps one proxy object per element:
    #: ``id(element)`` keys (``spans``, ancestor sets) stay valid while the page lives.
    elements: list[etree._Element] = field(default_factory=list, repr=False)


def decode(body: bytes | str | None) -> str | None:
    """The page as text (cut at :data:`MAX_BODY_BYTES`, charset decoded, NULs dropped),
    or ``None`` when there is nothing to read."""
    if body is None:
        return None
    if len(body) > MAX_BODY_BYTES:
        body = body[:MAX_BODY_BYTES]
    if isinstance(body, bytes):
        if b"\x00" in body[:4096] and not body[:4096].strip(b"\x00"):
            return None
        text = _decode(body)
    else:
        text = body
    text = text.replace("\x00", "")
    return text if text.strip() else None


def load(body: bytes | str | None) -> lxml_html.HtmlElement | None:
    """Parse a page into an lxml tree, or ``None`` when nothing HTML-like is there."""
    text = decode(body)
    if text is None:
        return None
    if text.lstrip().startswith("<?xml"):
        text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        tree = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError, TypeError):
        return None
    return tree if isinstance(tree, lxml_html.HtmlElement) else None


def parse(body: bytes | str | None) -> Page | None:
    """The page, parsed and flattened, or ``None`` when there is no HTML."""
    tree = load(body)
    if tree is None:
        return None
    return page_of(tree)


def page_of(tree: lxml_html.HtmlElement) -> Page:
    """A parsed tree flattened into a :class:`Page` (its elements held, see ``Page``)."""
    elements = list(tree.iter())
    found, spans = flatten(tree)
    return Page(tree, found, spans, elements)


def _decode(body: bytes) -> str:
    """Bytes to text: BOM, then the declared charset, then UTF-8, then Latin-1."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    m = _META_CHARSET.search(body[:4096])
    if m:
        try:
            return body.decode(m.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _is_chrome(el: etree._Element, tag: str, content_depth: int) -> bool:
    if tag in CHROME_TAGS:
        return True
    if tag == "header" and content_depth == 0:
        return True
    role = el.get("role")
    if role and role.strip().lower() in CHROME_ROLES:
        return True
    return el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true"


class _Flattener:
    """The state of one walk over a tree (iterative: deep trees cannot recurse)."""

    def __init__(self, tree: etree._Element) -> None:
        self.tree = tree
        self.out: list[Line] = []
        self.buf: list[str] = []
        self.times: list[etree._Element] = []
        self.links: list[str] = []
        self.link_chars = 0
        self.link_depth = 0
        self.blocks: list[etree._Element] = []
        self.chrome_depth = 0
        self.content_depth = 0
        self.chrome_stack: list[bool] = []
        self.begin: dict[int, int] = {}
        self.spans: dict[int, tuple[int, int]] = {}

    def text(self, value: str | None) -> None:
        if value:
            self.buf.append(value)
            if self.link_depth:
                self.link_chars += len(value.strip()) + 1

    def flush(self) -> None:
        text = collapse("".join(self.buf)) if self.buf else ""
        if text or self.times:
            owner = self.blocks[-1] if self.blocks else self.tree
            self.out.append(
                Line(text, owner, self.chrome_depth > 0, self.times, self.links, self.link_chars)
            )
        self.buf, self.times, self.links, self.link_chars = [], [], [], 0

    def start(self, el: etree._Element, tag: str) -> bool:
        """Enter an element; ``False`` when its subtree is to be skipped."""
        if tag in SKIP_TAGS or tag in PRUNE_TAGS:
            if tag in PRUNE_TAGS:
                self.flush()
            self.chrome_stack.append(False)
            return False
        is_chrome = _is_chrome(el, tag, self.content_depth)
        self.chrome_stack.append(is_chrome)
        if tag in BLOCK_TAGS:
            self.flush()
            self.blocks.append(el)
        self.begin[id(el)] = len(self.out)
        self.chrome_depth += is_chrome
        self.content_depth += tag in CONTENT_TAGS
        if tag == "time":
            self.times.append(el)
        elif tag == "a":
            self.link_depth += 1
            if el.get("href"):
                self.links.append(el.get("href") or "")
        self.text(el.text)
        return True

    def end(self, el: etree._Element, tag: str) -> None:
        if tag in SKIP_TAGS or tag in PRUNE_TAGS:
            self.chrome_stack.pop()
            if tag in PRUNE_TAGS:
                self.flush()
        else:
            if tag in BLOCK_TAGS:
                self.flush()
                if self.blocks and self.blocks[-1] is el:
                    self.blocks.pop()
            first = self.begin.pop(id(el), len(self.out))
            if len(self.out) > first:
                self.spans[id(el)] = (first, len(self.out) - 1)
            self.chrome_depth -= self.chrome_stack.pop()
            self.content_depth -= tag in CONTENT_TAGS
            if tag == "a":
                self.link_depth -= 1
        self.text(el.tail)


def lines(tree: etree._Element) -> list[Line]:
    """Flatten a page into its visual text blocks, in document order."""
    return flatten(tree)[0]


def flatten(tree: etree._Element) -> tuple[list[Line], dict[int, tuple[int, int]]]:
    """The page's lines and the line span of every element that holds one."""
    state = _Flattener(tree)
    walker = etree.iterwalk(tree, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            if event == "end":
                state.text(el.tail)
            continue
        tag = tag.lower()
        if event == "start":
            if not state.start(el, tag):
                walker.skip_subtree()  # its "end" event still comes
        else:
            state.end(el, tag)
    state.flush()
    return state.out, state.spans


# --------------------------------------------------------------------------- tree helpers


def descends(el: etree._Element, ancestor: etree._Element) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def chrome_between(el: etree._Element, top: etree._Element) -> bool:
    """Is ``el``, or an element between it and ``top`` (``top`` excluded), probable chrome
    (a menu, a page header or footer, a sidebar, a dialog, something hidden) or never
    shown as text (``template``, ``noscript``, ``svg``, ...)?"""
    chain = ancestors(el)
    inside: list[etree._Element] = []
    for node in chain:
        if node is top:
            break
        inside.append(node)
    for i, node in enumerate(inside):
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in SKIP_TAGS:
            return True
        # A <header> inside an article or <main> is the article's header, not the banner.
        content = tag == "header" and any(
            isinstance(up.tag, str) and up.tag.lower() in CONTENT_TAGS for up in chain[i + 1 :]
        )
        if _is_chrome(node, tag, int(content)):
            return True
    return False


def ancestors(el: etree._Element) -> list[etree._Element]:
    """``el`` and its ancestors, innermost first."""
    chain = []
    node: etree._Element | None = el
    while node is not None:
        chain.append(node)
        node = node.getparent()
    return chain


def common_ancestor(elements: Iterable[etree._Element]) -> etree._Element | None:
    """The lowest element containing all ``elements``."""
    result: list[etree._Element] | None = None
    for el in elements:
        chain = ancestors(el)
        if result is None:
            result = chain
            continue
        ids = {id(x) for x in chain}
        while result and id(result[0]) not in ids:
            result.pop(0)
    return result[0] if result else None


def head_title(tree: etree._Element) -> str:
    """The document's own statement of its title: og:title, else <title>."""
    for meta in tree.iterfind(".//meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:title":
            value = collapse(meta.get("content") or "")
            if value:
                return value
    found = tree.find(".//title")
    return collapse(found.text_content()) if found is not None else ""


def html_language(tree: etree._Element) -> str | None:
    """The language the markup declares (<html lang>, Content-Language, og:locale)."""
    lang = tree.get("lang") or tree.get("xml:lang")
    if not lang:
        for meta in tree.iterfind(".//meta"):
            key = (meta.get("http-equiv") or meta.get("name") or meta.get("property") or "").lower()
            if key in ("content-language", "language", "og:locale", "dc.language"):
                lang = meta.get("content")
                if lang:
                    break
    if not lang:
        return None
    code = re.split(r"[-_]", lang.strip().lower())[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def canonical_link(tree: etree._Element | None) -> str | None:
    """The href of <link rel=canonical>, if any."""
    if tree is None:
        return None
    for link in tree.iterfind(".//link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rel and href:
            return href
    return None
