"""The replica's site: the content model plus what it answers over HTTP and its gold records.

:class:`Site` is :class:`replica.generator.SiteModel` with two readers on top:
``render`` (what the server answers, through :mod:`replica.routes`) and ``gold`` (the
expected record of an item plus the furniture lines its page shows). Keeping them here
keeps the imports one way: ``site`` -> ``routes`` -> ``pages``/``feeds``/``themed`` ->
``generator`` -> ``themes``, and nothing imports back.
"""

from __future__ import annotations

from typing import Any

from replica.faults import Faults
from replica.generator import Item, SiteModel
from replica.navigation import nav_version
from replica.routes import Response, render
from replica.themed import default_fragments, furniture_lines, item_page


class Site(SiteModel):
    """A replica site at one epoch, in the markup of its theme (0: the default)."""

    def render(self, path: str, host: str = "127.0.0.1", faults: Faults | None = None) -> Response:
        """``(status, headers, body)`` the server answers for ``GET path`` (a
        :class:`replica.routes.Response`, which unpacks as that tuple)."""
        return render(self, path, host, faults)

    def furniture(self, item: Item, host: str = "127.0.0.1") -> set[str]:
        """Visible lines of ``item``'s page that belong to no record: the menu, and every
        furniture block the page shows (fixed texts and the links that vary per page)."""
        lines = {entry.text for entry in nav_version(self.page_nav_version(item))}
        if self.theme is None:
            fragments = default_fragments(self, item, host)
        else:
            _, fragments = item_page(self, self.theme, item, "http://" + host, host)
        return lines | furniture_lines(fragments)

    def theme_furniture(self) -> frozenset[str]:
        """The fixed furniture lines of the theme (the same on every page)."""
        return self.theme.furniture_lines() if self.theme is not None else frozenset()

    def gold(self, item: Item, base: str = "", host: str = "127.0.0.1") -> dict[str, Any]:
        """The expected record of ``item`` (CONTRACT.md fields, from the generator's data)
        and, under ``furniture``, the sorted furniture lines its page shows."""
        record = self.record(item, base)
        record["furniture"] = sorted(self.furniture(item, host))
        return record


__all__ = ["Site"]
