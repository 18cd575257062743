"""Machine-readable discovery: ``/robots.txt``, the sitemap index and files, the RSS feed.

The sitemap is an index (``/sitemap.xml``) of files (``/sitemap.xml?page=N``) of at most
``site.sitemap_size`` URLs, items in node order. An item's ``<lastmod>`` is the last time
what a reader sees changed (markup churn and navigation drift do not move it; with
``Rates.silent_edits`` edits do not either). A file's ``<lastmod>`` in the index is the
newest of its entries. On a site with language versions each version follows its item,
at its own address with its own ``<lastmod>`` (unless ``sitemap_languages`` is off).
"""

from __future__ import annotations

from datetime import datetime, time
from html import escape

from replica.generator import FIRST_DAY, UTC, Item, SiteModel
from replica.pages import teaser

#: Paths robots.txt forbids. Pages DO link to /search, /user/login and /print/<n>.
DISALLOWED = ("/search", "/user", "/admin", "/print/", "/comment/reply/")

STATIC_SITEMAP_PATHS = (
    "/",
    "/newsroom",
    "/press-releases",
    "/stories",
    "/partnerships",
    "/about-us",
)


def robots_txt(base: str) -> str:
    lines = ["# robots.txt of the replica of www.osce.org", "User-agent: *"]
    lines += [f"Disallow: {p}" for p in DISALLOWED]
    lines += ["", f"Sitemap: {base}/sitemap.xml", ""]
    return "\n".join(lines)


def _w3c(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def sitemap_chunks(site: SiteModel) -> list[list[tuple[str, datetime]]]:
    """(path, lastmod) per file; the first file starts with the static pages."""
    static_time = datetime.combine(FIRST_DAY, time(0, 0), tzinfo=UTC)
    entries: list[tuple[str, datetime]] = [(p, static_time) for p in STATIC_SITEMAP_PATHS]
    for it in site.sitemap_order:
        entries.append((it.path, it.lastmod))
        if site.sitemap_languages:
            entries += [
                (it.lang_path(code), site.translation_changed(it, code))
                for code in site.translations(it)
            ]
    size = max(1, site.sitemap_size)
    return [entries[i : i + size] for i in range(0, len(entries), size)]


def sitemap_index(site: SiteModel, base: str) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for n, chunk in enumerate(sitemap_chunks(site), start=1):
        newest = max(moment for _, moment in chunk)
        out.append(
            f"<sitemap><loc>{base}/sitemap.xml?page={n}</loc>"
            f"<lastmod>{_w3c(newest)}</lastmod></sitemap>"
        )
    out.append("</sitemapindex>\n")
    return "\n".join(out)


def sitemap_file(site: SiteModel, base: str, number: int) -> str | None:
    chunks = sitemap_chunks(site)
    if not 1 <= number <= len(chunks):
        return None
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for path, moment in chunks[number - 1]:
        out.append(
            f"<url><loc>{escape(base + path)}</loc><lastmod>{_w3c(moment)}</lastmod>"
            "<changefreq>daily</changefreq></url>"
        )
    out.append("</urlset>\n")
    return "\n".join(out)


def _rfc822(item: Item) -> str:
    moment = datetime.combine(item.published, time(10, 0), tzinfo=UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def rss(site: SiteModel, base: str, count: int = 20) -> str:
    """The newest press releases, as Drupal's feed shows them."""
    items = site.listing_order["press-releases"][:count]
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xml:base="' + base + '" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "<channel>",
        "<title>OSCE press releases</title>",
        f"<link>{base}/press-releases</link>",
        "<description>Press releases of the Organization for Security and Co-operation in "
        "Europe</description>",
        "<language>en</language>",
    ]
    for it in items:
        c = site.content(it)
        out.append(
            f"<item><title>{escape(c.title)}</title><link>{escape(base + it.path)}</link>"
            f"<description>{escape(teaser(c))}</description>"
            f"<pubDate>{_rfc822(it)}</pubDate><dc:creator>OSCE</dc:creator>"
            f'<guid isPermaLink="false">{it.node} at https://www.osce.org</guid></item>'
        )
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)
