"""`osce-archive extract FILE [--url URL]`: the crawl's own extraction on one saved page.

Prints the record's extraction fields (``CONTRACT.md``) as one JSON object.  Without
``--url`` the page's canonical link names it; failing that, the file's ``file://``
address does (the id then falls back to what the path gives).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archive.errors import ArchiveError


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
    json.dump(record.to_json(), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
