"""`osce-archive extract FILE [--url URL]`: the crawl's own extraction on one saved page.

Prints the record's extraction fields (``CONTRACT.md``) as one JSON object.  Without
``--url`` the page's canonical link names it; failing that, the file's ``file://``
address does. A page that is not an item (``kind: page``), or an item whose node
number neither its canonical link nor the address gives, has ``id: null``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from archive.errors import ArchiveError

#: A document id, as the record schema has it.
DOCUMENT_ID = re.compile(r"osce\.org/[0-9]+")


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise ArchiveError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ArchiveError(f"not a file: {path}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from None

    from crawler.extract import extract

    url = args.url or path.resolve().as_uri()
    record = extract(body, url)
    out = record.to_json()
    if not record.is_item or not DOCUMENT_ID.fullmatch(str(out.get("id") or "")):
        out["id"] = None  # not an item (or no node number): no made-up id from the path
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
