"""Structure-randomised themes: the same content in markup nobody here wrote.

A :class:`Theme` is drawn from one integer (``Site(theme=N)``, ``python -m replica serve
--theme N``); theme 0 is no theme at all (the default markup of :mod:`replica.pages`). A
theme decides the *form* of every page of the site, never what an item says (except that
some items carry long label values, see :attr:`Theme.long_labels`):

- wrappers and nesting depth around the content column, the tag that carries each part
  (type label, title, details, body), and class names, which are random pseudo-words and
  never one of osce.org's (:data:`OSCE_CLASS_WORDS` is checked);
- where the labelled details sit (before or after the title, after the body, in a
  sidebar) and as what (a table, a ``<dl>``, a list, rows of ``<div>``\\ s or ``<p>``\\ s),
  and how long values are split (one line, one element each, ``<br>`` lines);
- which furniture blocks exist and where (:class:`Block`): plain ``<div>``\\ s,
  ``<aside>``, ``<section>``, ``<footer>``, short ``<p>``\\ s right after the last body
  paragraph, link lists inside the content column, button rows, headed boxes ("Related",
  "Latest news", "Follow us", "Share", ...), a cookie banner at the end of ``<body>``;
  texts are drawn from pools, and ``varying`` blocks link other items, so their links
  differ from page to page;
- the item's attached documents (:class:`DocsForm`): under which heading, in a list,
  paragraphs, rows or a table, marked as files by their address's extension, a ``type=``
  attribute, a ``(PDF)`` label beside the link, or several of these (never by a class
  name), at the file's own address or at an extension-less download address;
- listings: rows per page (often 10 whatever ``rows=`` asks, SITE.md), the pager
  (``rel=next``, a ``pager-next`` item, or page numbers only), and what lies past the end
  (404, an empty page, the last page again) and whether the last page still offers "next"
  (when it does not, the page without a next link is the end).

This module is data only (standard library and :mod:`replica.vocab`); the markup is
written by :mod:`replica.themed`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

#: Class-name words of osce.org and its Drupal theme (SITE.md, the seeds, the default
#: markup): a theme never uses them, so no extraction can lean on them.
OSCE_CLASS_WORDS = frozenset(
    (
        "field",
        "node",
        "pane",
        "content",
        "osce",
        "pager",
        "teaser",
        "views",
        "view",
        "region",
        "menu",
        "page",
        "title",
        "text",
        "formatted",
        "body",
        "share",
        "footer",
        "related",
        "cookie",
        "search",
        "result",
        "figure",
        "download",
        "links",
        "date",
        "display",
        "author",
        "byline",
        "header",
        "main",
        "article",
        "label",
        "item",
        "items",
        "details",
        "meta",
    )
)

_CONSONANTS = "bcdfghjklmnprstvz"
_VOWELS = "aeiou"

#: Texts furniture blocks draw from. None of them can be a body paragraph: body
#: paragraphs carry a sentence unique to the site (see ``generator.unique_sentence``).
HEADINGS = {
    "share": ("Share", "Share this", "Share this page", "Spread the word", "Share on"),
    "follow": ("Follow us", "Stay connected", "Connect with us", "Find us on", "Follow the OSCE"),
    "related": ("Related", "Related content", "See also", "More on this topic", "Read more"),
    "latest": ("Latest news", "Latest", "Recent news", "Newest stories", "In the news"),
    "contact": ("Contact", "Media contacts", "Press contact", "For more information"),
    "newsletter": ("Newsletter", "Subscribe", "Get our updates", "Sign up"),
}
SHARE_LINKS = ("Facebook", "X", "LinkedIn", "Email", "Print", "WhatsApp", "Telegram", "Copy link")
FOLLOW_LINKS = ("Facebook", "Instagram", "YouTube", "LinkedIn", "X", "Flickr", "Mastodon")
CONTACT_LINES = (
    "Press and Public Information Section",
    "Wallnerstrasse 6, 1010 Vienna, Austria",
    "Tel: +43 1 514 36 6000",
    "press@osce.org",
    "Media enquiries: +43 676 71 74 592",
    "Office hours: Monday to Friday, 9:00-17:00",
)
NEWSLETTER_LINES = (
    "Get the latest news from the OSCE in your inbox.",
    "Sign up for our monthly newsletter.",
    "Receive press releases by email as soon as they are published.",
)
TRAILER_LINES = (  # short <p>s after the last body paragraph
    "For further information, please contact the press office.",
    "This page is also available in Russian.",
    "Photos of the event are available on our Flickr page.",
    "Follow the OSCE on social media for updates.",
    "All press releases are available in the newsroom.",
    "Sign up to receive our press releases by email.",
    "Page last reviewed by the editorial team.",
)
FOOTER_LINES = (
    "OSCE Secretariat",
    "Wallnerstrasse 6",
    "1010 Vienna, Austria",
    "Tel: +43 1 514 360",
    "Contacts",
    "Employment",
    "Procurement",
    "Terms of use",
    "Privacy policy",
    "Accessibility statement",
)
COOKIE_LINES = (
    "We use cookies on this site to enhance your user experience.",
    "This website uses cookies to improve your experience.",
    "Cookies help us deliver our services. By using them you agree.",
)
COOKIE_BUTTONS = ("Accept", "Decline", "Accept all", "Only necessary", "More info", "Settings")
BUTTON_ROWS = ("Print", "Download PDF", "Back to top", "Subscribe", "Bookmark", "Listen")

#: Furniture kinds (issue 13 point 2). ``latest`` and ``related`` link other items, so
#: their lines differ from page to page.
BLOCK_KINDS = (
    "share",
    "follow",
    "related",
    "latest",
    "contact",
    "newsletter",
    "trailer",
    "buttons",
    "footer",
    "cookie",
)
#: Where a block can sit: inside the content column before or after the body, right
#: after the body's last paragraph in the body's own container, after the content column,
#: in a sidebar, or (footer and cookie) at the end of ``<body>``.
POSITIONS = ("before-body", "after-body", "in-body-end", "after-column", "sidebar", "page-end")
BLOCK_TAGS = ("div", "div", "div", "aside", "section", "footer", "nav")

DETAILS_PLACES = ("after-title", "after-title", "before-title", "after-body", "sidebar")
DETAILS_STYLES = ("table", "dl", "ul", "div", "p", "span")
VALUE_SPLITS = ("comma", "elements", "lines")
PAGERS = ("rel-next", "pager-next", "numbers")
ENDS = ("404", "empty", "repeat")
DOCS_HEADINGS = ("Documents", "Related documents", "Downloads", "Attachments", "Files", None)
DOCS_CONTAINERS = ("ul", "ol", "p", "div", "table")
#: How an entry says it is a file beside its link (``none``: only the address or type).
DOCS_LABELS = ("paren", "paren-size", "bracket", "span-size", "none")
#: Where a document link points: the file itself (``/files/…/123.pdf``), or a download
#: address without an extension (``/file/download?name=123.pdf``).
DOCS_ADDRESSES = ("file", "file", "download")


def pseudo_word(rng: random.Random) -> str:
    """A pronounceable class name, such as ``tovaki`` or ``remu-zal``, never osce.org's."""
    while True:
        word = "".join(
            rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3))
        )
        if rng.random() < 0.35:
            word += rng.choice(("-", "__", "--")) + "".join(
                rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.randint(1, 2))
            )
        parts = {p for p in word.replace("__", "-").split("-") if p}
        if not parts & OSCE_CLASS_WORDS:
            return word


@dataclass(frozen=True)
class Block:
    """One furniture block of a theme: what it is, which tag carries it, where it sits."""

    kind: str
    tag: str
    position: str
    heading: str | None
    lines: tuple[str, ...]  # fixed texts (links, paragraphs, buttons) in order
    links: int  # varying blocks: how many other items they link
    cls: str
    heading_tag: str
    list_tag: str  # "ul" | "ol" | "div" | "p" (how the lines are carried)

    @property
    def varying(self) -> bool:
        return self.links > 0


@dataclass(frozen=True)
class DocsForm:
    """How a theme shows an item's attached documents (drawn apart from the rest of the
    theme, so adding it changed no other part of any theme)."""

    heading: str | None
    container: str  # "ul" | "ol" | "p" | "div" | "table"
    typed: bool  # a type="application/pdf" attribute on the link
    label: str  # one of DOCS_LABELS
    address: str  # "file" | "download"

    def href(self, href: str) -> str:
        """The address the page links for a document the generator keeps at ``href``."""
        if self.address == "download":
            return "/file/download?name=" + href.rsplit("/", 1)[-1]
        return href


@dataclass(frozen=True)
class Theme:
    """Everything about the form of a themed site (see the module docstring)."""

    number: int
    classes: dict[str, str]  # role -> class name
    tags: dict[str, str]  # role -> tag name
    depth: int  # wrappers around the content column
    inner_depth: int  # wrappers between the column and the body container
    nav_tag: str
    details_place: str
    details_style: str
    value_split: str
    label_upper: bool
    blocks: tuple[Block, ...]
    long_labels: float  # share of items whose Source/Fields of work lists are long
    page_size: int | None  # rows a listing shows whatever is asked (None: honour rows=)
    pager: str
    end: str
    last_next: bool  # the last page still shows a "next" link (past it: ``end``)
    entry_style: str  # listing entries: "div" | "li" | "article" | "tr"
    title_in_link_first: bool  # listing entry: title before the labelled lines
    docs: DocsForm  # the item's attached documents

    def cls(self, role: str) -> str:
        return self.classes[role]

    def tag(self, role: str) -> str:
        return self.tags[role]

    def furniture_lines(self) -> frozenset[str]:
        """Every fixed furniture line of the theme (varying links come per page)."""
        out: set[str] = set()
        for block in self.blocks:
            if block.heading:
                out.add(block.heading)
            out.update(block.lines)
        return frozenset(out)


ROLES = (
    "shell",
    "column",
    "wrap",
    "type",
    "title",
    "details",
    "row",
    "label",
    "value",
    "byline",
    "body",
    "sidebar",
    "listing",
    "entry",
    "entry-title",
    "entry-meta",
    "pager",
    "nav",
    "nav-item",
    "nav-toggle",
    "nav-heading",
    "promo",
    "caption",
    "docs",
    "skip",
    "brand",
)


@lru_cache(maxsize=256)
def make_theme(number: int) -> Theme | None:
    """The theme drawn from ``number`` (None for 0: the default markup)."""
    if number == 0:
        return None
    if number < 0:
        raise ValueError("themes are numbered from 1 (0 is the default markup)")
    rng = random.Random(f"replica-theme-{number}")
    classes: dict[str, str] = {}
    used: set[str] = set()
    for role in ROLES:
        name = pseudo_word(rng)
        while name in used:
            name = pseudo_word(rng)
        used.add(name)
        classes[role] = name
    tags = {
        "shell": rng.choice(("div", "div", "section", "main")),
        "column": rng.choice(("div", "article", "section", "div")),
        "wrap": rng.choice(("div", "div", "section", "span")),
        "type": rng.choice(("div", "p", "span", "small", "h4")),
        "title": rng.choice(("h1", "h1", "h2", "div")),
        "body": rng.choice(("div", "section", "div", "article")),
        "byline": rng.choice(("p", "div", "span")),
        "sidebar": rng.choice(("aside", "div", "section")),
    }
    kinds = [k for k in BLOCK_KINDS if rng.random() < 0.7]
    for must in ("share", "footer"):  # every real page has them (SITE.md)
        if must not in kinds:
            kinds.append(must)
    if not {"latest", "related"} & set(kinds):
        kinds.append(rng.choice(("latest", "related")))
    rng.shuffle(kinds)
    blocks = tuple(_block(rng, kind) for kind in kinds)
    page_size = rng.choice((10, 10, 10, 20, None))
    return Theme(
        number=number,
        classes=classes,
        tags=tags,
        depth=rng.randint(0, 5),
        inner_depth=rng.randint(0, 3),
        nav_tag=rng.choice(("nav", "div", "ul", "section")),
        details_place=rng.choice(DETAILS_PLACES),
        details_style=rng.choice(DETAILS_STYLES),
        value_split=rng.choice(VALUE_SPLITS),
        label_upper=rng.random() < 0.15,
        blocks=blocks,
        long_labels=rng.choice((0.1, 0.2, 0.3)),
        page_size=page_size,
        pager=rng.choice(PAGERS),
        end=rng.choice(ENDS),
        last_next=rng.random() < 0.3,
        entry_style=rng.choice(("div", "li", "article", "tr")),
        title_in_link_first=rng.random() < 0.8,
        docs=_docs_form(number),
    )


def _docs_form(number: int) -> DocsForm:
    """The theme's documents list. A link without an extension still says it is a file:
    by its ``type=`` or by a label beside it."""
    rng = random.Random(f"replica-theme-{number}-documents")
    container = rng.choice(DOCS_CONTAINERS)
    typed = rng.random() < 0.4
    label = rng.choice(DOCS_LABELS)
    address = rng.choice(DOCS_ADDRESSES)
    if address == "download" and not typed and label == "none":
        typed = True
    return DocsForm(
        heading=rng.choice(DOCS_HEADINGS),
        container=container,
        typed=typed,
        label=label,
        address=address,
    )


def _block(rng: random.Random, kind: str) -> Block:
    heading: str | None = None
    lines: tuple[str, ...] = ()
    links = 0
    if kind in HEADINGS:
        heading = rng.choice(HEADINGS[kind]) if kind != "share" or rng.random() < 0.8 else None
    if kind == "share":
        lines = tuple(rng.sample(SHARE_LINKS, rng.randint(3, 6)))
    elif kind == "follow":
        lines = tuple(rng.sample(FOLLOW_LINKS, rng.randint(3, 5)))
    elif kind in ("related", "latest"):
        links = rng.randint(3, 5)
        if rng.random() < 0.5:
            lines = (rng.choice(("More news", "All stories", "View all", "Newsroom")),)
    elif kind == "contact":
        lines = tuple(rng.sample(CONTACT_LINES, rng.randint(2, 4)))
    elif kind == "newsletter":
        lines = (rng.choice(NEWSLETTER_LINES), rng.choice(("Subscribe", "Sign up", "Register")))
    elif kind == "trailer":
        lines = tuple(rng.sample(TRAILER_LINES, rng.randint(1, 3)))
    elif kind == "buttons":
        lines = tuple(rng.sample(BUTTON_ROWS, rng.randint(2, 4)))
    elif kind == "footer":
        lines = tuple(FOOTER_LINES[:4]) + tuple(rng.sample(FOOTER_LINES[4:], rng.randint(2, 5)))
    elif kind == "cookie":
        lines = (rng.choice(COOKIE_LINES),) + tuple(rng.sample(COOKIE_BUTTONS, rng.randint(1, 3)))
    if kind == "trailer":
        position, tag = "in-body-end", "p"
    elif kind in ("footer", "cookie"):
        position = "page-end"
        tag = rng.choice(("div", "footer", "section")) if kind == "footer" else "div"
    else:
        position = rng.choice(
            ("before-body", "after-body", "after-body", "after-column", "sidebar")
        )
        tag = rng.choice(BLOCK_TAGS)
    return Block(
        kind=kind,
        tag=tag,
        position=position,
        heading=heading,
        lines=lines,
        links=links,
        cls=pseudo_word(rng),
        heading_tag=rng.choice(("h2", "h3", "h4", "div", "strong", "p")),
        list_tag=rng.choice(("ul", "ol", "div", "p")) if kind != "buttons" else "button",
    )


def furniture_count(text: str, furniture: frozenset[str] | set[str], gold_text: str) -> int:
    """Lines of an archived ``text`` that are furniture: equal to a furniture line, or not
    a line of the gold text and containing a furniture line of 12 characters or more."""
    gold = {line.strip() for line in gold_text.splitlines() if line.strip()}
    long = [f for f in furniture if len(f) >= 12]
    count = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line in furniture or (line not in gold and any(f in line for f in long)):
            count += 1
    return count


__all__ = ["Block", "DocsForm", "Theme", "furniture_count", "make_theme", "pseudo_word"]
