"""`osce-archive extract FILE [--url URL] [--profile NAME]`: the crawl's extraction on one page.

Prints the record's extraction fields (``CONTRACT.md``) and its extraction ``warnings``
as one JSON object.  ``--profile generic`` reads the page with the generic path
(trafilatura + htmldate); without it the address picks the profile.  Without
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
    out = {**record.to_json(), "warnings": record.warnings}
    # The profile's own ids: osce.org/<node>, osce.org/<lang>/<node> for a language version.
    item_id = re.escape(sites.DEFAULT.id_prefix) + r"(?:[a-z]{2}/)?[0-9]+"
    own_id = profile is not None or re.fullmatch(item_id, str(out.get("id") or ""))
    if not record.is_item or not own_id:
        out["id"] = None  # not an item (or no node number): no made-up id from the path
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
