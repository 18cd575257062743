"""Markup of a themed site (:mod:`replica.themes`): item pages, listings, furniture.

What a page says comes from :mod:`replica.generator`, exactly as on the default site; a
:class:`~replica.themes.Theme` decides the form. Every furniture block is written as one
HTML fragment, and :func:`item_page` returns the fragments beside the page, so the gold
records (:meth:`replica.site.Site.gold`) know the furniture lines a page shows from the
generator's own data, not from reading the page back with our extractor.

SITE.md's surprises stay the rule here: the menu, the type label on its own line, the
``Date:`` label with no visible value (the date sits where the item's ``date_source``
says), the body repeated on some pages, the stories' promotion block, the dateline.
"""

from __future__ import annotations

import random
from html import escape

from replica import vocab
from replica.generator import Content, Item, SiteModel, _key, file_kind, file_size, format_day
from replica.pages import (
    COOKIE_NOTICE,
    HEAD_ASSETS,
    LISTING_TITLES,
    SKIP_LINKS,
    details_rows,
    documents_html,
    footer_html,
    head_dates,
    header_html,
    iso_time,
    link_variant,
    nav_html,
    share_html,
    teaser,
    variant_for,
    where_we_are,
)
from replica.seeds import PROMOTION_LINES
from replica.textview import visible_lines
from replica.themes import BLOCK_KINDS, Block, Theme


def e(text: str) -> str:
    return escape(text, quote=True)


def _open(tag: str, cls: str, **others: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{e(v)}"' for k, v in others.items())
    return f'<{tag} class="{e(cls)}"{extra}>'


# ------------------------------------------------------------------------------ frame


def themed_nav(theme: Theme, version: int) -> str:
    """The menu of ``version`` with the theme's tags and class names (same lines)."""
    html = nav_html(version)
    head = '<nav class="main-navigation" aria-label="Main navigation" role="navigation">'
    tag = theme.nav_tag
    inner_tag = "li" if tag == "ul" else "div"
    html = html.replace(head, _open(tag, theme.cls("nav")) + (f"<{inner_tag}>"), 1)
    html = html[: -len("</nav>")] + f"</{inner_tag}></{tag}>"
    for old, role in (
        ("menu menu--main", "nav"),
        ("menu-item menu-item--expanded", "nav-item"),
        ("menu-item menu-item--heading", "nav-item"),
        ("menu-item", "nav-item"),
        ("menu-toggle", "nav-toggle"),
        ("menu-heading", "nav-heading"),
        ("menu menu--level-1", "nav"),
        ("menu menu--level-2", "nav"),
    ):
        html = html.replace(f'class="{old}"', f'class="{theme.cls(role)}"')
    return html


def _frame(
    theme: Theme,
    *,
    title: str,
    head_extra: str,
    main: str,
    page_end: str,
    nav_version_shown: int,
    canonical: str | None,
) -> str:
    canonical_link = f'<link rel="canonical" href="{e(canonical)}">\n' if canonical else ""
    skip, brand = theme.cls("skip"), theme.cls("brand")
    skip_html = (
        f'<div class="{skip}"><a href="#{skip}-go" class="{skip}-a">Skip to main content</a></div>'
    )
    header = (
        f'<div class="{brand}"><a href="/" rel="home"><img src="/themes/custom/osce/logo.svg" '
        'alt="Organization for Security and Co-operation in Europe" width="180"></a>'
        f'<a href="/search?keys=" class="{brand}-s">Search</a></div>'
    )
    shell_open = "".join(
        _open(theme.tag("shell") if i == 0 else "div", f"{theme.cls('shell')}-{i}")
        for i in range(theme.depth + 1)
    ).replace(">", f' id="{skip}-go">', 1)
    shell_close = "".join(
        f"</{theme.tag('shell') if i == 0 else 'div'}>" for i in reversed(range(theme.depth + 1))
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{e(title)} | OSCE</title>\n{canonical_link}{head_extra}{HEAD_ASSETS}"
        f'</head>\n<body class="{theme.cls("shell")}-b">\n{skip_html}\n{header}\n'
        f"{themed_nav(theme, nav_version_shown)}\n"
        f"{shell_open}{main}{shell_close}\n{page_end}"
        '<script src="/themes/custom/osce/js/app.js?t4k2x1"></script>\n'
        "</body>\n</html>\n"
    )


# -------------------------------------------------------------------------- furniture


def _others(site: SiteModel, item: Item | None, block: Block, salt: int) -> list[Item]:
    """Items a varying block links on this page: differ from page to page, stable across
    epochs (chosen among items created before this one, as ``related`` links)."""
    pool = item.idx if item is not None else len(site.items)
    if pool < 4:
        return []
    rng = random.Random(_key(site.seed, salt, pool, BLOCK_KINDS.index(block.kind), 0xF0))
    picks = sorted({rng.randrange(pool) for _ in range(block.links)})
    return [site.items[i] for i in picks]


def _line_html(block: Block, text: str, href: str) -> str:
    link = f'<a href="{e(href)}">{e(text)}</a>' if href else e(text)
    if block.list_tag in ("ul", "ol"):
        return f"<li>{link}</li>"
    if block.list_tag == "div":
        return f"<div>{link}</div>"
    if block.list_tag == "button":
        return f'<button type="button">{e(text)}</button>'
    return f"<p>{link}</p>"


def _fixed_href(block: Block, text: str) -> str:
    if block.kind in ("share", "follow", "buttons", "cookie", "newsletter"):
        return "#"
    if block.kind == "footer":
        path = "/" + text.lower().replace(" ", "-")
        return path if path in ("/contacts", "/employment", "/procurement") else ""
    if block.kind in ("related", "latest"):
        return "/newsroom"
    return ""


def block_html(
    site: SiteModel, theme: Theme, block: Block, item: Item | None, host: str, salt: int
) -> str:
    """One furniture block (``salt`` picks its varying links: the page's node)."""
    parts = [_open(block.tag, block.cls)]
    if block.heading:
        parts.append(f"<{block.heading_tag}>{e(block.heading)}</{block.heading_tag}>")
    rows = []
    for other in _others(site, item, block, salt) if block.varying else []:
        href = link_variant(site, other, host, salt=salt + 17)
        rows.append(_line_html(block, site.title(other), href))
    for text in block.lines:
        if block.kind == "cookie" and text != block.lines[0]:
            rows.append(f'<button type="button">{e(text)}</button>')
        elif block.kind in ("contact", "newsletter", "trailer") or (
            block.kind == "cookie" and text == block.lines[0]
        ):
            rows.append(f"<p>{e(text)}</p>")
        else:
            rows.append(_line_html(block, text, _fixed_href(block, text)))
    if block.list_tag in ("ul", "ol") and block.kind not in ("contact", "newsletter", "cookie"):
        rows = [f"<{block.list_tag}>{''.join(rows)}</{block.list_tag}>"]
    parts.extend(rows)
    parts.append(f"</{block.tag}>")
    return "".join(parts)


def trailer_html(block: Block) -> str:
    """Short ``<p>``\\ s written right after the body's last paragraph, in its container."""
    return "".join(f"<p>{e(text)}</p>" for text in block.lines)


# ---------------------------------------------------------------------------- details


def _label(theme: Theme, name: str) -> str:
    return f"{name.upper()}:" if theme.label_upper else f"{name}:"


def _values(values: list[str], hrefs: list[str]) -> list[str]:
    return [
        f'<a href="{e(h)}">{e(t)}</a>' if h else e(t) for t, h in zip(values, hrefs, strict=True)
    ]


def details_html(site: SiteModel, theme: Theme, item: Item, c: Content) -> str:
    v = variant_for(site, item)
    time_el = ""
    if item.date_source == "markup":
        time_el = f'<time datetime="{iso_time(item.published, v.time_format, item.node)}"></time>'
    style = theme.details_style
    out = []
    for name, values, hrefs in details_rows(c):
        lab = e(_label(theme, name))
        if name == "Date":
            inner = time_el
        else:
            split = theme.value_split if len(values) > 1 else "comma"
            inner = _details_value(theme, split, _values(values, hrefs))
        out.append(_details_row(theme, lab, inner))
    body = "".join(out)
    cls = theme.cls("details")
    if style == "table":
        return f"{_open('table', cls)}<tbody>{body}</tbody></table>"
    if style == "dl":
        return f"{_open('dl', cls)}{body}</dl>"
    if style == "ul":
        return f"{_open('ul', cls)}{body}</ul>"
    return f"{_open('div', cls)}{body}</div>"


def _details_value(theme: Theme, split: str, linked: list[str]) -> str:
    """One detail's values, joined as the theme splits several values."""
    if split == "comma":
        return ", ".join(linked)
    if split == "lines":
        return "<br>".join(linked)
    val_cls = theme.cls("value")
    sub = {"table": "div", "dl": "span", "ul": "li", "div": "div", "p": "span"}.get(
        theme.details_style, "div"
    )
    if sub == "li":
        return "<ul>" + "".join(f"<li>{x}</li>" for x in linked) + "</ul>"
    if sub == "span":
        return "".join(f'<span class="{val_cls}-x">{x}</span><br>' for x in linked)
    return "".join(f"<div>{x}</div>" for x in linked)


def _details_row(theme: Theme, lab: str, inner: str) -> str:
    """One labelled detail in the theme's markup (table row, dt/dd, list item, ...)."""
    style = theme.details_style
    lab_cls, val_cls, row_cls = theme.cls("label"), theme.cls("value"), theme.cls("row")
    if style == "table":
        return f"<tr>{_open('th', lab_cls)}{lab}</th>{_open('td', val_cls)}{inner}</td></tr>"
    if style == "dl":
        return f"{_open('dt', lab_cls)}{lab}</dt>{_open('dd', val_cls)}{inner}</dd>"
    if style == "ul":
        return (
            f"{_open('li', row_cls)}{_open('span', lab_cls)}{lab}</span> "
            f"{_open('div', val_cls)}{inner}</div></li>"
        )
    if style == "div":
        return (
            f"{_open('div', row_cls)}{_open('div', lab_cls)}{lab}</div>"
            f"{_open('div', val_cls)}{inner}</div></div>"
        )
    if style == "p":
        return f"{_open('p', row_cls)}<b>{lab}</b> {inner}</p>"
    return (
        f"{_open('div', row_cls)}{_open('span', lab_cls)}{lab}</span> "
        f"{_open('span', val_cls)}{inner}</span></div>"
    )


# ------------------------------------------------------------------------- item pages


def _blocks_at(
    site: SiteModel, theme: Theme, item: Item, host: str, position: str, shown: list[str]
) -> str:
    out = []
    for block in theme.blocks:
        if block.position == position:
            html = block_html(site, theme, block, item, host, item.node)
            shown.append(html)
            out.append(html)
    return "".join(out)


def item_main(
    site: SiteModel, theme: Theme, item: Item, c: Content, host: str
) -> tuple[str, str, list[str]]:
    """(the content column and sidebar, the blocks at the page's end, furniture fragments)."""
    shown: list[str] = []
    details = details_html(site, theme, item, c)
    column_cls = theme.cls("column")
    if item.markup_rev:  # a markup-only change: other bytes, same words
        column_cls += f" {column_cls}--r{item.markup_rev}"
    parts = [_open(theme.tag("column"), column_cls, data_nid=str(item.node))]
    type_tag = theme.tag("type")
    parts.append(f"<div>{_open(type_tag, theme.cls('type'))}{e(vocab.KIND_LABELS[item.kind])}")
    parts.append(f"</{type_tag}></div>")
    if theme.details_place == "before-title":
        parts.append(details)
    title_tag = theme.tag("title")
    parts.append(f"{_open(title_tag, theme.cls('title'))}{e(c.title)}</{title_tag}>")
    if theme.details_place == "after-title":
        parts.append(details)
    if c.byline:
        tag = theme.tag("byline")
        parts.append(f"<div>{_open(tag, theme.cls('byline'))}By {e(c.byline)}</{tag}></div>")
    parts.append(_blocks_at(site, theme, item, host, "before-body", shown))
    if c.caption:
        parts.append(
            f'<figure class="{theme.cls("caption")}"><img src="/sites/default/files/images/'
            f'{item.node}.jpg" alt="" width="1200" height="800"><figcaption>{e(c.caption)}'
            "</figcaption></figure>"
        )
    parts.append("<div>" * theme.inner_depth)
    parts.append(_body_html(theme, c, shown))
    parts.append("</div>" * theme.inner_depth)
    if theme.details_place == "after-body":
        parts.append(details)
    parts.extend(_documents_and_promotion(theme, c, shown))
    parts.append(_blocks_at(site, theme, item, host, "after-body", shown))
    parts.append(f"</{theme.tag('column')}>")
    side = _blocks_at(site, theme, item, host, "sidebar", shown)
    if theme.details_place == "sidebar" or side:
        tag = theme.tag("sidebar")
        inner = (details if theme.details_place == "sidebar" else "") + side
        parts.append(f"{_open(tag, theme.cls('sidebar'))}{inner}</{tag}>")
    parts.append(_blocks_at(site, theme, item, host, "after-column", shown))
    end = _blocks_at(site, theme, item, host, "page-end", shown)
    return "".join(parts), end, shown


def _body_html(theme: Theme, c: Content, shown: list[str]) -> str:
    """The body's paragraphs and the theme's in-body trailers (added to ``shown``)."""
    body_tag = theme.tag("body")
    paras = "".join(f"<p>{e(p)}</p>" for p in c.paragraphs)
    if c.repeated:
        paras += "".join(f"<p>{e(p)}</p>" for p in c.paragraphs[1:])
    trailers = [b for b in theme.blocks if b.position == "in-body-end"]
    for block in trailers:
        fragment = trailer_html(block)
        shown.append(fragment)
        paras += fragment
    return f"{_open(body_tag, theme.cls('body'))}{paras}</{body_tag}>"


def _documents_and_promotion(theme: Theme, c: Content, shown: list[str]) -> list[str]:
    """The documents list and the promotion box, when the item has them (added to ``shown``)."""
    parts = []
    if c.documents:
        docs = documents_box(theme, c)
        shown.append(docs)
        parts.append(docs)
    if c.promotion:
        promo = (
            f"{_open('div', theme.cls('promo'))}<h3>{PROMOTION_LINES[0]}</h3><p>"
            f'<a href="/stories">{PROMOTION_LINES[1]}</a></p></div>'
        )
        shown.append(promo)
        parts.append(promo)
    return parts


def documents_box(theme: Theme, c: Content) -> str:
    """The item's documents in the theme's form (:class:`replica.themes.DocsForm`)."""
    form = theme.docs
    entries = []
    small = theme.cls("docs") + "-s"
    for title, href in c.documents:
        label, media = file_kind(href)
        typed = f' type="{media}"' if form.typed else ""
        link = f'<a href="{e(form.href(href))}"{typed}>{e(title)}</a>'
        marker = {
            "paren": f" ({label})",
            "paren-size": f" ({label}, {file_size(href)})",
            "bracket": f" [{label}]",
            "span-size": f' <small class="{small}">{label}, {file_size(href)}</small>',
            "none": "",
        }[form.label]
        if form.container == "table":
            entries.append(f"<tr><td>{link}{marker}</td><td>{file_size(href)}</td></tr>")
        elif form.container in ("ul", "ol"):
            entries.append(f"<li>{link}{marker}</li>")
        else:
            entries.append(f"<{form.container}>{link}{marker}</{form.container}>")
    rows = "".join(entries)
    if form.container == "table":
        rows = f"<table><tbody>{rows}</tbody></table>"
    elif form.container in ("ul", "ol"):
        rows = f"<{form.container}>{rows}</{form.container}>"
    heading = f"<h3>{e(form.heading)}</h3>" if form.heading else ""
    return f"{_open('div', theme.cls('docs'))}{heading}{rows}</div>"


def item_page(
    site: SiteModel, theme: Theme, item: Item, base: str, host: str
) -> tuple[str, list[str]]:
    """The page of ``item`` and the furniture fragments it shows."""
    c = site.content(item)
    v = variant_for(site, item)
    canonical = base + item.path
    head = (
        head_dates(item, v, c, canonical)
        + f'<link rel="shortlink" href="{base}/node/{item.node}">\n'
    )
    main, end, shown = item_main(site, theme, item, c, host)
    html = _frame(
        theme,
        title=c.title,
        head_extra=head,
        main=main,
        page_end=end,
        nav_version_shown=site.page_nav_version(item),
        canonical=canonical,
    )
    return html, shown


def furniture_lines(fragments: list[str]) -> set[str]:
    """The visible lines of furniture fragments (as a naive text extraction reads them)."""
    lines: set[str] = set()
    for fragment in fragments:
        lines.update(visible_lines(f"<html><body>{fragment}</body></html>"))
    return lines


def default_fragments(site: SiteModel, item: Item, host: str) -> list[str]:
    """Furniture of an item page in the default markup (theme 0): frame, share row,
    documents, promotion block and related links (see :mod:`replica.pages`)."""
    c = site.content(item)
    out = [SKIP_LINKS, header_html(), footer_html(site, False), COOKIE_NOTICE]
    out.append(share_html(site, item, host))
    if c.documents:
        out.append(documents_html(c))
    if c.promotion:
        out += [f"<h2>{PROMOTION_LINES[0]}</h2>", f"<p>{PROMOTION_LINES[1]}</p>"]
    related = site.related(item)
    if related:
        out.append("<h2>Related content</h2>")
        out += [
            f'<li>{e(site.title(o))} <time datetime="{o.published.isoformat()}">'
            f"{format_day(o.published)}</time></li>"
            for o in related
        ]
    return out


# --------------------------------------------------------------------------- listings


def listing_size(theme: Theme, rows: int) -> int:
    """Rows a listing page shows: the theme's page size whatever is asked, or ``rows``."""
    return theme.page_size or min(50, max(1, rows))


def listing_page(
    site: SiteModel,
    theme: Theme,
    name: str,
    page_no: int,
    rows: int,
    asked_rows: bool,
    base: str,
    host: str,
) -> tuple[int, str]:
    """(status, html) of listing ``name`` at ``page_no`` (past the end: the theme's way)."""
    size = listing_size(theme, rows)
    entries, pages = site.listing_page(name, page_no, size)
    status, shown_page = 200, page_no
    if page_no >= pages:
        if theme.end == "404":
            return 404, ""
        if theme.end == "repeat":
            shown_page = pages - 1
            entries, _ = site.listing_page(name, shown_page, size)
    out = [f"{_open('h1', theme.cls('title'))}{LISTING_TITLES[name]}</h1>"]
    style = theme.entry_style
    outer = {"div": "div", "li": "ul", "article": "section", "tr": "table"}[style]
    out.append(_open(outer, theme.cls("listing")))
    for item in entries:
        out.append(_entry(site, theme, item, host))
    out.append(f"</{outer}>")
    if not entries:
        out.append(f"<p>{e('No results.')}</p>")
    out.append(_pager(theme, shown_page, pages, rows if asked_rows else None))
    if name == "press-releases":
        out.append('<p><a href="/press-releases/rss">RSS</a></p>')
    canonical = f"{base}/{name}" + (f"?page={page_no}" if page_no else "")
    end = "".join(
        block_html(site, theme, b, None, host, page_no)
        for b in theme.blocks
        if b.position == "page-end"
    )
    html = _frame(
        theme,
        title=LISTING_TITLES[name],
        head_extra="",
        main="".join(out),
        page_end=end,
        nav_version_shown=site.nav_version,
        canonical=canonical,
    )
    return status, html


def _entry(site: SiteModel, theme: Theme, item: Item, host: str) -> str:
    c = site.content(item)
    href = link_variant(site, item, host)
    meta_cls = theme.cls("entry-meta")
    title = f'{_open("h3", theme.cls("entry-title"))}<a href="{e(href)}">{e(c.title)}</a></h3>'
    lines = [
        ("Publishing date", format_day(item.published)),
        ("Content type", vocab.KIND_LABELS[item.kind]),
    ]
    where = where_we_are(item)
    if where:
        lines.append(("Where we are", where))
    if c.fields_of_work:
        lines.append(("What we do", ", ".join(c.fields_of_work)))
    meta = "".join(f"{_open('div', meta_cls)}{e(k)}: {e(v)}</div>" for k, v in lines)
    text = f"<p>{e(teaser(c))}</p>"
    inner = title + meta + text if theme.title_in_link_first else meta + title + text
    if theme.entry_style == "tr":
        return f"{_open('tr', theme.cls('entry'))}<td>{inner}</td></tr>"
    return f"{_open(theme.entry_style, theme.cls('entry'))}{inner}</{theme.entry_style}>"


def _pager(theme: Theme, page_no: int, pages: int, rows: int | None) -> str:
    q = "" if rows is None else f"&rows={rows}"
    # A theme with ``last_next`` still links one page past the end from the last page
    # (what lies there is the theme's ``end``); pages past the end link nowhere further.
    has_next = page_no + 1 < pages or (theme.last_next and page_no + 1 == pages)
    cls = theme.cls("pager")
    if theme.pager == "rel-next":
        out = [_open("div", cls)]
        if page_no > 0:
            out.append(f'<a href="?page={page_no - 1}{q}" rel="prev">Previous</a> ')
        if has_next:
            out.append(f'<a href="?page={page_no + 1}{q}" rel="next">Next</a>')
        return "".join(out) + "</div>"
    if theme.pager == "pager-next":  # the classes public scrapers of the site follow
        out = [f'<ul class="{cls} pager">']
        for k in range(max(0, page_no - 2), min(pages, page_no + 3)):
            if k == page_no:
                out.append(f'<li class="pager-current">{k + 1}</li>')
            else:
                out.append(f'<li class="pager-item"><a href="?page={k}{q}">{k + 1}</a></li>')
        if has_next:
            out.append(f'<li class="pager-next"><a href="?page={page_no + 1}{q}">next ›</a></li>')
            out.append(f'<li class="pager-last"><a href="?page={pages - 1}{q}">last »</a></li>')
        return "".join(out) + "</ul>"
    out = [_open("div", cls)]  # page numbers only
    last = page_no + 1 if has_next else min(pages - 1, page_no + 3)
    for k in range(max(0, page_no - 3), max(last, min(pages - 1, page_no + 3)) + 1):
        if k == page_no:
            out.append(f"<span>{k + 1}</span> ")
        else:
            out.append(f'<a href="?page={k}{q}">{k + 1}</a> ')
    return "".join(out) + "</div>"


__all__ = [
    "block_html",
    "default_fragments",
    "details_html",
    "documents_box",
    "furniture_lines",
    "item_page",
    "listing_page",
    "listing_size",
    "themed_nav",
]
