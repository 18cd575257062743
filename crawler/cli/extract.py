"""`osce-archive extract FILE [--url URL] [--profile NAME]`: the crawl's extraction on one page.

Prints the record's extraction fields (``CONTRACT.md``) and its extraction ``warnings``
as one JSON object.  ``--profile generic`` reads the page with the generic path
(trafilatura + htmldate); without it the address picks the profile.  Without
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

    from crawler import sites

    profile = None
    if getattr(args, "profile", None):
        try:
            profile = sites.get(args.profile)
        except KeyError as exc:
            raise ArchiveError(str(exc.args[0])) from None
    url = args.url or path.resolve().as_uri()
    record = sites.extract(body, url, profile=profile)
    json.dump({**record.to_json(), "warnings": record.warnings}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
