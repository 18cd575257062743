"""The site's navigation menu and how it drifts over time.

The menu is taken line for line from the captured seeds. Captures made at different times
disagree (seed 001 says ``Czech Republic``, seeds 000 and 002 ``Czechia``; seed 002 says
``Gender equality conferences`` where the others say ``Gender Equality Review
Conferences``), so the replica models the menu as a sequence of versions:

- version 0: as in seed 001 (the oldest wording);
- version 1: ``Czech Republic`` -> ``Czechia`` (as in seed 000);
- version 2: ``Gender Equality Review Conferences`` -> ``Gender equality conferences``
  (as in seed 002);
- version 3: the Chairpersonship passes on (``Finland – OSCE Chairpersonship 2025`` ->
  ``Finland``, ``Switzerland`` -> ``Switzerland – OSCE Chairpersonship 2026``);
- version 4: a new field of work ``Artificial intelligence`` appears in the menu.

Epoch ``e`` shows version ``DRIFT_EPOCHS``-indexed (see :func:`version_for_epoch`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from replica.seeds import seed_items

#: Epochs at which the menu changes, and what changes (old line -> new line; ``+`` adds).
DRIFTS: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = (
    (1, (("Czech Republic", "Czechia"),)),
    (2, (("Gender Equality Review Conferences", "Gender equality conferences"),)),
    (
        4,
        (
            ("Finland – OSCE Chairpersonship 2025", "Finland"),
            ("Switzerland", "Switzerland – OSCE Chairpersonship 2026"),
        ),
    ),
    (6, (("+Youth", "Artificial intelligence"),)),
)


@dataclass(frozen=True)
class NavEntry:
    """One menu line: a heading (not a link) or a link."""

    text: str
    heading: bool
    top: bool  # a top-level heading, rendered as a toggle button

    @property
    def href(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.text.lower().split("–")[0]).strip("-")
        return "/" + slug


_TOP = {"Our work", "Countries", "Structures and institutions"}


def parse_nav(lines: tuple[str, ...] | list[str]) -> tuple[NavEntry, ...]:
    """Captured nav lines (``-`` then heading, or ``- link``) -> entries."""
    entries: list[NavEntry] = []
    pending_heading = False
    for line in lines:
        if line == "-":
            pending_heading = True
            continue
        if pending_heading:
            entries.append(NavEntry(line, True, line in _TOP))
            pending_heading = False
        else:
            entries.append(NavEntry(line[2:] if line.startswith("- ") else line, False, False))
    return tuple(entries)


def version_for_epoch(epoch: int) -> int:
    """How many drifts have happened by ``epoch``."""
    return sum(1 for at, _ in DRIFTS if at <= epoch)


def drift_epochs() -> tuple[int, ...]:
    return tuple(at for at, _ in DRIFTS)


@cache
def nav_version(version: int) -> tuple[NavEntry, ...]:
    """The menu after ``version`` drifts, starting from seed 001's capture."""
    entries = list(parse_nav(seed_items()[1].nav_lines))
    for _, changes in DRIFTS[:version]:
        for old, new in changes:
            if old.startswith("+"):
                at = next(i for i, e in enumerate(entries) if e.text == old[1:])
                entries.insert(at + 1, NavEntry(new, False, False))
                continue
            entries = [NavEntry(new, e.heading, e.top) if e.text == old else e for e in entries]
    return tuple(entries)


def seed_nav_version(number: int) -> int:
    """The menu version seed ``number`` was captured with (shown on its page in epoch 0)."""
    captured = parse_nav(seed_items()[number].nav_lines)
    for version in range(len(DRIFTS) + 1):
        if nav_version(version) == captured:
            return version
    raise ValueError(f"seed {number:03d}'s navigation matches no menu version")
