"""Shared fixtures live in ``tests/fixtures/``, one module per concern.

The suite runs on every core with pytest-xdist (``-n 2 --dist loadgroup``, as the README
and ``.ci/run`` say): each test module goes to one worker whole, so a module's fixtures
(a themed crawl, a crawled archive) are built once; the reading room's and the exports'
tests share session fixtures (an archive crawled once), so each of those directories is
one group.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.replica"]

#: Directories whose modules share session-scoped fixtures: one xdist group each.
_SHARED = ("web", "export")
_ROOT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        path = Path(str(item.path)).resolve()
        try:
            rel = path.relative_to(_ROOT)
        except ValueError:
            continue
        group = rel.parts[0] if rel.parts[0] in _SHARED else rel.as_posix()
        item.add_marker(pytest.mark.xdist_group(name=group))
