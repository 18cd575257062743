"""Shared fixtures live in ``tests/fixtures/``, one module per concern.

The suite runs on every core with pytest-xdist (``-n 2 --dist loadfile``, as the README
and ``.ci/run`` say): each test module goes to one worker whole, so a module's fixtures
(the themed crawls, say) are built once. Session fixtures (the reading room's crawled
archive) are built once per worker that needs them. ``--dist loadgroup`` would pin
directories together, but pytest 9.2 keeps node ids where xdist 3.8 can no longer add
its group to them, so its groups are silently ignored.
"""

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.replica"]
