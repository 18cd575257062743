"""``python -m replica``: serve the replica, or print its ground truth.

    python -m replica serve --items 2000 --seed 1 --epoch 0 --port 8800 [--faults SPEC]
    python -m replica serve --theme 7     # the same content in structure-randomised markup
    python -m replica truth --items 2000 --epoch 1 --base http://127.0.0.1:8800 [--theme 7]

``--faults`` takes ``all`` (every fault at 10%) or ``name=value,...`` with the fields of
:class:`replica.Faults`; each fault also has its own flag (``--error-rate 0.1``,
``--redirect-loop``, ...). ``serve`` prints ``serving URL`` once it listens.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields, replace
from datetime import date

from replica.faults import Faults
from replica.generator import DEFAULT_TODAY, Rates
from replica.site import Site


def _site_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--items", type=int, default=2000, help="items in epoch 0 (default 2000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epoch", type=int, default=0)
    p.add_argument(
        "--theme",
        type=int,
        default=0,
        help="structure-randomised theme (0: the default markup; see replica.themes)",
    )
    p.add_argument(
        "--today",
        type=date.fromisoformat,
        default=DEFAULT_TODAY,
        help=f"the day of epoch 0 (default {DEFAULT_TODAY})",
    )
    p.add_argument(
        "--languages",
        type=float,
        default=0.0,
        help="share of the items that also exist in Russian, French or German at "
        "/ru/, /fr/, /de/ addresses (default 0: English only; try 0.15)",
    )
    p.add_argument("--edit-rate", type=float, default=Rates.edit)
    p.add_argument(
        "--silent-edits", action="store_true", help="edits do not move the sitemap <lastmod>"
    )


def _fault_flag(name: str) -> tuple[str, str]:
    """Command-line flag and dest of a Faults field (``seed`` becomes ``--fault-seed``)."""
    dest = "fault_seed" if name == "seed" else f"fault_{name}"
    flag = "--fault-seed" if name == "seed" else "--" + name.replace("_", "-")
    return flag, dest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m replica", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the replica over HTTP")
    _site_options(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8800, help="0 picks a free port")
    serve.add_argument(
        "--log", default=None, metavar="FILE", help="append the request log to FILE as JSON lines"
    )
    serve.add_argument(
        "--control", action="store_true", help="accept POST /__replica__/epoch/<n> to move in time"
    )
    serve.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help="'all' or name=value,... (fields of replica.Faults)",
    )
    for f in fields(Faults):
        flag, dest = _fault_flag(f.name)
        if f.type == "bool":
            serve.add_argument(flag, dest=dest, action="store_true", default=None)
        else:
            serve.add_argument(
                flag, dest=dest, type=float if f.type == "float" else int, default=None
            )
    truth = sub.add_parser("truth", help="print the ground truth as JSON lines")
    _site_options(truth)
    truth.add_argument("--base", default="", help="prefix of every record's url")
    truth.add_argument(
        "--changes", action="store_true", help="print what changed in --epoch instead"
    )
    truth.add_argument(
        "--furniture",
        action="store_true",
        help="add to each record the furniture lines its page shows (gold records)",
    )
    return parser


def _site(args: argparse.Namespace) -> Site:
    rates = replace(Rates(), edit=args.edit_rate, silent_edits=args.silent_edits)
    if args.theme < 0:
        raise SystemExit("python -m replica: --theme must be 0 or more")
    if args.languages and args.theme:
        raise SystemExit("python -m replica: --languages needs the default markup (--theme 0)")
    if not 0.0 <= args.languages <= 1.0:
        raise SystemExit("python -m replica: --languages is a share between 0 and 1")
    return Site(
        args.items,
        seed=args.seed,
        epoch=args.epoch,
        today=args.today,
        rates=rates,
        theme=args.theme,
        languages=args.languages,
    )


def _faults(args: argparse.Namespace) -> Faults:
    spec = args.faults.strip()
    faults = Faults.all_on() if spec == "all" else Faults.parse(spec)
    overrides = {
        f.name: getattr(args, _fault_flag(f.name)[1])
        for f in fields(Faults)
        if getattr(args, _fault_flag(f.name)[1], None) is not None
    }
    return replace(faults, **overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    site = _site(args)
    if args.command == "truth":
        if args.changes:
            print(json.dumps(site.changes(args.epoch)))
        else:
            host = args.base.split("://", 1)[-1] or "127.0.0.1"
            for item in site.items_live():
                record = (
                    site.gold(item, args.base, host)
                    if args.furniture
                    else site.record(item, args.base)
                )
                print(json.dumps(record, ensure_ascii=False))
                for code in site.translations(item):
                    translated = site.translation_record(item, code, args.base)
                    print(json.dumps(translated, ensure_ascii=False))
        return 0
    from replica.server import ReplicaServer

    server = ReplicaServer(
        site, _faults(args), host=args.host, port=args.port, log_path=args.log, control=args.control
    )
    try:
        url = server.listen()
    except OSError as exc:  # the port is taken (or not ours to bind): one line, exit 1
        print(
            f"python -m replica: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    print(f"serving {url}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
