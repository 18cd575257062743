"""A third-party news site that sometimes reports on the OSCE, modelled on seed 004.

Seed 004 is a Vindobona article: a Vienna news site with its own markup, a rubric line
``Organizations International Organizations ♦ Published: July 4, 2023; 23:31 ♦
(Vindobona)``, a picture caption, and the article.  This replica, the *Danube Courier*,
has the same shape and what such sites add: a byline, a "most read" box, advertisements,
a cookie notice, readers' comments under the article, an RSS feed, a sitemap and a
robots.txt.  Some of its articles report on items of a replica of osce.org (they name
the item's title and institution and link to it); the others are about Vienna, the
economy or culture and name nothing of the OSCE, not even in their comments -- except
that the comments under some unrelated articles do mention it, as comments do: a reading
that took comments for the article would keep those wrongly.

Everything is deterministic from the seed and the OSCE site's items.  Ground truth
(:meth:`NewsSite.truth`) says for each article its address, title, date and whether it
is about the OSCE (and which OSCE item it reports on); the crawl tests compare with it.

Epochs: in epoch 1 one article about the OSCE is edited (a correction paragraph; its
``Last-Modified``, ETag and sitemap ``<lastmod>`` move) and two articles are published,
one about the OSCE and one not (:meth:`NewsSite.changes`).

Bad inputs for the crawler's bounds, never linked from the site: ``/feeds/broken.xml``
(an HTML maintenance page where a feed should be), ``/sitemaps/huge.xml`` (a urlset far
larger than a crawler should read), ``/sitemaps/nested/<n>.xml`` (sitemap indexes that
nest without end, two children each), ``/sitemaps/bomb.xml.gz`` (16 MB of spaces
gzipped to a few kilobytes).
"""

from __future__ import annotations

import gzip
import hashlib
import random
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import urlsplit

from replica.generator import UTC, Item, SiteModel
from replica.routes import Response, http_date

NAME = "Danube Courier"
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
#: robots.txt forbids this; the feed lists one article under it anyway.
PREMIUM = "/premium/"

AUTHORS = (
    "Anna Gruber",
    "Stefan Leitner",
    "Miriam Hofer",
    "Daniel Novak",
    "Eva Brandstetter",
    "Tomas Kral",
)
COMMENTERS = ("Franz K.", "wienerin72", "M. Huber", "donaukanal", "Peter S.", "ReaderX")
#: Unrelated stories: (rubric, sub-rubric, title, opening) -- none names anything of the OSCE.
LOCAL_STORIES = (
    (
        "Culture",
        "Music",
        "Vienna State Opera opens its season with a new production",
        "The Vienna State Opera opened its season with a sold-out premiere on the Ring.",
    ),
    (
        "Economy",
        "Transport",
        "Danube shipping volumes rise for the third quarter in a row",
        "Cargo volumes on the Austrian stretch of the Danube grew again this quarter.",
    ),
    (
        "City",
        "Transport",
        "Tram line 18 extension to open next spring",
        "The city's transport operator confirmed the extension of tram line 18.",
    ),
    (
        "Economy",
        "Tourism",
        "Record number of overnight stays in Vienna hotels",
        "Vienna's hotels counted more overnight stays than in any year before.",
    ),
    (
        "Culture",
        "Exhibitions",
        "Albertina shows early drawings of a Viennese modernist",
        "A new exhibition at the Albertina brings together more than a hundred drawings.",
    ),
    (
        "City",
        "Environment",
        "New cooling parks planned for the summer heat",
        "The city plans six new cooling parks with water features and shade trees.",
    ),
    (
        "Economy",
        "Business",
        "Start-up fair draws investors to the Marx Halle",
        "More than two hundred young companies presented their ideas at the Marx Halle.",
    ),
    (
        "Culture",
        "Film",
        "Viennale announces its festival programme",
        "The Viennale film festival has published the programme of this year's edition.",
    ),
)
LOCAL_SENTENCES = (
    "Organisers expect a large audience over the coming weeks.",
    "The city council approved the budget for the project earlier this year.",
    "Local businesses welcomed the announcement.",
    "Critics pointed to rising costs and long construction times.",
    "Tickets are available online and at the usual outlets.",
    "The figures were published by the statistics office on Tuesday.",
    "Residents can comment on the plans until the end of the month.",
    "A spokesperson said further details would follow in the autumn.",
    "Weather permitting, the events will take place outdoors.",
    "The district mayor called it an important step for the neighbourhood.",
)
OSCE_COMMENTS = (
    "Meanwhile the OSCE meets at the Hofburg and nobody reports on that.",
    "More interesting than anything the OSCE said this week.",
)
PLAIN_COMMENTS = (
    "Finally some good news from the city.",
    "I was there last year, highly recommended.",
    "Who is going to pay for all this?",
    "Great article, thank you.",
    "The trams are late enough already.",
)
#: How an article about the OSCE names it: in the title, only in the text, or only by an
#: institution's full name (no acronym anywhere).
VARIANTS = ("title", "text", "institution")
INSTITUTION_PHRASES = (
    "the Office for Democratic Institutions and Human Rights",
    "the High Commissioner on National Minorities",
    "the Representative on Freedom of the Media",
    "the Organization for Security and Co-operation in Europe",
)
OSCE_COMMENT_EVERY = 3  # every third unrelated article has a comment naming the OSCE
#: How an article about the OSCE links to its item, in turn: at the item's address, at its
#: ``/node/<n>`` alias, or not at all.
LINK_STYLES = ("canonical", "node", "none")


@dataclass
class Article:
    idx: int
    slug: str
    rubric: str
    subrubric: str
    title: str
    author: str
    published: datetime
    paragraphs: tuple[str, ...]
    comments: tuple[tuple[str, str], ...]  # (who, text)
    about: Item | None = None  # the OSCE item it reports on
    variant: str = ""
    premium: bool = False
    changed: datetime = field(default_factory=lambda: datetime(2000, 1, 1, tzinfo=UTC))
    edited: bool = False

    @property
    def path(self) -> str:
        prefix = PREMIUM.rstrip("/") if self.premium else "/news"
        return f"{prefix}/{self.published:%Y/%m}/{self.slug}"


def _slug(title: str, idx: int) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words[:8]) + f"-{idx}"


def _published_line(moment: datetime) -> str:
    """``July 4, 2023; 23:31``, as seed 004 shows it."""
    return f"{moment:%B} {moment.day}, {moment.year}; {moment:%H:%M}"


class NewsSite:
    """The Danube Courier at one epoch, reporting on the items of ``osce``."""

    def __init__(self, osce: SiteModel, articles: int = 16, seed: int = 1, epoch: int = 0) -> None:
        if articles < 4:
            raise ValueError("the news site has at least four articles")
        self.osce = osce
        self.size = articles
        self.seed = seed
        #: Where the OSCE site is served (articles link to its items); set once known.
        self.osce_base = ""
        self.lock = threading.RLock()
        self._cache: dict[tuple[Any, ...], Response] = {}
        self.epoch = 0
        self._build()
        self.set_epoch(epoch)

    # ------------------------------------------------------------------ content

    def _build(self) -> None:
        rng = random.Random(self.seed * 7919 + 16)
        today = self.osce.today
        live = [it for it in self.osce.items_live() if it.seed is None]
        recent = sorted(live, key=lambda it: it.published)[-40:] or live
        picks = rng.sample(recent, k=min(len(recent), self.size // 2))
        self.articles: list[Article] = []
        for i in range(self.size):
            if i % 2 == 0 and i // 2 < len(picks):
                item = picks[i // 2]
                day = min(today, item.published + timedelta(days=rng.randrange(3)))
                self.articles.append(self._osce_article(rng, i, item, day))
            else:
                day = today - timedelta(days=rng.randrange(60))
                self.articles.append(self._local_article(rng, i, day))
        # One article about the OSCE sits behind robots.txt (the feed lists it).
        self.articles[2].premium = True
        self.epoch = 0
        self._changes: dict[int, dict[str, list[str]]] = {
            0: {"new": [a.path for a in self.articles], "edited": []}
        }

    def _moment(self, rng: random.Random, day: date) -> datetime:
        return datetime.combine(day, time(rng.randrange(6, 24), rng.randrange(60)), tzinfo=UTC)

    def _osce_article(self, rng: random.Random, idx: int, item: Item, day: date) -> Article:
        content = self.osce.content(item)
        institution = content.sources[0] if content.sources else "OSCE Secretariat"
        variant = VARIANTS[(idx // 2) % len(VARIANTS)]
        quoted = content.paragraphs[0] if content.paragraphs else content.title
        if variant == "title":
            title = f"OSCE: {content.title}"
            opening = (
                f"The {institution} of the OSCE has published news under the title "
                f"'{content.title}'."
            )
        elif variant == "text":
            title = f"Vienna diplomacy: {content.title}"
            opening = (
                f"The OSCE reported this week on its work: '{content.title}', "
                f"a release of the {institution}."
            )
        else:
            phrase = INSTITUTION_PHRASES[idx % len(INSTITUTION_PHRASES)]
            title = f"International organisations: {content.title}"
            opening = (
                f"An announcement that {phrase} followed closely: '{content.title}'. "
                f"It was issued by the {institution}."
            )
        paragraphs = (
            opening,
            f"According to the release, {quoted[:1].lower()}{quoted[1:]}",
            rng.choice(LOCAL_SENTENCES) + " " + rng.choice(LOCAL_SENTENCES),
            # unique to the article: a sentence shared by every article would be, rightly,
            # learned as the site's furniture
            f"Observers in Vienna said the coming months would show what the "
            f"{institution} achieves with '{content.title}'.",
        )
        comments = tuple(
            (rng.choice(COMMENTERS), rng.choice(PLAIN_COMMENTS)) for _ in range(rng.randrange(3))
        )
        moment = self._moment(rng, day)
        return Article(
            idx=idx,
            slug=_slug(title, idx),
            rubric="Organizations",
            subrubric="International Organizations",
            title=title,
            author=rng.choice(AUTHORS),
            published=moment,
            paragraphs=paragraphs,
            comments=comments,
            about=item,
            variant=variant,
            changed=moment + timedelta(minutes=5),
        )

    def _local_article(self, rng: random.Random, idx: int, day: date) -> Article:
        rubric, subrubric, title, opening = LOCAL_STORIES[(idx // 2) % len(LOCAL_STORIES)]
        title = f"{title} ({idx})" if idx >= 2 * len(LOCAL_STORIES) else title
        sentences = rng.sample(LOCAL_SENTENCES, 6)
        paragraphs = (
            opening,
            " ".join(sentences[:2]),
            " ".join(sentences[2:4]),
            " ".join(sentences[4:]),
        )
        comments = [(rng.choice(COMMENTERS), rng.choice(PLAIN_COMMENTS)) for _ in range(2)]
        if (idx // 2) % OSCE_COMMENT_EVERY == 0:
            comments.append((rng.choice(COMMENTERS), rng.choice(OSCE_COMMENTS)))
        moment = self._moment(rng, day)
        return Article(
            idx=idx,
            slug=_slug(title, idx),
            rubric=rubric,
            subrubric=subrubric,
            title=title,
            author=rng.choice(AUTHORS),
            published=moment,
            paragraphs=paragraphs,
            comments=tuple(comments),
            changed=moment + timedelta(minutes=5),
        )

    # ------------------------------------------------------------------ time

    def set_epoch(self, epoch: int) -> None:
        """Move to ``epoch`` (0 or 1; backward by rebuilding)."""
        if epoch not in (0, 1):
            raise ValueError("the news site has epochs 0 and 1")
        with self.lock:
            if epoch < self.epoch:
                self._build()
            if epoch == 1 and self.epoch == 0:
                self._advance()
            self._cache.clear()

    def _advance(self) -> None:
        rng = random.Random(self.seed * 7919 + 17)
        stamp = datetime.combine(self.osce.today + timedelta(days=1), time(9, 30), tzinfo=UTC)
        edited = next(a for a in self.articles if a.about is not None and not a.premium)
        i = self.articles.index(edited)
        self.articles[i] = replace(
            edited,
            paragraphs=(
                *edited.paragraphs,
                "Correction: an earlier version of this article gave the wrong date "
                "for the announcement.",
            ),
            changed=stamp,
            edited=True,
        )
        used = {a.about.node for a in self.articles if a.about is not None}
        fresh = [it for it in self.osce.items_live() if it.seed is None and it.node not in used]
        n = len(self.articles)
        new = [
            self._osce_article(rng, n, fresh[-1], self.osce.today),
            self._local_article(rng, n + 1, self.osce.today),
        ]
        for article in new:
            article.published = stamp - timedelta(hours=1)
            article.changed = stamp
        self.articles.extend(new)
        self.epoch = 1
        self._changes[1] = {"new": [a.path for a in new], "edited": [edited.path]}

    def changes(self, epoch: int) -> dict[str, list[str]]:
        """Paths new and edited (what a reader sees changed) in ``epoch``."""
        return {k: list(v) for k, v in self._changes[epoch].items()}

    # ------------------------------------------------------------------ ground truth

    def truth(self) -> dict[str, dict[str, Any]]:
        """Every article by path: title, date, byline, whether it is about the OSCE, the
        OSCE item it reports on (``osce.org/<node>``) and whether robots.txt forbids it."""
        with self.lock:
            return {
                a.path: {
                    "title": a.title,
                    "published": a.published.date().isoformat(),
                    "byline": a.author,
                    "about_osce": a.about is not None,
                    "reports_on": a.about.item_id if a.about is not None else None,
                    "robots_forbidden": a.premium,
                    "text": "\n\n".join(a.paragraphs),
                }
                for a in self.articles
            }

    # ------------------------------------------------------------------ HTTP

    def serve(self, target: str, host: str = "127.0.0.1") -> Response:
        """``(status, headers, body)`` for ``GET target``."""
        path = urlsplit(target).path
        with self.lock:
            key = (self.epoch, host, path, self.osce_base)
            hit = self._cache.get(key)
            if hit is None:
                hit = self._route(path, "http://" + host)
                self._cache[key] = hit
            return hit

    def validators(self, target: str, host: str = "127.0.0.1") -> tuple[str, str] | None:
        """(ETag, Last-Modified) of a page, for a 304 without sending it."""
        answer = self.serve(target, host)
        if answer.status != 200:
            return None
        return answer.headers["ETag"], answer.headers["Last-Modified"]

    def _route(self, path: str, base: str) -> Response:
        by_path = {a.path: a for a in self.articles}
        newest = max(a.changed for a in self.articles)
        if path in ("", "/"):
            return _answer(200, self._home(base), newest)
        if path == "/robots.txt":
            text = f"User-agent: *\nDisallow: {PREMIUM}\n\nSitemap: {base}/sitemap.xml\n"
            return _answer(200, text, newest, "text/plain; charset=utf-8")
        if path == "/rss.xml":
            return _answer(200, self._rss(base), newest, RSS)
        if path == "/sitemap.xml":
            return _answer(200, self._sitemap(base), newest, XML)
        if path == "/feeds/broken.xml":
            page = "<!DOCTYPE html><html><body><h1>Down for maintenance</h1></body></html>"
            return _answer(200, page, newest)
        if path == "/sitemaps/huge.xml":
            return _answer(200, _huge_sitemap(base), newest, XML)
        if path.startswith("/sitemaps/nested/") and path.endswith(".xml"):
            level = path.rsplit("/", 1)[1].removesuffix(".xml")
            if level.isdigit():
                return _answer(200, _nested_index(base, int(level)), newest, XML)
        if path == "/sitemaps/bomb.xml.gz":
            return _answer(200, _bomb(), newest, "application/x-gzip")
        article = by_path.get(path.rstrip("/"))
        if article is not None:
            return _answer(200, self._page(article, base), article.changed)
        return _answer(404, "<html><body><h1>Not found</h1></body></html>", newest)

    # ------------------------------------------------------------------ markup

    def _shell(self, title: str, base: str, main: str, canonical: str = "") -> str:
        head_links = f'<link rel="canonical" href="{canonical}">' if canonical else ""
        most_read = "".join(
            f'<li><a href="{base}{a.path}">{escape(a.title)}</a></li>'
            for a in sorted(self.articles, key=lambda a: a.published, reverse=True)[:5]
        )
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)} | {NAME}</title>{head_links}"
            f'<link rel="alternate" type="application/rss+xml" href="{base}/rss.xml">'
            "</head><body>"
            '<div class="cookie-bar">We use cookies to improve your experience. '
            "<button>OK</button></div>"
            '<div class="top-ad"><span>Advertisement</span>'
            '<a href="https://ads.example.net/click?id=17">Book your Danube cruise now - '
            "20% off</a></div>"
            f'<div id="masthead"><a class="logo" href="{base}/">{NAME}</a>'
            '<ul class="rubrics"><li><a href="/city">City</a></li>'
            '<li><a href="/economy">Economy</a></li><li><a href="/culture">Culture</a></li>'
            '<li><a href="/organizations">Organizations</a></li></ul></div>'
            f'<div id="content-wrap"><div class="col-main">{main}</div>'
            '<div class="col-side"><div class="box-most-read"><h4>Most read</h4>'
            f"<ul>{most_read}</ul></div>"
            '<div class="side-ad">Advertisement: Apartments in the 1st district from '
            "EUR 4,900/m2</div></div></div>"
            '<div id="foot">&copy; Danube Courier Media GmbH, Praterstrasse 1, 1020 Vienna '
            '| <a href="/imprint">Imprint</a> | <a href="/privacy">Privacy</a></div>'
            "</body></html>"
        )

    def _page(self, a: Article, base: str) -> str:
        body = "".join(f"<p>{self._linked(a, p, base)}</p>" for p in a.paragraphs[1:])
        comments = "".join(
            f'<div class="cmt"><div class="cmt-head">{escape(who)} &ndash; '
            f"{_published_line(a.published + timedelta(hours=3 + n))}</div>"
            f'<div class="cmt-body">{escape(text)}</div></div>'
            for n, (who, text) in enumerate(a.comments)
        )
        main = (
            f'<div class="article-view"><h1 class="headline">{escape(a.title)}</h1>'
            f'<div class="meta-line"><span class="cat">{a.rubric}</span>'
            f'<span class="subcat">{a.subrubric}</span> &diams; Published: '
            f"{_published_line(a.published)} &diams; ({NAME})</div>"
            f'<div class="author-line">By {escape(a.author)}</div>'
            '<div class="article-text">'
            f'<p class="lead">{self._linked(a, a.paragraphs[0], base)}</p>'
            '<figure class="picture"><img src="/img/p.jpg" alt="">'
            '<figcaption class="pic-credit">/ Picture: &copy;</figcaption></figure>'
            f"{body}</div>"
            '<div class="inline-ad">Advertisement</div>'
            f'<div id="comments" class="comments"><h3>{len(a.comments)} Comments</h3>'
            f"{comments}</div></div>"
        )
        return self._shell(a.title, base, main, canonical=base + a.path)

    def _linked(self, a: Article, paragraph: str, base: str) -> str:
        """The paragraph, the OSCE item's title in it linked to the item, as news sites
        link: at its address (:data:`LINK_STYLES`: ``canonical``), at its ``/node/<n>``
        alias (``node``), or not at all (``none``: only the title, date and institution
        say which item it is)."""
        text = escape(paragraph)
        style = LINK_STYLES[(a.idx // 2) % len(LINK_STYLES)]
        if a.about is None or not self.osce_base or style == "none":
            return text
        title = escape(self.osce.content(a.about).title)
        path = a.about.path if style == "canonical" else f"/node/{a.about.node}"
        href = self.osce_base + path
        return text.replace(title, f'<a href="{href}">{title}</a>', 1)

    def _home(self, base: str) -> str:
        rows = "".join(
            f'<div class="teaser"><a href="{base}{a.path}">{escape(a.title)}</a></div>'
            for a in sorted(self.articles, key=lambda a: a.published, reverse=True)
        )
        return self._shell("Home", base, rows)

    def _rss(self, base: str) -> str:
        items = "".join(
            "<item>"
            f"<title>{escape(a.title)}</title><link>{base}{a.path}</link>"
            f"<guid>{base}{a.path}</guid>"
            f"<pubDate>{a.published:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
            f"<description>{escape(a.paragraphs[0])}</description>"
            "</item>"
            for a in sorted(self.articles, key=lambda a: a.published, reverse=True)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{NAME}</title><link>{base}/</link>"
            f"<description>News from Vienna</description>{items}</channel></rss>"
        )

    def _sitemap(self, base: str) -> str:
        urls = "".join(
            f"<url><loc>{base}{a.path}</loc>"
            f"<lastmod>{a.changed:%Y-%m-%dT%H:%M:%S+00:00}</lastmod></url>"
            for a in self.articles
            if not a.premium
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )


def _answer(
    status: int, body: str | bytes, modified: datetime, content_type: str = HTML
) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = 'W/"' + hashlib.blake2b(data, digest_size=10).hexdigest() + '"'
    headers = {
        "Content-Type": content_type,
        "ETag": etag,
        "Last-Modified": http_date(modified),
        "Cache-Control": "public, max-age=300",
    }
    return Response(status, headers, data)


@lru_cache(maxsize=4)
def _huge_sitemap(base: str, urls: int = 20000) -> str:
    rows = "".join(f"<url><loc>{base}/archive/{n}</loc></url>" for n in range(urls))
    return f'<?xml version="1.0"?><urlset xmlns="{_NS}">{rows}</urlset>'


def _nested_index(base: str, level: int) -> str:
    children = "".join(
        f"<sitemap><loc>{base}/sitemaps/nested/{2 * level + k}.xml</loc></sitemap>" for k in (1, 2)
    )
    return f'<?xml version="1.0"?><sitemapindex xmlns="{_NS}">{children}</sitemapindex>'


@lru_cache(maxsize=1)
def _bomb(inflated: int = 16 * 1024 * 1024) -> bytes:
    head = f'<?xml version="1.0"?><urlset xmlns="{_NS}">'.encode()
    return gzip.compress(head + b" " * inflated + b"</urlset>", compresslevel=9, mtime=0)


_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

__all__ = ["NAME", "Article", "NewsSite"]
