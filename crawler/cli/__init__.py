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
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from archive.errors import ArchiveError, ArchiveLocked

DEFAULT_DB = "sqlite:///archive.sqlite"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the archive; cron may simply retry later


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 1, as the contract says."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_FAILURE, f"{self.prog}: error: {message}\n")


def _at_least(minimum: int, text: str) -> int:
    """A count given on the command line: a whole number of at least ``minimum``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def positive(text: str) -> int:
    """A count given on the command line: a whole number of at least 1."""
    return _at_least(1, text)


def non_negative(text: str) -> int:
    """A count that may be 0: a whole number of at least 0."""
    return _at_least(0, text)


def _common_options(parser: argparse.ArgumentParser, *, sub: bool, db: bool = True) -> None:
    """Options every command takes, before or after its name (``status --debug`` and
    ``--debug status`` alike): on a command's parser they default to "not given", so
    they never undo the same option given before the command."""
    unset = argparse.SUPPRESS if sub else None
    parser.add_argument(
        "--debug",
        action="store_true",
        default=unset if sub else False,
        help="show tracebacks on errors",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=unset if sub else False,
        help="show library log lines (Scrapy, Alembic) and every log line of a crawl",
    )
    if db:
        parser.add_argument(
            "--db",
            metavar="URL",
            default=unset,
            help=f"the archive: an SQLAlchemy URL or an SQLite file path "
            f"(default: $OSCE_ARCHIVE_DB, else {DEFAULT_DB})",
        )


# Long on purpose: a declarative table of every subcommand and option, read top to bottom.
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="osce-archive",
        description="A dated, versioned, deduplicated archive of the OSCE newsroom.",
    )
    _common_options(parser, sub=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("crawl", help="crawl the site into the archive")
    _common_options(p, sub=True)
    p.add_argument(
        "--site",
        default=None,
        help="base URL to crawl (default: the home of the default site profile; see `sites`)",
    )
    p.add_argument("--full", action="store_true", help="visit every item (still conditionally)")
    p.add_argument(
        "--kinds",
        default="press-release,story",
        help="content types to archive, comma-separated, or 'all' (default: press-release,story)",
    )
    p.add_argument(
        "--max-items", type=positive, default=None, metavar="N", help="stop after N items"
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="no politeness delays: for the local replica or a site you run, never a live site",
    )
    p.add_argument(
        "--sources",
        default=None,
        metavar="FILE",
        help="also crawl the third-party sources listed in FILE (TOML; see the README), "
        "keeping their articles about the OSCE",
    )
    p.add_argument(
        "--cluster",
        default=None,
        metavar="redis://HOST:PORT/DB",
        help="join (or start) a crawl shared by several processes through this Redis; "
        "the archive must be PostgreSQL",
    )
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

    p = sub.add_parser("sites", help="list the site profiles (plug-ins) the crawler knows")
    _common_options(p, sub=True, db=False)
    p.add_argument("--json", action="store_true", help="print the profiles as one JSON object")

    p = sub.add_parser("extract", help="extract the record of one saved HTML page")
    _common_options(p, sub=True, db=False)
    p.add_argument("file", metavar="FILE", help="a saved HTML page")
    p.add_argument("--url", default=None, help="the address the page was fetched from")
    p.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help="site profile to read it with (e.g. generic); default: chosen by the address",
    )

    p = sub.add_parser("export", help="write records (JSONL, CSV, Parquet, SQLite, WARC, WACZ)")
    _common_options(p, sub=True)
    p.add_argument(
        "--format",
        default="jsonl",
        choices=["jsonl", "csv", "parquet", "warc", "wacz", "sqlite"],
    )
    p.add_argument("--output", default=None, metavar="FILE", help="file or folder to write")
    p.add_argument("--since", default=None, metavar="CURSOR", help="only changes after CURSOR")
    p.add_argument("--history", action="store_true", help="one record per version")
    p.add_argument("--as-of", default=None, metavar="TIME", help="the archive as it stood at TIME")
    p.add_argument("--kinds", default=None, help="only these content types, comma-separated")

    p = sub.add_parser("history", help="list a document's versions, oldest first")
    _common_options(p, sub=True)
    p.add_argument("target", metavar="ID_OR_URL")
    p.add_argument("--json", action="store_true", help="print the history as one JSON object")

    p = sub.add_parser("status", help="documents, versions, last runs")
    _common_options(p, sub=True)
    p.add_argument("--json", action="store_true", help="print the status as one JSON object")

    p = sub.add_parser("verify", help="check stored hashes against stored content")
    _common_options(p, sub=True)

    p = sub.add_parser("reextract", help="re-run extraction over stored raw pages, no fetching")
    _common_options(p, sub=True)
    p.add_argument(
        "--workers",
        type=non_negative,
        default=None,
        help="extraction processes (default: one per core; 1 or 0: in this process)",
    )
    p.add_argument("--json", action="store_true", help="print the counters as one JSON object")

    p = sub.add_parser("furniture", help="show, learn or compare the learned furniture models")
    _common_options(p, sub=True)
    p.add_argument("action", choices=["show", "learn", "diff"], help="what to do")
    p.add_argument("host", nargs="?", default=None, help="the site, e.g. osce.org")
    p.add_argument("a", nargs="?", default=None, help="diff: the older model version")
    p.add_argument("b", nargs="?", default=None, help="diff: the newer model version")
    p.add_argument("--sample", type=positive, default=300, help="learn: stored pages to learn from")
    p.add_argument("--save", action="store_true", help="learn: keep the model in the archive")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("serve", help="serve the read-only web view of the archive")
    _common_options(p, sub=True)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--port", type=positive, default=8080, help="port (default 8080)")
    p.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="server processes (default 1; one per core for many readers at once)",
    )

    p = sub.add_parser("index", help="rebuild the full-text search index")
    _common_options(p, sub=True)

    p = sub.add_parser("demo", help="crawl the bundled copy of the site into demo-archive.sqlite")
    _common_options(p, sub=True)
    p.add_argument(
        "--items", type=positive, default=300, help="items in the demo site (default 300)"
    )
    p.add_argument(
        "--force", action="store_true", help="crawl into --db even if it holds a real archive"
    )
    return parser


def database_url(value: str) -> str:
    """``--db``: an SQLAlchemy URL as given, or a file path taken as an SQLite archive."""
    text = value.strip()
    if "://" in text:
        return text
    if not text:
        raise ArchiveError("--db is empty: give a URL (sqlite:///archive.sqlite) or a file path")
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def resolve_db(args: argparse.Namespace) -> None:
    if args.command == "demo":
        args.db = database_url(args.db) if args.db else None
    elif args.command != "extract":
        args.db = database_url(args.db or os.environ.get("OSCE_ARCHIVE_DB") or DEFAULT_DB)


def known_kinds() -> list[str]:
    """The content types the site profile knows, as record ``kind`` slugs."""
    from crawler.sites import PROFILES

    return sorted({kind for p in PROFILES.values() for kind in p.vocabulary.type_labels.values()})


def check_kinds(value: str | None, *, allow_all: bool, articles: bool = False) -> str | None:
    """``--kinds``: each name known (or ``all`` where it means every kind; ``articles``:
    also the third-party articles' kind, which an archive holds but the site has not),
    else ArchiveError naming the known ones; a typo must not archive or export nothing."""
    if value is None:
        return None
    from crawler.sites.generic import ARTICLE_KIND

    names = [k.strip().lower() for k in value.split(",") if k.strip()]
    known = sorted({*known_kinds(), ARTICLE_KIND}) if articles else known_kinds()
    choices = ", ".join(known) + (", or all" if allow_all else "")
    if not names:
        raise ArchiveError(f"--kinds is empty: choose from {choices}")
    unknown = [k for k in names if k not in known and not (allow_all and k == "all")]
    if unknown:
        raise ArchiveError(f"unknown kind {', '.join(map(repr, unknown))}: choose from {choices}")
    return ",".join(names)


def quiet_libraries(verbose: bool) -> None:
    """Library log noise (Alembic's INFO lines) only with ``--verbose``."""
    level = logging.INFO if verbose else logging.WARNING
    for name in ("alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or bool(os.environ.get("OSCE_ARCHIVE_DEBUG"))
    quiet_libraries(args.verbose)
    try:
        resolve_db(args)
        module = importlib.import_module(f"crawler.cli.{args.command.replace('-', '_')}")
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
