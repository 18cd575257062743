"""``python -m archive.migrations check|upgrade|downgrade|current [REVISION] [--db URL]``.

Without ``--db``, ``check`` runs against a fresh temporary SQLite file, which is what
CI needs: it proves the revisions reach head from empty and then match the models.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from archive import migrations
from archive.db import display_url, make_engine
from archive.errors import ArchiveError, redact


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive.migrations")
    parser.add_argument("action", choices=["check", "upgrade", "downgrade", "current"])
    parser.add_argument("revision", nargs="?", help="downgrade: the revision to go back to")
    parser.add_argument("--db", default=None, metavar="URL", help="default: a temporary SQLite")
    args = parser.parse_args(argv)
    if args.action == "downgrade" and not (args.db and args.revision):
        parser.error("downgrade needs a revision and --db")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'check.sqlite'}"
        engine = make_engine(url)
        try:
            if args.action == "check":
                migrations.check(engine)
                print(f"alembic check: models match the revisions ({display_url(url)})")
            elif args.action == "upgrade":
                migrations.upgrade(engine, args.revision or "head")
                print(f"upgraded {display_url(url)} to {args.revision or 'head'}")
            elif args.action == "downgrade":
                migrations.downgrade(engine, args.revision)
                print(f"downgraded {display_url(url)} to {args.revision}")
            else:
                print(migrations.current(engine) or "(empty)")
        except ArchiveError as exc:
            print(f"archive.migrations: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # noqa: BLE001 - one line for CI logs, password hidden
            print(f"archive.migrations: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
            return 1
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
