"""Hand-written OSCE item pages in many markups, for tests that must not lean on the replica.

Each layout renders the same reader-visible item (SITE.md's order: type label, title,
labelled details, byline, body, promotion block) with different elements and class
names, so a test can check that the record is the same whatever the markup.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

NAV = [
    "Our work",
    "Fields of work",
    "Arms control",
    "Border management",
    "Elections",
    "Participating States",
    "Czech Republic",
    "Gender Equality Review Conferences",
    "About us",
]
LAYOUTS = ("list", "flat", "dl", "rows", "strong", "plain", "nested", "spans")


@dataclass
class Item:
    """The reader-visible content of an item and where its date is shown."""

    node: int = 55436
    section: str = "fsc"
    type_label: str = "Press release"
    title: str = "OSCE Security Conference considers fresh options"
    published: str = "2003-06-27"
    place: str | None = "VIENNA"
    sources: list[str] = field(
        default_factory=lambda: ["Forum for Security Co-operation", "Permanent Council"]
    )
    fields_of_work: list[str] = field(default_factory=lambda: ["Policing", "Arms control"])
    byline: str | None = None
    paragraphs: list[str] = field(
        default_factory=lambda: [
            "VIENNA, 26 June 2003 - The OSCE's first-ever Annual Security Review Conference "
            "closed yesterday with its main aim successfully met.",
            "Among the options that were mentioned are adopting OSCE-backed common security "
            "features on travel documentation.",
            "Background information and speeches have been posted on a special conference website.",
        ]
    )
    promotion: bool = False


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render(
    item: Item,
    layout: str = "list",
    date_in: tuple[str, ...] = ("time",),
    labels: dict[str, str] | None = None,
    cls: str = "x",
    h1: bool = True,
    nav: list[str] | None = None,
    repeat_body: bool = False,
    extra_body: str = "",
    lang: str | None = "en",
) -> str:
    """One item page. ``date_in``: any of time, meta, jsonld (where the date is shown)."""
    lab = {"date": "Date:", "place": "Place:", "source": "Source:", "fields": "Fields of work:"}
    lab.update(labels or {})
    dt = item.published
    time_el = f'<time datetime="{dt}T09:00:00Z"></time>' if "time" in date_in else ""
    rows: list[tuple[str, list[str], str]] = [(lab["date"], [], time_el)]
    if item.place:
        rows.append((lab["place"], [item.place], ""))
    if item.sources:
        rows.append((lab["source"], [", ".join(item.sources)], ""))
    if item.fields_of_work:
        rows.append((lab["fields"], [", ".join(item.fields_of_work)], ""))
    details = _details(rows, layout, cls)
    head = [f"<title>{_e(item.title)} | OSCE</title>"]
    head.append(f'<link rel="canonical" href="https://www.osce.org/{item.section}/{item.node}">')
    if "meta" in date_in:
        head.append(f'<meta property="article:published_time" content="{dt}T10:00:00+02:00">')
    if "jsonld" in date_in:
        data = {
            "@context": "https://schema.org",
            "@graph": [{"@type": "NewsArticle", "headline": item.title, "datePublished": dt}],
        }
        head.append(f'<script type="application/ld+json">{json.dumps(data)}</script>')
    menu = "".join(f"<li><a href='/x'>{_e(n)}</a></li>" for n in (nav or NAV))
    title = (
        f'<h1 class="{cls}-title">{_e(item.title)}</h1>'
        if h1
        else f'<div class="{cls}-title">{_e(item.title)}</div>'
    )
    byline = f'<div class="{cls}-by">By {_e(item.byline)}</div>' if item.byline else ""
    paras = "".join(f"<p>{_e(p)}</p>" for p in item.paragraphs)
    if repeat_body:
        paras += paras
    promo = (
        f'<div class="{cls}-promo"><h2>OSCE Impact</h2>'
        "<p>Discover more stories about how the OSCE improves lives.</p></div>"
        if item.promotion
        else ""
    )
    lang_attr = f' lang="{lang}"' if lang else ""
    if layout in ("strong", "plain"):
        article = (
            f'<div class="{cls}-content"><div class="{cls}-type">{_e(item.type_label)}</div>'
            f"{title}{details}{byline}{paras}{extra_body}{promo}</div>"
        )
    else:
        article = (
            f'<article class="{cls}-node"><div class="{cls}-type">{_e(item.type_label)}</div>'
            f'{title}{details}{byline}<div class="{cls}-body">{paras}{extra_body}</div>'
            f"{promo}</article>"
        )
    return (
        f"<!DOCTYPE html><html{lang_attr}><head><meta charset='utf-8'>{''.join(head)}</head>"
        f'<body><header class="{cls}-top"><a href="/">OSCE</a></header>'
        f'<nav class="{cls}-menu"><ul>{menu}</ul></nav>'
        f'<main class="{cls}-main">{article}</main>'
        f'<footer class="{cls}-foot"><p>Terms of use</p><p>Privacy</p></footer></body></html>'
    )


def _details(rows: list[tuple[str, list[str], str]], layout: str, cls: str) -> str:
    out = []
    if layout == "list":
        for label, values, extra in rows:
            vals = "".join(f"<li>{_e(v)}</li>" for v in values)
            inner = f"<ul>{vals}</ul>" if vals else ""
            out.append(f'<li><span class="{cls}-l">{_e(label)}</span> {extra}{inner}</li>')
        return f'<ul class="{cls}-meta">{"".join(out)}</ul>'
    if layout == "flat":
        for label, values, extra in rows:
            out.append(f"<li>{_e(label)}</li>")
            if extra:
                out.append(f"<li>{extra}</li>")
            out.extend(f"<li>{_e(v)}</li>" for v in values)
        return f'<ul class="{cls}-meta">{"".join(out)}</ul>'
    if layout == "dl":
        for label, values, extra in rows:
            out.append(f"<dt>{_e(label)}</dt>")
            if extra:
                out.append(f"<dd>{extra}</dd>")
            out.extend(f"<dd>{_e(v)}</dd>" for v in values)
        return f'<dl class="{cls}-meta">{"".join(out)}</dl>'
    if layout == "rows":
        for label, values, extra in rows:
            vals = "".join(f"<div>{_e(v)}</div>" for v in values)
            out.append(
                f'<div class="{cls}-row"><div class="{cls}-label">{_e(label)}</div>'
                f'<div class="{cls}-items">{extra}{vals}</div></div>'
            )
        return f'<div class="{cls}-fields">{"".join(out)}</div>'
    if layout == "strong":
        for label, values, extra in rows:
            out.append(f"<p><strong>{_e(label)}</strong> {extra}{_e(', '.join(values))}</p>")
        return "".join(out)
    if layout == "plain":
        for label, values, extra in rows:
            out.append(f"<div>{_e(label)} {extra}{_e(', '.join(values))}</div>")
        return "".join(out)
    if layout == "nested":  # sources and fields split into one list item each
        for label, values, extra in rows:
            parts = [p.strip() for v in values for p in v.split(",")]
            vals = "".join(f"<li><a href='/t'>{_e(p)}</a></li>" for p in parts)
            out.append(
                f"<li><span>{_e(label)}</span>{extra}<div><ul>{vals}</ul></div></li>"
                if vals or extra
                else f"<li><span>{_e(label)}</span></li>"
            )
        return f'<ul class="{cls}-meta">{"".join(out)}</ul>'
    if layout == "spans":
        for label, values, extra in rows:
            vals = "".join(f'<span class="{cls}-v">{_e(v)}</span>' for v in values)
            out.append(f'<div><span class="{cls}-k">{_e(label)}</span>{extra}{vals}</div>')
        return f'<section class="{cls}-info">{"".join(out)}</section>'
    raise ValueError(layout)
