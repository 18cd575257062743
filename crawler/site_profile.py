"""The site profile of www.osce.org: every label, selector and URL pattern of the site.

Why one module: the site's markup changes (class names, list vs definition list vs
plain rows) far more often than what a reader sees on it. So the profile is driven by
the *visible* labels and their order, as ``../shared/SITE.md`` describes an item page:

    <navigation> / type label / title / Date: / Place: / Source: / Fields of work: /
    By <byline> / <body> / OSCE Impact, Discover more stories ...

The page is first flattened into :class:`Line` objects (one per visual text block, in
document order, each knowing the element that holds it), and the header is read from
those lines by label and order.  Tag names (``h1``, ``nav``, ``footer``, ``time``)
serve only as a faster first path; class names are never consulted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from archive.records import ListingEntry

# --------------------------------------------------------------------------- constants

#: Content type labels seen on the site, as shown, mapped to their record ``kind``.
TYPE_LABELS: dict[str, str] = {
    "press release": "press-release",
    "story": "story",
    "news": "news",
    "news item": "news",
    "spot report": "spot-report",
    "daily report": "daily-report",
    "statement": "statement",
    "feature": "feature",
    "speech": "speech",
    "interview": "interview",
    "op-ed": "op-ed",
    "opinion": "opinion",
    "announcement": "announcement",
    "media advisory": "media-advisory",
    "report": "report",
}

#: The labelled details of an item, as regular expressions over the label text.
DETAIL_LABEL = re.compile(
    r"^(?P<label>date|place|sources?|fields?\s+of\s+work)\s*(?P<colon>[:：])?\s*(?P<value>.*)$",
    re.IGNORECASE | re.DOTALL,
)
DETAIL_FIELDS = {"date": "date", "place": "place", "source": "sources", "sources": "sources"}

#: The byline of stories: ``By Marc Perrin de Brichambaut, OSCE Secretary General``.
BYLINE = re.compile(r"^by\s+(?P<name>\S.*)$", re.IGNORECASE | re.DOTALL)
BYLINE_MAX = 200

#: Lines of the promotion block that closes stories.
PROMOTION_LINES = ("osce impact", "discover more stories about how the osce improves lives.")
#: Headings after which nothing is body: the promotion block, attached documents, links
#: to other sites, related items.
BODY_END = frozenset({"osce impact", "related documents", "see also", "related content"})

#: Furniture lines the profile knows by heart (lowercase, whitespace collapsed).  Anything
#: else that repeats across a host's pages is the learned furniture model's job.
KNOWN_FURNITURE = frozenset(
    {
        *PROMOTION_LINES,
        "skip links",
        "skip to main content",
        "share",
        "share this",
        "share this page",
        "print",
        "back to top",
        "related content",
        "accept",
        "accept cookies",
    }
)
#: Prefixes of lines that are cookie notices or share links wherever they appear.
FURNITURE_PREFIXES = ("this website uses cookies", "we use cookies", "share on ", "share this")

#: Listing pages (``/press-releases``, ``/stories``, ``/newsroom``): entry labels.
LISTING_LABEL = re.compile(
    r"^(?P<label>publishing date|content type|where we are|what we do)\s*[:：]\s*(?P<value>.*)$",
    re.IGNORECASE | re.DOTALL,
)
LISTING_FIELDS = {
    "publishing date": "published",
    "content type": "kind_label",
    "where we are": "where",
    "what we do": "what",
}

#: Item addresses: ``/<section>/<node>``, ``/node/<n>``, optionally under a language prefix.
NODE_PATH = re.compile(r"^/(?:[a-z]{2}/)?(?:[\w.-]+/){0,3}(?P<node>\d+)/?$")
HOST_ALIASES = ("www.osce.org", "osce.org")
ID_PREFIX = "osce.org/"

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
#: Containers of site chrome (menus, page header and footer, sidebars, cookie banners).
CHROME_TAGS = frozenset({"nav", "footer", "aside", "dialog"})
CHROME_ROLES = frozenset(
    {"navigation", "contentinfo", "banner", "complementary", "search", "dialog", "alertdialog"}
)
#: Inside these, a <header> is an article header, not the page banner.
CONTENT_TAGS = frozenset({"article", "main"})

_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?:;…]['\"”’)]?$")


def collapse(text: str) -> str:
    """Whitespace collapsed to single spaces, as a reader sees a line."""
    return _SPACE.sub(" ", text).strip()


def norm_key(text: str) -> str:
    """The comparison key of a line (case and whitespace ignored)."""
    return collapse(text).casefold()


# --------------------------------------------------------------------------- parsing


def load(body: bytes | str) -> lxml_html.HtmlElement | None:
    """Parse a page into an lxml tree, or ``None`` when nothing HTML-like is there."""
    if isinstance(body, bytes):
        if b"\x00" in body[:4096] and not body[:4096].strip(b"\x00"):
            return None
        text = _decode(body)
    else:
        text = body
    text = text.replace("\x00", "")
    if not text.strip():
        return None
    if text.lstrip().startswith("<?xml"):
        text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        tree = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError, TypeError):
        return None
    return tree if isinstance(tree, lxml_html.HtmlElement) else None


_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


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


@dataclass
class Line:
    """One visual text block of a page, in document order."""

    text: str
    owner: etree._Element  # the innermost block element holding the line
    chrome: bool = False  # inside navigation, page header/footer, sidebar
    times: list[etree._Element] = field(default_factory=list)  # <time> elements on the line
    links: list[str] = field(default_factory=list)  # hrefs of <a> on the line


def _is_chrome(el: etree._Element, content_depth: int) -> bool:
    tag = el.tag
    if tag in CHROME_TAGS:
        return True
    if tag == "header" and content_depth == 0:
        return True
    role = el.get("role")
    if role and role.strip().lower() in CHROME_ROLES:
        return True
    return el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true"


def lines(tree: etree._Element) -> list[Line]:
    """Flatten a page into its visual text blocks (iteratively: deep trees cannot recurse)."""
    out: list[Line] = []
    buf: list[str] = []
    times: list[etree._Element] = []
    links: list[str] = []
    blocks: list[etree._Element] = []
    chrome_depth = 0
    content_depth = 0
    chrome_stack: list[bool] = []

    def flush() -> None:
        nonlocal buf, times, links
        text = collapse("".join(buf)) if buf else ""
        if text or times:
            owner = blocks[-1] if blocks else tree
            out.append(Line(text, owner, chrome_depth > 0, times, links))
        buf, times, links = [], [], []

    walker = etree.iterwalk(tree, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            if event == "end" and el.tail:
                buf.append(el.tail)
            continue
        tag = tag.lower()
        if event == "start":
            if tag in SKIP_TAGS or tag in PRUNE_TAGS:
                if tag in PRUNE_TAGS:
                    flush()
                walker.skip_subtree()
                chrome_stack.append(False)
                continue
            is_chrome = _is_chrome(el, content_depth)
            chrome_stack.append(is_chrome)
            if tag in BLOCK_TAGS:
                flush()
                blocks.append(el)
            if is_chrome:
                chrome_depth += 1
            if tag in CONTENT_TAGS:
                content_depth += 1
            if tag == "time":
                times.append(el)
            elif tag == "a":
                href = el.get("href")
                if href:
                    links.append(href)
            if el.text:
                buf.append(el.text)
        else:
            if tag in SKIP_TAGS or tag in PRUNE_TAGS:
                chrome_stack.pop()
                if tag in PRUNE_TAGS:
                    flush()
            else:
                if tag in BLOCK_TAGS:
                    flush()
                    if blocks and blocks[-1] is el:
                        blocks.pop()
                if chrome_stack.pop():
                    chrome_depth -= 1
                if tag in CONTENT_TAGS:
                    content_depth -= 1
            if el.tail:
                buf.append(el.tail)
    flush()
    return out


# --------------------------------------------------------------------------- item header


@dataclass
class ItemHeader:
    """What the profile read above the body of an item page."""

    type_label: str | None
    title: str
    details: dict[str, list[str]]  # field -> value texts as shown (place, sources, ...)
    date_times: list[str]  # datetime attributes of <time> beside the Date label
    date_texts: list[str]  # visible text beside the Date label, if any
    byline: str | None
    header_lines: list[int]  # indexes (into the page's lines) of every header line
    body_start: int  # index of the first body line
    body_end: int  # index one past the last body line (promotion block, page end)
    labels_seen: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return slug_type(self.type_label) if self.type_label else None


def slug_type(label: str) -> str:
    """``Press release`` -> ``press-release``; unknown labels are slugged the same way."""
    key = norm_key(label)
    if key in TYPE_LABELS:
        return TYPE_LABELS[key]
    return re.sub(r"[^a-z0-9]+", "-", key).strip("-") or "page"


def _label_of(text: str) -> tuple[str, str] | None:
    """``(field, inline value)`` when a line is a detail label, else ``None``."""
    if len(text) > 400:
        return None
    m = DETAIL_LABEL.match(text)
    if not m:
        return None
    value = m.group("value").strip()
    if not m.group("colon") and value:
        return None
    label = collapse(m.group("label")).lower()
    if label.startswith("field"):
        return "fields_of_work", value
    return DETAIL_FIELDS[label], value


def _value_like(text: str) -> bool:
    """Could this line be the value of a label (short, not a sentence, not a byline)?"""
    return (
        len(text) <= 400
        and not _SENTENCE_END.search(text)
        and not BYLINE.match(text)
        and _label_of(text) is None
    )


def _byline_of(text: str) -> str | None:
    m = BYLINE.match(text)
    if not m or len(text) > BYLINE_MAX or text.endswith("."):
        return None
    return collapse(m.group("name"))


def _type_label_like(text: str) -> bool:
    if norm_key(text) in TYPE_LABELS:
        return True
    words = text.split()
    return (
        0 < len(words) <= 3
        and len(text) <= 30
        and text[:1].isupper()
        and not _SENTENCE_END.search(text)
        and _label_of(text) is None
    )


def _descends(el: etree._Element, ancestor: etree._Element) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def _ancestors(el: etree._Element) -> list[etree._Element]:
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
        chain = _ancestors(el)
        if result is None:
            result = chain
            continue
        ids = {id(x) for x in chain}
        while result and id(result[0]) not in ids:
            result.pop(0)
    return result[0] if result else None


def _is_title_line(line: Line) -> bool:
    node: etree._Element | None = line.owner
    for _ in range(3):
        if node is None:
            return False
        if isinstance(node.tag, str) and node.tag.lower() == "h1":
            return True
        node = node.getparent()
    return False


def read_item(page: list[Line]) -> ItemHeader | None:
    """Read an item's header from a page's lines; ``None`` when the page is not an item."""
    # Lines with a <time> but no visible text count: the Date label's value is often that.
    idx = [i for i, ln in enumerate(page) if not ln.chrome and (ln.text or ln.times)]
    if not idx:
        return None
    pos = _find_title(page, idx)
    if pos is None:
        return None
    title_at = idx[pos]
    # The type label: the nearest line above the title, when it looks like one.
    type_label = None
    header = [title_at]
    if pos > 0 and _type_label_like(page[idx[pos - 1]].text):
        type_label = page[idx[pos - 1]].text
        header.append(idx[pos - 1])

    details: dict[str, list[str]] = {}
    labels: list[tuple[int, str]] = []  # (position in idx, field)
    byline = None
    # First pass: the run of label lines below the title (value lines between them).
    p = pos + 1
    while p < len(idx):
        text = page[idx[p]].text
        found = _label_of(text)
        if found:
            labels.append((p, found[0]))
        elif not labels:
            if p - pos > 2:  # at most a subtitle and a byline between title and labels
                break
        elif not _value_like(text) or p - labels[-1][0] > 12:
            break
        p += 1
    if not labels:
        return None

    owners = [page[idx[q]].owner for q, _ in labels]
    if len(owners) > 1:
        container = common_ancestor(owners)
    else:
        container = owners[0].getparent()
    if container is None:
        container = owners[0]

    date_times: list[str] = []
    date_texts: list[str] = []
    end = labels[0][0]
    for k, (q, name) in enumerate(labels):
        label_line = page[idx[q]]
        header.append(idx[q])
        values: list[str] = []
        inline = _label_of(label_line.text)
        if inline and inline[1]:
            values.append(inline[1])
        if name == "date":
            date_times.extend(t.get("datetime", "") for t in label_line.times if t.get("datetime"))
        stop = labels[k + 1][0] if k + 1 < len(labels) else len(idx)
        last = k + 1 == len(labels)
        # The label's own element holds its values (nested list, span) unless it is a
        # wider block that holds other labels too.
        row: etree._Element | None = label_line.owner
        if any(_descends(page[idx[x]].owner, label_line.owner) for x, _ in labels if x != q):
            row = None
        shared = last and _holds_body(page, idx, q, row, container)
        r = q + 1
        while r < stop:
            ln = page[idx[r]]
            if row is None or not _descends(ln.owner, row):
                if not _value_like(ln.text) or _byline_of(ln.text):
                    break
                # After the last label, values stay within the details block; when that
                # block also holds the body (plain rows beside paragraphs), one line at most.
                if last and (not _descends(ln.owner, container) or (shared and values)):
                    break
            if ln.text:
                values.append(ln.text)
            header.append(idx[r])
            if name == "date":
                date_times.extend(t.get("datetime", "") for t in ln.times if t.get("datetime"))
            r += 1
        end = r
        if name == "date":
            date_texts.extend(values)
        else:
            details.setdefault(name, []).extend(values)
    # The byline: the line after the details (or, in some layouts, just above them).
    nxt = end
    if nxt < len(idx):
        byline = _byline_of(page[idx[nxt]].text)
        if byline is not None:
            header.append(idx[nxt])
            nxt += 1
    if byline is None:
        for q in range(pos + 1, labels[0][0]):
            found_by = _byline_of(page[idx[q]].text)
            if found_by is not None:
                byline = found_by
                header.append(idx[q])
                break
    body_start = idx[nxt] if nxt < len(idx) else len(page)
    # The body ends at the promotion / documents / see-also headings, or where the
    # item's <article> (or <main>) ends, whichever comes first.
    scope = _content_scope(page[title_at].owner)
    body_end = len(page)
    for q in range(nxt, len(idx)):
        ln = page[idx[q]]
        if norm_key(ln.text) in BODY_END or (scope is not None and not _descends(ln.owner, scope)):
            body_end = idx[q]
            break
    return ItemHeader(
        type_label=type_label,
        title=page[title_at].text,
        details=details,
        date_times=date_times,
        date_texts=date_texts,
        byline=byline,
        header_lines=sorted(set(header)),
        body_start=body_start,
        body_end=body_end,
        labels_seen=[name for _, name in labels],
    )


def _holds_body(
    page: list[Line],
    idx: list[int],
    q: int,
    row: etree._Element | None,
    container: etree._Element,
) -> bool:
    """Does the details block also hold the body (the first non-value line after label q)?"""
    for r in range(q + 1, min(q + 40, len(idx))):
        ln = page[idx[r]]
        if row is not None and _descends(ln.owner, row):
            continue
        if not _value_like(ln.text) or _byline_of(ln.text):
            return _descends(ln.owner, container)
    return False


def _content_scope(el: etree._Element) -> etree._Element | None:
    """The innermost <article> or <main> around the title, if any."""
    node: etree._Element | None = el
    while node is not None:
        if isinstance(node.tag, str) and node.tag.lower() in CONTENT_TAGS:
            return node
        node = node.getparent()
    return None


def _find_title(page: list[Line], idx: list[int]) -> int | None:
    """Position (in ``idx``) of the title line: an <h1> followed by labels, else the line
    above the first label."""
    for pos, i in enumerate(idx):
        if page[i].text and _is_title_line(page[i]):
            for q in range(pos + 1, min(pos + 4, len(idx))):
                if _label_of(page[idx[q]].text):
                    return pos
    for pos, i in enumerate(idx):
        if pos == 0 or not _label_of(page[i].text):
            continue
        # A run of labels starts here when a label with a colon is among the next lines
        # (a menu heading such as "Fields of work" alone is not a detail label).
        window = [page[idx[q]].text for q in range(pos, min(pos + 4, len(idx)))]
        if not any(_label_of(t) and (":" in t or "：" in t) for t in window):
            continue
        t = pos - 1
        if _byline_of(page[idx[t]].text) and t > 0:  # a byline above the labels
            t -= 1
        return t if page[idx[t]].text else None
    return None


def split_values(values: list[str]) -> list[str]:
    """Comma-separated values (in one line or several) as a clean list, order kept."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = collapse(part).strip(" ;")
            if part and part not in out:
                out.append(part)
    return out


def page_title(tree: etree._Element, page: list[Line]) -> str:
    """A non-item page's title: its <h1>, else the document <title>."""
    for ln in page:
        if not ln.chrome and ln.text and _is_title_line(ln):
            return ln.text
    found = tree.find(".//title")
    return collapse(found.text_content()) if found is not None else ""


def is_furniture_line(text: str) -> bool:
    """A line the profile knows to be site furniture (promotion, share, cookies, skip links)."""
    key = norm_key(text)
    return key in KNOWN_FURNITURE or key.startswith(FURNITURE_PREFIXES)


# --------------------------------------------------------------------------- metadata


def canonical_url(tree: etree._Element | None, url: str) -> str:
    """The canonical address: <link rel=canonical> resolved against ``url``, else ``url``."""
    if tree is not None:
        for link in tree.iterfind(".//link"):
            rel = (link.get("rel") or "").lower().split()
            href = (link.get("href") or "").strip()
            if "canonical" in rel and href:
                try:
                    return normalise_url(urljoin(url, href))
                except ValueError:
                    break
    return normalise_url(url)


def normalise_url(url: str) -> str:
    """Drop the fragment; keep everything else as given."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def node_id(url: str) -> str | None:
    """The node number of an item address (``/fsc/55436``, ``/node/55436``), else ``None``."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    m = NODE_PATH.match(path)
    return m.group("node") if m else None


def document_id(canonical: str, url: str) -> str:
    """``osce.org/<node>`` from the canonical link or the address; pages get their path."""
    node = node_id(canonical) or node_id(url)
    if node:
        return ID_PREFIX + node
    try:
        path = urlsplit(canonical).path or "/"
    except ValueError:
        path = "/"
    return ID_PREFIX + path.strip("/")


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


# --------------------------------------------------------------------------- listings


def parse_listing(body: bytes | str, url: str) -> list[ListingEntry]:
    """Entries of a listing page: each linked title with its labelled details.

    Driven by the labels (``Publishing date:``, ``Content type:``, ``Where we are:``,
    ``What we do:``): an entry is the linked line above a run of those labels.
    """
    from crawler import dates  # dates depends on nothing here; the import is one-way

    tree = load(body)
    if tree is None:
        return []
    page = lines(tree)
    entries: list[ListingEntry] = []
    current: ListingEntry | None = None
    pending: str | None = None  # a label whose value is on the next line
    last_link: tuple[str, str] | None = None
    for ln in page:
        if ln.chrome or not ln.text:
            continue
        m = LISTING_LABEL.match(ln.text) if len(ln.text) < 400 else None
        if m is None and len(ln.text) < 60:
            m = LISTING_LABEL.match(ln.text + ":") if ln.text.endswith(("date", "type")) else None
        if m:
            name = LISTING_FIELDS[collapse(m.group("label")).lower()]
            if current is None and last_link is not None:
                current = ListingEntry(url=urljoin(url, last_link[0]), title=last_link[1])
                entries.append(current)
                last_link = None
            if current is not None:
                value = m.group("value").strip()
                if value:
                    _set_listing(current, name, value, dates)
                    pending = None
                else:
                    pending = name
            continue
        if pending and current is not None:
            _set_listing(current, pending, ln.text, dates)
            pending = None
            continue
        item_links = [h for h in ln.links if node_id(urljoin(url, h))]
        if item_links:
            last_link = (item_links[0], ln.text)
            current = None
    return entries


def _set_listing(entry: ListingEntry, name: str, value: str, dates_module) -> None:  # noqa: ANN001
    if name == "published":
        parsed = dates_module.parse_date(value)
        entry.published = parsed.isoformat() if parsed else None
    else:
        setattr(entry, name, collapse(value))
