"""``export --format wacz``: the WARC export packed as WACZ, for replay in the browser.

WACZ (Web Archive Collection Zipped) is what ReplayWeb.page and pywb open directly:
a zip of the WARC (``archive/``), its CDXJ index (``indexes/``), a list of the pages
to start from (``pages/pages.jsonl``: every HTML page the archive holds, with its
title) and a ``datapackage.json`` with a digest of each file. It is built by the
``wacz`` package itself (the Webrecorder project's reference tool) from the same WARC
``--format warc`` writes, and ``wacz validate`` checks it.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from archive.errors import ArchiveError
from archive.export import StoredCapture, iso_time, write_warc

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class _Pages:
    """Collects the pages list while the captures stream into the WARC: every address
    that answered 200 with HTML, at its latest such capture, titled from its page."""

    def __init__(self, captures: Iterable[StoredCapture]) -> None:
        self.captures = captures
        self.pages: dict[str, dict[str, str]] = {}

    def __iter__(self):  # type: ignore[no-untyped-def]
        for capture in self.captures:
            html = "html" in (capture.content_type or "")
            if capture.status == 200 and html and capture.body_sha256:
                title = capture.url
                data = capture.body()
                found = _TITLE.search(data or b"")
                if found:
                    title = " ".join(found.group(1).decode("utf-8", "replace").split()) or title
                capture.body = _constant(data)  # loaded once, written next
                self.pages[capture.url] = {
                    "url": capture.url,
                    "ts": iso_time(capture.fetched_at) or "",
                    "title": title,
                }
            yield capture

    def write(self, path: Path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
            handle.write(json.dumps(header) + "\n")
            for number, page in enumerate(self.pages.values(), 1):
                handle.write(json.dumps({"id": f"page-{number}", **page}) + "\n")


def write_wacz(
    captures: Iterable[StoredCapture], out: IO[bytes], info: dict[str, str] | None = None
) -> int:
    """Write the WARC of ``captures`` into a scratch folder, pack it with ``wacz create``
    (with the pages list it gathered on the way) and copy the result into ``out``."""
    from wacz.main import main as wacz_main

    with tempfile.TemporaryDirectory(prefix="osce-wacz-") as scratch:
        folder = Path(scratch)
        warc = folder / "captures.warc.gz"
        pages = _Pages(captures)
        with open(warc, "wb") as handle:
            count = write_warc(pages, handle, info)
        pages_file = folder / "pages.jsonl"
        pages.write(pages_file)
        target = folder / "captures.wacz"
        noise = io.StringIO()
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
            status = wacz_main(
                [
                    "create",
                    "--pages",
                    str(pages_file),
                    "--title",
                    "OSCE newsroom archive",
                    "-o",
                    str(target),
                    str(warc),
                ]
            )
        if status or not target.exists():
            last = (noise.getvalue().strip().splitlines() or ["no output"])[-1]
            raise ArchiveError(f"wacz could not pack the WARC: {last}")
        with open(target, "rb") as packed:
            shutil.copyfileobj(packed, out)
    return count


def _constant(data: bytes | None) -> Callable[[], bytes | None]:
    """A body loader that hands back bytes already read."""
    return lambda: data
