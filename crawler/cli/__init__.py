"""``osce-archive``: the command line of ``CONTRACT.md``.

Argument parsing lives here and nowhere else. Each command's work is a function
``run(args) -> int`` in ``crawler/cli/<name>.py``, imported only when that
command runs, so ``osce-archive --help`` and ``export`` never pay for Scrapy.

Exit status: 0 success; 1 failure with a one-line reason on stderr; 75 when
another crawl holds the archive.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from archive.errors import ArchiveError, ArchiveLocked

DEFAULT_DB = "sqlite:///archive.sqlite"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the archive; cron may simply retry later


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 1, as the contract says."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_FAILURE, f"{self.prog}: error: {message}\n")


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help=f"SQLAlchemy URL of the archive (default: $OSCE_ARCHIVE_DB, else {DEFAULT_DB})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="osce-archive",
        description="A dated, versioned, deduplicated archive of the OSCE newsroom.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("crawl", help="crawl the site into the archive")
    _db_option(p)
    p.add_argument("--site", default="https://www.osce.org", help="base URL to crawl")
    p.add_argument("--full", action="store_true", help="visit every item (still conditionally)")
    p.add_argument(
        "--kinds",
        default="press-release,story",
        help="content types to archive, comma-separated, or 'all' (default: press-release,story)",
    )
    p.add_argument("--max-items", type=int, default=None, metavar="N", help="stop after N items")
    p.add_argument(
        "-s",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the run summary as one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress display")

    p = sub.add_parser("extract", help="extract the record of one saved HTML page")
    p.add_argument("file", metavar="FILE", help="a saved HTML page")
    p.add_argument("--url", default=None, help="the address the page was fetched from")

    p = sub.add_parser("export", help="write records (JSONL, CSV, Parquet, WARC)")
    _db_option(p)
    p.add_argument("--format", default="jsonl", choices=["jsonl", "csv", "parquet", "warc"])
    p.add_argument("--output", default=None, metavar="FILE", help="file or folder to write")
    p.add_argument("--since", default=None, metavar="CURSOR", help="only changes after CURSOR")
    p.add_argument("--history", action="store_true", help="one record per version")
    p.add_argument("--as-of", default=None, metavar="TIME", help="the archive as it stood at TIME")
    p.add_argument("--kinds", default=None, help="only these content types, comma-separated")

    p = sub.add_parser("history", help="list a document's versions, oldest first")
    _db_option(p)
    p.add_argument("target", metavar="ID_OR_URL")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("status", help="documents, versions, last runs")
    _db_option(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("verify", help="check stored hashes against stored content")
    _db_option(p)

    p = sub.add_parser("reextract", help="re-run extraction over stored raw pages, no fetching")
    _db_option(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", help="serve the read-only web view of the archive")
    _db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")

    p = sub.add_parser("index", help="rebuild the full-text search index")
    _db_option(p)

    p = sub.add_parser("demo", help="crawl the bundled copy of the site into demo-archive.sqlite")
    p.add_argument("--items", type=int, default=300, help="items in the demo site (default 300)")
    p.add_argument(
        "--db", default=None, metavar="URL", help="default sqlite:///demo-archive.sqlite"
    )
    return parser


def resolve_db(args: argparse.Namespace) -> None:
    if hasattr(args, "db") and args.command != "demo":
        args.db = args.db or os.environ.get("OSCE_ARCHIVE_DB") or DEFAULT_DB


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    resolve_db(args)
    debug = args.debug or bool(os.environ.get("OSCE_ARCHIVE_DEBUG"))
    try:
        module = importlib.import_module(f"crawler.cli.{args.command}")
        return int(module.run(args) or 0)
    except ArchiveLocked as exc:
        print(f"osce-archive: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ArchiveError as exc:
        if debug:
            raise
        print(f"osce-archive: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("osce-archive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        if debug:
            raise
        from archive.errors import redact

        print(f"osce-archive: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
        return EXIT_FAILURE
