"""HTML of the replica: item pages in several markup variants, listings, static pages.

What a page *says* comes from :mod:`replica.generator`; this module only decides how it is
*marked up*. Item pages follow SITE.md: the navigation menu (headings that are not links,
toggle buttons), the type label on its own line, the title, the labelled details whose
``Date:`` has no visible value, an optional byline, the body (sometimes repeated), the
stories' promotion block, and furniture nobody listed (skip links, breadcrumbs, share
links, related content, footer, cookie notice).

The markup of an item is drawn from its ``(idx, markup_rev)``: the details as a nested
list (as the seeds), a definition list, plain ``div`` rows, ``<p><strong>Label:</strong>``
or label/value spans; class names from a pool; label case and colon variants; wrapper
depth and attribute order. A markup-only change draws again: same words, other bytes.

Where the publication date sits is the item's ``date_source`` (see CONTRACT.md's
precedence): ``markup`` puts an empty ``<time datetime>`` beside the ``Date:`` label;
``meta`` uses ``article:published_time`` and/or ``dcterms.date``; ``json-ld`` a
``datePublished``; ``listing`` and ``dateline`` put no machine-readable publication date on
the page at all (only modification dates, as distractors). Lower sources may be present
too, always agreeing; a higher one never is.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from html import escape

from replica import languages as langs
from replica import vocab
from replica.generator import Content, Item, SiteModel, _key, file_kind, format_day
from replica.navigation import NavEntry, nav_version
from replica.seeds import PROMOTION_LINES, partnerships_lines

LABELS = ("Date", "Place", "Source", "Fields of work")


def e(text: str) -> str:
    return escape(text, quote=True)


# --------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    """How one item is marked up (never what it says)."""

    style: str  # ul | dl | div | p | span
    classes: tuple[str, ...]
    label_form: str  # "{}:" | "{}:".upper() | "{} :"
    split_values: bool  # one element per source / field instead of comma-joined
    class_first: bool  # attribute order
    wrappers: int
    type_tag: str
    title_span: bool
    time_format: int
    meta_form: int  # which meta tags carry the date (for meta items)
    jsonld_graph: bool
    extra_jsonld: bool  # markup/meta items also carry JSON-LD datePublished
    extra_meta: bool  # markup items also carry meta dates
    share_first: bool  # share links before the body

    def c(self, i: int) -> str:
        return self.classes[i % len(self.classes)]


SEED_VARIANT = Variant(
    style="ul",
    classes=(
        "field",
        "field__items",
        "field__label",
        "field__item",
        "node",
        "text-formatted",
        "node__content",
        "content-type",
    ),
    label_form="{}:",
    split_values=False,
    class_first=True,
    wrappers=1,
    type_tag="div",
    title_span=True,
    time_format=0,
    meta_form=2,
    jsonld_graph=True,
    extra_jsonld=False,
    extra_meta=False,
    share_first=False,
)


def variant_for(site: SiteModel, item: Item) -> Variant:
    if item.seed is not None and item.markup_rev == 0:
        return SEED_VARIANT
    rng = random.Random(_key(site.seed, item.idx, item.markup_rev, 0x3A))
    classes = []
    for _ in range(8):
        name = rng.choice(vocab.CLASS_POOL)
        if rng.random() < 0.4:
            name += rng.choice(("--", "__", "-")) + rng.choice(
                ("inline", "value", "wrap", "a", "meta", "x", "lg", "1", "2")
            )
        classes.append(name)
    r = rng.random()
    label_form = "{}:" if r < 0.8 else ("UPPER" if r < 0.9 else "{} :")
    return Variant(
        style=rng.choice(("ul", "ul", "dl", "div", "p", "span")),
        classes=tuple(classes),
        label_form=label_form,
        split_values=rng.random() < 0.25,
        class_first=rng.random() < 0.5,
        wrappers=rng.randrange(3),
        type_tag=rng.choice(("div", "div", "p", "span")),
        title_span=rng.random() < 0.5,
        time_format=rng.randrange(3),
        meta_form=rng.randrange(3),
        jsonld_graph=rng.random() < 0.5,
        extra_jsonld=rng.random() < 0.4,
        extra_meta=rng.random() < 0.4,
        share_first=rng.random() < 0.3,
    )


def label(v: Variant, name: str) -> str:
    if v.label_form == "UPPER":
        return f"{name.upper()}:"
    return v.label_form.format(name)


def attrs(v: Variant, cls: str, **others: str) -> str:
    """`` class="x" id="y"`` in the variant's attribute order."""
    parts = [f'class="{e(cls)}"'] + [
        f'{k.replace("_", "-")}="{e(val)}"' for k, val in others.items()
    ]
    if not v.class_first:
        parts.reverse()
    return " " + " ".join(parts)


# ----------------------------------------------------------------------------- dates


def iso_time(day: date, fmt: int, salt: int) -> str:
    hour, minute = 8 + salt % 11, (salt * 7) % 60
    if fmt == 0:
        return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"
    if fmt == 1:
        return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+02:00"
    return day.isoformat()


def http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


# ------------------------------------------------------------------------ navigation


@lru_cache(maxsize=32)
def nav_html(version: int) -> str:
    """The menu of one version: top headings are toggle buttons, sub headings spans."""
    out = [
        '<nav class="main-navigation" aria-label="Main navigation" role="navigation">',
        '<ul class="menu menu--main">',
    ]
    top_open = sub_open = False
    for entry in nav_version(version):
        if entry.heading and entry.top:
            if sub_open:
                out.append("</ul></li>")
            if top_open:
                out.append("</ul></li>")
            out.append(
                '<li class="menu-item menu-item--expanded">'
                '<button type="button" class="menu-toggle" aria-expanded="false">'
                f"{e(entry.text)}</button>"
                '<ul class="menu menu--level-1">'
            )
            top_open, sub_open = True, False
        elif entry.heading:
            if sub_open:
                out.append("</ul></li>")
            out.append(
                '<li class="menu-item menu-item--heading">'
                f'<span class="menu-heading">{e(entry.text)}</span>'
                '<ul class="menu menu--level-2">'
            )
            sub_open = True
        else:
            out.append(
                f'<li class="menu-item"><a href="{_nav_href(entry)}">{e(entry.text)}</a></li>'
            )
    if sub_open:
        out.append("</ul></li>")
    if top_open:
        out.append("</ul></li>")
    out.append("</ul></nav>")
    return "".join(out)


def _nav_href(entry: NavEntry) -> str:
    return entry.href


def nav_pages() -> dict[str, str]:
    """Static pages the menu links to: path -> title (every version's entries)."""
    pages: dict[str, str] = {}
    for version in range(8):
        try:
            entries = nav_version(version)
        except IndexError:
            break
        for entry in entries:
            if not entry.heading:
                pages.setdefault(entry.href, entry.text)
    for inst in vocab.INSTITUTIONS:
        pages.setdefault("/" + inst[1], inst[0])
    return pages


# ---------------------------------------------------------------------------- frames

HEAD_ASSETS = (
    '<link rel="stylesheet" media="all" href="/themes/custom/osce/css/style.css?t4k2x1">\n'
    '<script src="/core/assets/vendor/jquery/jquery.min.js?v=3.7.1" defer></script>\n'
    '<link rel="icon" href="/themes/custom/osce/favicon.ico" type="image/vnd.microsoft.icon">\n'
)

SKIP_LINKS = (
    '<div class="skip-links"><h2 class="visually-hidden">Skip Links</h2>'
    '<a href="#main-content" class="visually-hidden focusable">Skip to main content'
    "</a></div>"
)


def header_html() -> str:
    return (
        '<header class="site-header" role="banner"><div class="site-branding">'
        '<a href="/" rel="home" class="site-logo"><img src="/themes/custom/osce/logo.svg" '
        'alt="Organization for Security and Co-operation in Europe" width="180"></a></div>'
        '<div class="header-tools"><a href="/search?keys=" class="search-toggle">'
        "<span>Search</span></a>"
        '<a href="/user/login" class="login-link" rel="nofollow">Log in</a></div></header>'
    )


def footer_html(site: SiteModel, loop: bool) -> str:
    year = site.day().year
    loop_link = '<li><a href="/loop/a">Archive of the old website</a></li>' if loop else ""
    return (
        '<footer class="site-footer" role="contentinfo"><div class="footer-top">'
        '<div class="footer-address"><h2>OSCE Secretariat</h2><p>Wallnerstrasse 6<br>'
        "1010 Vienna, Austria</p><p>Tel: +43 1 514 360</p></div>"
        '<ul class="footer-links"><li><a href="/contacts">Contacts</a></li>'
        '<li><a href="/employment">Employment</a></li>'
        '<li><a href="/procurement">Procurement</a></li>'
        '<li><a href="/terms-of-use">Terms of use</a></li>'
        '<li><a href="/privacy-policy">Privacy policy</a></li>'
        f"{loop_link}</ul>"
        '<div class="social"><span>Follow us</span> '
        '<a href="https://www.facebook.com/osce.org" rel="noopener">Facebook</a> '
        '<a href="https://x.com/osce" rel="noopener">X</a> '
        '<a href="https://www.youtube.com/user/osce" rel="noopener">YouTube</a> '
        '<a href="https://www.linkedin.com/company/osce" rel="noopener">LinkedIn</a></div>'
        f'</div><div class="footer-bottom"><p>© OSCE 1995-{year}</p></div></footer>'
    )


COOKIE_NOTICE = (
    '<div class="eu-cookie-compliance-banner" role="dialog" aria-label="Cookie consent">'
    '<div class="popup-text"><h2>We use cookies on this site to enhance your user experience'
    "</h2><p>By clicking any link on this page you are giving your consent for us to set "
    'cookies.</p></div><div class="popup-buttons"><button type="button" '
    'class="agree-button">Accept</button><button type="button" class="decline-button">'
    'Decline</button></div><a href="/privacy-policy" class="find-more-button">More info</a>'
    "</div>"
)


def page(
    site: SiteModel,
    *,
    title: str,
    head_extra: str,
    body_class: str,
    main: str,
    nav_version_shown: int,
    canonical: str | None,
    loop: bool,
    lang: str = "en",
    switcher: str = "",
) -> str:
    canonical_link = f'<link rel="canonical" href="{e(canonical)}">\n' if canonical else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{e(title)} | OSCE</title>\n{canonical_link}{head_extra}{HEAD_ASSETS}"
        f'</head>\n<body class="{body_class}">\n{SKIP_LINKS}\n'
        f'<div class="dialog-off-canvas-main-canvas">{header_html()}\n{switcher}'
        f"{nav_html(nav_version_shown)}\n"
        f'<main id="main-content" role="main">{main}</main>\n'
        f"{footer_html(site, loop)}\n</div>\n{COOKIE_NOTICE}\n"
        '<script src="/themes/custom/osce/js/app.js?t4k2x1"></script>\n'
        "</body>\n</html>\n"
    )


# ------------------------------------------------------------------------ item pages


def link_variant(site: SiteModel, item: Item, host: str, salt: int = 0) -> str:
    """An address of ``item`` as a listing or a related link writes it: usually the
    canonical path; sometimes ``/node/<n>``, a tracking-parameter or trailing-slash
    variant. When the page is served under ``www.``, those variants drop the ``www.``
    (absolute links to the bare host), as copies of the site do."""
    r = _key(site.seed, item.node, salt) % 100
    bare = "http://" + host[4:] if host.startswith("www.") else ""
    if r < 82:
        return item.path
    if r < 88:
        return f"/node/{item.node}"
    if r < 94:
        return (
            f"{bare}{item.path}?utm_source=newsletter&utm_medium=email"
            f"&utm_campaign=osce-{item.node % 13}"
        )
    return f"{bare}{item.path}/"


def _values_html(v: Variant, name: str, values: list[str], hrefs: list[str]) -> str:
    linked = [
        f'<a href="{h}">{e(t)}</a>' if h else e(t) for t, h in zip(values, hrefs, strict=True)
    ]
    if v.split_values and len(values) > 1:
        if v.style == "ul":
            return "".join(f"<li>{x}</li>" for x in linked)
        if v.style == "dl":
            return "".join(f"<dd>{x}</dd>" for x in linked)
        return "".join(f"<div{attrs(v, v.c(6))}>{x}</div>" for x in linked)
    joined = ", ".join(linked)
    if v.style == "ul":
        return f"<li>{joined}</li>"
    if v.style == "dl":
        return f"<dd>{joined}</dd>"
    return joined


def details_rows(c: Content) -> list[tuple[str, list[str], list[str]]]:
    """(label, values, links) of each labelled detail; the date's value is its markup."""
    rows: list[tuple[str, list[str], list[str]]] = [("Date", [], [])]
    if c.place:
        rows.append(("Place", [c.place], [""]))
    if c.sources:
        rows.append(("Source", list(c.sources), [_source_href(s) for s in c.sources]))
    if c.fields_of_work:
        rows.append(
            (
                "Fields of work",
                list(c.fields_of_work),
                [NavEntry(f, False, False).href for f in c.fields_of_work],
            )
        )
    return rows


def details_html(
    site: SiteModel,
    item: Item,
    c: Content,
    v: Variant,
    names: dict[str, str] | None = None,
    dated: bool = False,
) -> str:
    """The labelled details; ``names`` gives the labels of another language, ``dated``
    puts the ``<time>`` beside ``Date`` whatever the item's own date source."""
    rows = details_rows(c)
    time_el = ""
    if item.date_source == "markup" or dated:
        time_el = f'<time datetime="{iso_time(item.published, v.time_format, item.node)}"></time>'
    out = []
    for name, values, hrefs in rows:
        lab = label(v, names.get(name, name) if names else name)
        if v.style == "ul":
            inner = (
                time_el
                if name == "Date"
                else (f"<ul{attrs(v, v.c(3))}>{_values_html(v, name, values, hrefs)}</ul>")
            )
            out.append(f"<li{attrs(v, v.c(1))}><span{attrs(v, v.c(2))}>{e(lab)}</span>{inner}</li>")
        elif v.style == "dl":
            inner = (
                f"<dd>{time_el}</dd>" if name == "Date" else _values_html(v, name, values, hrefs)
            )
            out.append(f"<dt{attrs(v, v.c(2))}>{e(lab)}</dt>{inner}")
        elif v.style == "div":
            inner = time_el if name == "Date" else _values_html(v, name, values, hrefs)
            out.append(
                f"<div{attrs(v, v.c(1))}><div{attrs(v, v.c(2))}>{e(lab)}</div>"
                f"<div{attrs(v, v.c(3))}>{inner}</div></div>"
            )
        elif v.style == "p":
            inner = time_el if name == "Date" else _values_html(v, name, values, hrefs)
            out.append(f"<p{attrs(v, v.c(1))}><strong>{e(lab)}</strong> {inner}</p>")
        else:
            inner = time_el if name == "Date" else _values_html(v, name, values, hrefs)
            out.append(
                f"<div{attrs(v, v.c(1))}><span{attrs(v, v.c(2))}>{e(lab)}</span> "
                f"<span{attrs(v, v.c(3))}>{inner}</span></div>"
            )
    body = "".join(out)
    if v.style == "ul":
        return f"<ul{attrs(v, v.c(0), data_block='details')}>{body}</ul>"
    if v.style == "dl":
        return f"<dl{attrs(v, v.c(0))}>{body}</dl>"
    return f"<div{attrs(v, v.c(0))}>{body}</div>"


@lru_cache(maxsize=64)
def _source_href(source: str) -> str:
    for inst in vocab.INSTITUTIONS:
        if inst[0] == source:
            return "/" + inst[1]
    return "/"


def head_dates(item: Item, v: Variant, c: Content, canonical: str) -> str:
    """Meta tags and JSON-LD: the publication date where the item's source says, agreeing
    lower sources sometimes, and modification dates as distractors."""
    out = []
    src = item.date_source
    pub = iso_time(item.published, 0 if v.time_format == 2 else v.time_format, item.node + 3)
    modified = item.lastmod.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    meta = src == "meta" or (src == "markup" and v.extra_meta)
    if meta:
        if v.meta_form in (0, 2):
            out.append(f'<meta property="article:published_time" content="{pub}">')
        if v.meta_form in (1, 2):
            out.append(f'<meta name="dcterms.date" content="{item.published.isoformat()}">')
    # A page dated only by its listing or dateline carries no date of publication at all:
    # a modification time is shown only when it is a later day (a distractor, not a hint).
    undated = src in ("listing", "dateline")
    show_modified = not undated or item.lastmod.date() != item.published
    if show_modified:
        out.append(f'<meta property="article:modified_time" content="{modified}">')
    out.append(f'<meta property="og:title" content="{e(c.title)}">')
    out.append('<meta property="og:type" content="article">')
    out.append(f'<meta property="og:url" content="{e(canonical)}">')
    out.append(f'<meta name="description" content="{e(teaser(c))}">')
    with_pub = src == "json-ld" or (src in ("markup", "meta") and v.extra_jsonld)
    if with_pub or item.node % 2 == 0:
        data: dict[str, object] = {
            "@type": "NewsArticle" if item.kind != "story" else "Article",
            "headline": c.title,
            "name": c.title,
            "publisher": {"@type": "Organization", "name": "OSCE", "url": "https://www.osce.org/"},
            "inLanguage": "en",
        }
        if with_pub:
            data["datePublished"] = pub
        if show_modified:
            data["dateModified"] = modified
        doc = (
            {"@context": "https://schema.org", "@graph": [data]}
            if v.jsonld_graph
            else {"@context": "https://schema.org", **data}
        )
        out.append(
            '<script type="application/ld+json">'
            + json.dumps(doc, ensure_ascii=False).replace("</", "<\\/")
            + "</script>"
        )
    return "\n".join(out) + "\n"


def teaser(c: Content, limit: int = 220) -> str:
    first = c.paragraphs[0] if c.paragraphs else ""
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + " ..."


def item_main(site: SiteModel, item: Item, c: Content, v: Variant, host: str, offsite: bool) -> str:
    kind_label = vocab.KIND_LABELS[item.kind]
    crumb = {
        "press-release": ("/press-releases", "Press releases"),
        "story": ("/stories", "Stories"),
    }.get(item.kind, ("/newsroom", "Newsroom"))
    parts = [
        '<nav class="breadcrumb" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li>'
        f'<li><a href="/newsroom">Newsroom</a></li><li><a href="{crumb[0]}">{crumb[1]}</a>'
        "</li></ol></nav>",
        f"<article{attrs(v, v.c(4) + ' node--type-' + item.kind, data_nid=str(item.node))}>",
    ]
    parts.append("<div>" * v.wrappers)
    parts.append(f"<{v.type_tag}{attrs(v, v.c(7))}>{e(kind_label)}</{v.type_tag}>")
    title = f"<span>{e(c.title)}</span>" if v.title_span else e(c.title)
    if v.type_tag == "span":
        parts[-1] = f"<div>{parts[-1]}</div>"
    parts.append(f"<h1{attrs(v, 'page-title ' + v.c(5))}>{title}</h1>")
    parts.append(details_html(site, item, c, v))
    if c.byline:
        parts.append(f"<p{attrs(v, 'byline ' + v.c(6))}>By {e(c.byline)}</p>")
    share = share_html(site, item, host)
    if v.share_first:
        parts.append(share)
    if c.caption:
        parts.append(
            f'<figure class="media"><img src="/sites/default/files/images/{item.node}.jpg" '
            f'alt="" loading="lazy" width="1200" height="800"><figcaption>{e(c.caption)}'
            "</figcaption></figure>"
        )
    paras = "".join(f"<p>{e(p)}</p>" for p in c.paragraphs)
    if c.repeated:
        paras += "".join(f"<p>{e(p)}</p>" for p in c.paragraphs[1:])
    parts.append(f"<div{attrs(v, 'text-formatted field--name-body ' + v.c(5))}>{paras}</div>")
    parts.append(documents_html(c))
    if c.promotion:
        parts.append(
            f'<div class="osce-impact"><h2>{PROMOTION_LINES[0]}</h2><p>'
            f'<a href="/stories">{PROMOTION_LINES[1]}</a></p></div>'
        )
    parts.append("</div>" * v.wrappers)
    if not v.share_first:
        parts.append(share)
    parts.append("</article>")
    parts.append(_related_html(site, item, host))
    if offsite:
        parts.append(_see_also_html(site, item))
    return "".join(parts)


def documents_html(c: Content) -> str:
    """The item's attached documents, as the site's download list (empty when none)."""
    if not c.documents:
        return ""
    rows = []
    for title, href in c.documents:
        label, media = file_kind(href)
        rows.append(f'<li><a href="{href}" type="{media}">{e(title)}</a> ({label})</li>')
    return (
        '<div class="documents"><h2>Related documents</h2>'
        f'<ul class="osce-download-links">{"".join(rows)}</ul></div>'
    )


def _see_also_html(site: SiteModel, item: Item) -> str:
    """Off-site links (``Faults.offsite_links``), and a PDF that is not the item's: both
    outside the article, where a crawl must follow neither and extraction must not take
    the PDF for an attachment."""
    annual = f"/files/f/documents/{item.node % 89}/annual-{item.node}.pdf"
    rng = random.Random(_key(site.seed, item.node, 0x0FF))
    links = rng.sample(vocab.OTHER_HOSTS, 2)
    return (
        '<div class="see-also"><h2>See also</h2><ul>'
        + "".join(
            f'<li><a href="{href}" rel="noopener">{e(href.split("/")[2])}</a></li>'
            for href in links
        )
        + f'<li><a href="{annual}" type="application/pdf">Annual report</a> (PDF)</li>'
        + "</ul></div>"
    )


def _related_html(site: SiteModel, item: Item, host: str) -> str:
    """The related-content aside (empty when the item has none)."""
    related = site.related(item)
    if related:
        rows = []
        for other in related:
            href = link_variant(site, other, host, salt=item.node)
            rows.append(
                f'<li><a href="{e(href)}">{e(site.title(other))}</a> '
                f'<time datetime="{other.published.isoformat()}">'
                f"{format_day(other.published)}</time></li>"
            )
        return (
            '<aside class="related-content"><h2>Related content</h2><ul>'
            + "".join(rows)
            + "</ul></aside>"
        )
    return ""


def share_html(site: SiteModel, item: Item, host: str) -> str:
    url = f"https://www.osce.org{item.path}"
    return (
        '<div class="share-links"><span class="share-label">Share this:</span> '
        f'<a href="https://www.facebook.com/sharer/sharer.php?u={url}" rel="noopener">'
        "Facebook</a> "
        f'<a href="https://twitter.com/intent/tweet?url={url}" rel="noopener">X</a> '
        f'<a href="https://www.linkedin.com/shareArticle?url={url}" rel="noopener">LinkedIn</a> '
        f'<a href="mailto:?subject=OSCE&amp;body={url}">Email</a> '
        f'<a href="/print/{item.node}" rel="nofollow">Print</a></div>'
    )


def language_links(site: SiteModel, item: Item, base: str, current: str) -> tuple[str, str]:
    """``(head links, switcher)`` of an item that exists in other languages, as Drupal
    writes them: a ``<link rel="alternate" hreflang>`` per version (the page's own
    included) and the language switcher list; ``("", "")`` for an item in English only."""
    codes = site.translations(item)
    if not codes:
        return "", ""
    versions = ("en", *codes)
    head = "".join(
        f'<link rel="alternate" hreflang="{code}" href="{e(base + item.lang_path(code))}">\n'
        for code in versions
    )
    rows = []
    for code in versions:
        active = " is-active" if code == current else ""
        rows.append(
            f'<li hreflang="{code}" class="{code}{active}"><a href="{e(item.lang_path(code))}" '
            f'class="language-link{active}" hreflang="{code}">'
            f"{e(langs.language_name(code))}</a></li>"
        )
    switcher = (
        '<div class="language-switcher-language-url" role="navigation">'
        f'<ul class="links">{"".join(rows)}</ul></div>\n'
    )
    return head, switcher


def translation_page(site: SiteModel, item: Item, code: str, base: str, loop: bool) -> str:
    """The item's version in language ``code`` at ``/<code><path>``: labels, content type
    and text in that language, the date in a ``<time>`` beside its label, the same menu
    and footer as the English pages."""
    lang = langs.LANGUAGES[code]
    c = site.translation(item, code)
    v = variant_for(site, item)
    canonical = base + item.lang_path(code)
    alternates, switcher = language_links(site, item, base, code)
    head = (
        f'<meta property="og:title" content="{e(c.title)}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="og:url" content="{e(canonical)}">\n'
        f'<meta name="description" content="{e(teaser(c))}">\n'
        f'<link rel="shortlink" href="{base}/{code}/node/{item.node}">\n{alternates}'
    )
    title = f"<span>{e(c.title)}</span>" if v.title_span else e(c.title)
    paras = "".join(f"<p>{e(p)}</p>" for p in c.paragraphs)
    main = (
        f"<article{attrs(v, v.c(4) + ' node--type-' + item.kind, data_nid=str(item.node))}>"
        + "<div>" * v.wrappers
        + f"<div{attrs(v, v.c(7))}>{e(lang.kinds[item.kind])}</div>"
        + f"<h1{attrs(v, 'page-title ' + v.c(5))}>{title}</h1>"
        + details_html(site, item, c, v, names=lang.labels, dated=True)
        + f"<div{attrs(v, 'text-formatted field--name-body ' + v.c(5))}>{paras}</div>"
        + "</div>" * v.wrappers
        + "</article>"
    )
    return page(
        site,
        title=c.title,
        head_extra=head,
        body_class=f"path-node page-node-type-{item.kind.replace('-', '_')}",
        main=main,
        nav_version_shown=site.page_nav_version(item),
        canonical=canonical,
        loop=loop,
        lang=code,
        switcher=switcher,
    )


def item_page(site: SiteModel, item: Item, base: str, host: str, loop: bool, offsite: bool) -> str:
    c = site.content(item)
    v = variant_for(site, item)
    canonical = base + item.path
    alternates, switcher = language_links(site, item, base, "en")
    head = (
        head_dates(item, v, c, canonical)
        + f'<link rel="shortlink" href="{base}/node/{item.node}">\n'
        + alternates
    )
    return page(
        site,
        title=c.title,
        head_extra=head,
        body_class=f"path-node page-node-type-{item.kind.replace('-', '_')}",
        main=item_main(site, item, c, v, host, offsite),
        nav_version_shown=site.page_nav_version(item),
        canonical=canonical,
        loop=loop,
        switcher=switcher,
    )


# --------------------------------------------------------------------------- listings

LISTING_TITLES = {"press-releases": "Press releases", "stories": "Stories", "newsroom": "Newsroom"}


def where_we_are(item: Item) -> str:
    if item.source < 0:
        return ""
    return vocab.INSTITUTIONS[item.source][2]


def listing_page(
    site: SiteModel, name: str, page_no: int, rows: int, base: str, host: str, loop: bool
) -> str:
    entries, pages = site.listing_page(name, page_no, rows)
    out = [
        f'<h1 class="page-title">{LISTING_TITLES[name]}</h1>',
        '<div class="view view-newsroom"><div class="view-filters"><form action="/search" '
        'method="get"><label for="keys">Search the newsroom</label><input id="keys" '
        'name="keys" type="text"><button type="submit">Apply</button></form></div>'
        '<div class="view-content">',
    ]
    if not entries:
        out.append('<div class="view-empty"><p>No content found.</p></div>')
    out.extend(_teaser_row(site, item, host) for item in entries)
    out.append("</div>")
    out.extend(_pager(page_no, pages, rows))
    if name == "press-releases":
        out.append('<p class="feed-icon"><a href="/press-releases/rss">RSS feed</a></p>')
    canonical = f"{base}/{name}" + (f"?page={page_no}" if page_no else "")
    return page(
        site,
        title=LISTING_TITLES[name],
        head_extra="",
        body_class=f"path-{name}",
        main="".join(out),
        nav_version_shown=site.nav_version,
        canonical=canonical,
        loop=loop,
    )


def _teaser_row(site: SiteModel, item: Item, host: str) -> str:
    """One listing entry: its title link, labelled meta lines and teaser."""
    c = site.content(item)
    href = link_variant(site, item, host)
    rows_html = [
        f'<h3 class="teaser-title"><a href="{e(href)}">{e(c.title)}</a></h3>',
        '<div class="teaser-meta"><span class="label">Publishing date:</span> '
        f"{format_day(item.published)}</div>",
        '<div class="teaser-meta"><span class="label">Content type:</span> '
        f"{vocab.KIND_LABELS[item.kind]}</div>",
    ]
    where = where_we_are(item)
    if where:
        rows_html.append(
            f'<div class="teaser-meta"><span class="label">Where we are:</span> {e(where)}</div>'
        )
    if c.fields_of_work:
        rows_html.append(
            '<div class="teaser-meta"><span class="label">What we do:</span> '
            f"{e(', '.join(c.fields_of_work))}</div>"
        )
    rows_html.append(f'<div class="teaser-text"><p>{e(teaser(c))}</p></div>')
    return (
        '<div class="views-row"><article class="teaser">' + "".join(rows_html) + "</article></div>"
    )


def _pager(page_no: int, pages: int, rows: int) -> list[str]:
    """The Drupal pager under a listing (first, previous, current, next, last)."""
    pager = ['<nav class="pager" role="navigation" aria-label="Pagination"><ul>']
    rows_q = "" if rows == 10 else f"&rows={rows}"
    if page_no > 0:
        pager.append(f'<li class="pager__item--first"><a href="?page=0{rows_q}">« First</a></li>')
        pager.append(
            f'<li class="pager__item--previous"><a href="?page={page_no - 1}{rows_q}">'
            "‹ Previous</a></li>"
        )
    pager.append(f'<li class="pager__item is-active">Page {page_no + 1}</li>')
    if page_no + 1 < pages:
        pager.append(
            f'<li class="pager__item--next"><a href="?page={page_no + 1}{rows_q}" '
            'rel="next">Next ›</a></li>'
        )
        pager.append(
            f'<li class="pager__item--last"><a href="?page={pages - 1}{rows_q}">Last »</a></li>'
        )
    pager.append("</ul></nav></div>")
    return pager


# ------------------------------------------------------------------------ static pages


def partnerships_page(site: SiteModel, base: str, loop: bool) -> str:
    """Seed 003, line for line: ``Skip Links`` comes from the frame, the rest from here."""
    lines = list(partnerships_lines())
    assert lines[0] == "Skip Links" and lines[1] == "Partnerships"
    body = []
    i = 2
    while i < len(lines):
        line = lines[i]
        if line.endswith("CSCECSCE"):  # a glossary tooltip splits this paragraph in three
            head = line[: -len("CSCE")]
            body.append(
                f'<div class="paragraph">{e(head[:-4])}<abbr class="glossary">CSCE'
                f'<span class="glossary-tooltip" role="tooltip">CSCE'
                f"<p>{e(lines[i + 1])}</p></span></abbr> {e(lines[i + 2])}</div>"
            )
            i += 3
            continue
        if len(line) < 70 and not line.endswith("."):
            body.append(f"<h2>{e(line)}</h2>")
        else:
            body.append(f"<p>{e(line)}</p>")
        i += 1
    main = (
        '<article class="node node--type-page"><h1 class="page-title">Partnerships</h1>'
        f'<div class="text-formatted">{"".join(body)}</div></article>'
    )
    return page(
        site,
        title="Partnerships",
        head_extra="",
        body_class="path-node page-node-type-page",
        main=main,
        nav_version_shown=site.nav_version,
        canonical=base + "/partnerships",
        loop=loop,
    )


STATIC_TEXT = {
    "/about-us": (
        "About us",
        (
            "With 57 participating States in North America, Europe and Asia, the OSCE is the "
            "world's largest regional security organization.",
            "The OSCE works for stability, peace and democracy for more than a billion people, "
            "through political dialogue about shared values and through practical work that "
            "aims to make a lasting difference.",
        ),
    ),
    "/contacts": ("Contacts", ("OSCE Secretariat, Wallnerstrasse 6, 1010 Vienna, Austria.",)),
    "/privacy-policy": (
        "Privacy policy",
        ("This notice explains how the OSCE website processes personal data.",),
    ),
    "/terms-of-use": (
        "Terms of use",
        (
            "Content on this website may be reproduced for "
            "non-commercial purposes with attribution.",
        ),
    ),
    "/employment": ("Employment", ("Vacancies are published on the jobs portal.",)),
    "/procurement": ("Procurement", ("Current tenders are listed on the procurement portal.",)),
    "/search": ("Search", ("Enter keywords to search the website.",)),
    "/user/login": ("Log in", ("Username", "Password")),
}


def static_page(
    site: SiteModel, path: str, title: str, paragraphs: tuple[str, ...], base: str, loop: bool
) -> str:
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    main = (
        f'<article class="node node--type-page"><h1 class="page-title">{e(title)}</h1>'
        f'<div class="text-formatted">{body}</div></article>'
    )
    return page(
        site,
        title=title,
        head_extra="",
        body_class="path-page",
        main=main,
        nav_version_shown=site.nav_version,
        canonical=base + path,
        loop=loop,
    )


def topic_page(site: SiteModel, path: str, title: str, base: str, loop: bool) -> str:
    paragraphs = (
        f"{title}: an overview of the OSCE's work in this area.",
        f"Read the latest news and press releases about {title}.",
    )
    return static_page(site, path, title, paragraphs, base, loop)


def home_page(site: SiteModel, base: str, host: str, loop: bool) -> str:
    latest, _ = site.listing_page("newsroom", 0, 6)
    rows = "".join(
        f'<li><a href="{e(link_variant(site, it, host, 7))}">{e(site.title(it))}</a></li>'
        for it in latest
    )
    main = (
        '<h1 class="visually-hidden">Organization for Security and Co-operation in Europe'
        '</h1><section class="latest"><h2>Latest news</h2><ul>' + rows + "</ul>"
        '<p><a href="/newsroom">More news</a> <a href="/press-releases">Press releases</a> '
        '<a href="/stories">Stories</a></p></section>'
    )
    return page(
        site,
        title="Home",
        head_extra="",
        body_class="path-frontpage",
        main=main,
        nav_version_shown=site.nav_version,
        canonical=base + "/",
        loop=loop,
    )


def error_page(site: SiteModel, status: int, loop: bool) -> str:
    title = "Page not found" if status == 404 else "Page gone"
    text = (
        "The requested page could not be found."
        if status == 404
        else "The requested page is no longer available."
    )
    main = f'<h1 class="page-title">{title}</h1><p>{text}</p>'
    return page(
        site,
        title=title,
        head_extra="",
        body_class="path-error",
        main=main,
        nav_version_shown=site.nav_version,
        canonical=None,
        loop=loop,
    )
