"""`osce-archive sites [--json]`: the site profiles the crawler knows (``crawler/sites``)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def describe(name: str) -> dict[str, Any]:
    """What one profile means: hosts, where a crawl starts, discovery, kinds, politeness."""
    from crawler.sites import DEFAULT, PROFILES

    p = PROFILES[name]
    return {
        "name": p.name,
        "default": p is DEFAULT,
        "hosts": list(p.hosts),
        "home": p.home or None,
        "id_prefix": p.id_prefix or None,
        "listings": dict(p.listing_paths),
        "sitemap": p.sitemap_path,
        "feed": p.rss_path,
        "kinds": sorted(set(p.vocabulary.type_labels.values())),
        "default_kinds": list(p.default_kinds),
        "politeness": {
            "download_delay": p.politeness.download_delay,
            "autothrottle_target": p.politeness.autothrottle_target,
            "concurrency_per_domain": p.politeness.concurrency_per_domain,
            "obey_robots": p.politeness.obey_robots,
        },
        "default_furniture": p.default_furniture().version,
    }


def run(args: argparse.Namespace) -> int:
    from crawler.sites import PROFILES

    profiles = [describe(name) for name in PROFILES]
    if args.json:
        print(json.dumps(profiles))
        return 0
    for p in profiles:
        mark = " (default)" if p["default"] else ""
        hosts = ", ".join(p["hosts"]) or "any site without a profile"
        print(f"{p['name']}{mark}: {hosts}")
        if p["home"]:
            print(f"  home      {p['home']}")
        if p["listings"]:
            print(f"  listings  {', '.join(f'{k} {v}' for k, v in p['listings'].items())}")
        if p["kinds"]:
            print(f"  kinds     {', '.join(p['kinds'])}")
        polite = p["politeness"]
        print(
            f"  polite    {polite['download_delay']} s delay, "
            f"{polite['concurrency_per_domain']} at once, robots.txt obeyed"
            if polite["obey_robots"]
            else f"  polite    {polite['download_delay']} s delay"
        )
    return 0
