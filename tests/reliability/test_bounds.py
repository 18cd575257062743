"""Guarantee 6, staying in bounds: other hosts, robots.txt, redirect loops, secrets.

One crawl of a hostile copy of the site whose sitemap names another host's pages and
sitemap file, whose robots.txt forbids item addresses that the sitemap lists, whose
pages link to other hosts and to a redirect loop, and where one item address redirects
to the other host and another loops on itself. The other host is a second loopback
server (another address, another port) whose log must stay empty; the site's own log
must show no robots-forbidden request; the loop must stop after the redirect limit.

Then a PostgreSQL role with a password (pg here trusts 127.0.0.1, so the password is
never checked, but it is in the URL): crawl, status, verify, export and history with it,
and the same commands against a host that cannot be reached or a URL that cannot be
parsed, must never print it, log it or store it.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

from replica import Faults
from tests.fixtures.db import _pg_connect
from tests.reliability.conftest import (
    ENV,
    assert_records_equal_truth,
    query,
    run_command,
    wanted_truth,
)

REDIRECT_MAX_TIMES = 5  # crawler.settings


def test_other_hosts_robots_and_redirect_loops(
    hostile: Any, other_host: Any, crawl: Any, tmp_path: Path
) -> None:
    server = hostile(items=40, faults=Faults(offsite_links=True, redirect_loop=True))
    other = other_host.url
    live = server.site.items_live()
    forbidden = [
        "/pc/880101",
        "/pc/880102",  # by the Disallow line added below
        f"/print/{live[0].node}",
        "/search/12345",
        "/user/7",
        "/admin/1",  # the replica's own
    ]
    server.robots_extra.append("/pc/8801")
    server.overlay.update({"/pc/880002": "offsite", "/pc/880201": "loop", "/pc/880201-": "loop"})
    server.extra_sitemap.extend(
        [
            f"{other}/pc/880001",
            f"{other}/node/880003",
            "/pc/880002",
            "/pc/880201",
            *forbidden,
        ]
    )
    server.extra_sitemap_files.append(f"{other}/sitemap.xml?page=1")
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"

    result = crawl(server.url, db)

    assert result.returncode == 0, result.stderr[-2000:]
    assert other_host.log == [], f"the other host was asked: {other_host.log[:5]}"
    assert server.hits("/robots.txt"), "robots.txt was never read"
    asked = [h.path for h in server.log]
    broken = [p for p in asked if any(p.startswith(f) for f in (*forbidden, "/pc/8801"))]
    assert broken == [], f"robots.txt-forbidden addresses requested: {broken}"
    assert server.hits("/pc/880002"), "the off-site redirect was never met"
    loop = server.hits("/pc/880201")
    assert 1 < len(loop) <= REDIRECT_MAX_TIMES + 1, f"{len(loop)} requests in the loop"
    captures = {
        u.removeprefix(server.url): (s, o, e)
        for u, s, o, e in query(db, "select url, status, outcome, error from captures")
    }
    assert captures["/pc/880201"][1] == "failed" and "redirect" in captures["/pc/880201"][2]
    assert captures["/pc/880002"][1] == "failed" and "off-site" in captures["/pc/880002"][2]
    print(
        f"\n{len(asked)} requests to the site, 0 to the other host; loop stopped after "
        f"{len(loop)}; robots kept {len(forbidden) + 1} addresses out "
        f"({result.summary.get('requests')} requests)"
    )
    assert_records_equal_truth(db, wanted_truth(server.site, server.url))


# --------------------------------------------------------------------------- secrets


def cli_in_process(args: list[str]) -> tuple[int, str]:
    """``osce-archive ARGS`` through its entry point in this process: (exit, output)."""
    import contextlib
    import io

    from crawler.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(args)
    return code, out.getvalue()


def _role_with_password(dbname: str) -> tuple[str, str]:
    role = f"osce_secret_{secrets.token_hex(4)}"
    password = f"pw-{secrets.token_hex(12)}"
    with _pg_connect() as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        admin.execute(f'ALTER DATABASE "{dbname}" OWNER TO {role}')
    return role, password


def _drop_role(role: str, dbname: str) -> None:
    with _pg_connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_database_password_never_shown(serve: Any, crawl: Any, pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    dbname = str(make_url(pg_url).database)
    role, password = _role_with_password(dbname)
    try:
        url = f"postgresql://{role}:{password}@127.0.0.1/{dbname}"
        server = serve(items=30)
        log_file = tmp_path / "crawl.log"
        said: dict[str, str] = {}

        first = crawl(server.url, url, "-s", "LOG_LEVEL=DEBUG", "-s", f"LOG_FILE={log_file}")
        assert first.returncode == 0, first.stderr[-2000:]
        said["crawl --json (debug log)"] = first.stdout + first.stderr + log_file.read_text()
        text = run_command(
            [sys.executable, "-m", "crawler.cli", "crawl", "--site", server.url, "--db", url],
            tmp_path,
        )
        assert text.returncode == 0, text.stderr[-2000:]
        said["crawl"] = text.stdout + text.stderr
        some_id = query(pg_url, "select id from documents limit 1")[0][0]
        for args in (
            ["status"],
            ["status", "--json"],
            ["verify"],
            ["history", some_id],
            ["export", "--output", str(tmp_path / "out.jsonl")],
        ):
            code, output = cli_in_process([*args, "--db", url])
            assert code == 0, (args, output[-2000:])
            said[" ".join(args)] = output
        assert "***" in said["status"], "status does not show the (hidden) database URL"
        env_status = run_command(
            [sys.executable, "-m", "crawler.cli", "status"],
            tmp_path,
            env={**ENV, "OSCE_ARCHIVE_DB": url},
        )
        said["status via $OSCE_ARCHIVE_DB"] = env_status.stdout + env_status.stderr

        # Failures: unreachable host, closed port, unparsable URL, a bad database name.
        bad_urls = {
            "closed port": f"postgresql://{role}:{password}@127.0.0.1:1/{dbname}",
            "unknown host": f"postgresql://{role}:{password}@no-such-host.invalid/{dbname}",
            "bad port": f"postgresql://{role}:{password}@127.0.0.1:notaport/{dbname}",
            "no database": f"postgresql://{role}:{password}@127.0.0.1/no_such_db_{dbname}",
        }
        for what, bad in bad_urls.items():
            runs_as = (
                ["crawl", "status", "verify"]
                if what in ("closed port", "bad port")
                else ["status", "verify"]
            )
            for command in runs_as:
                args = [command, "--site", server.url] if command == "crawl" else [command]
                if command == "crawl":  # the crawl's logging set-up only shows in a process
                    done = run_command(
                        [sys.executable, "-m", "crawler.cli", *args, "--db", bad],
                        tmp_path,
                        timeout=60,
                    )
                    code, output, last = done.returncode, done.stdout + done.stderr, done.last_line
                else:
                    code, output = cli_in_process([*args, "--db", bad])
                    last = output.strip().splitlines()[-1]
                assert code == 1, (what, args, output[-1500:])
                assert "Traceback" not in output, (what, args)
                assert last.startswith("osce-archive: "), (what, args, last)
                said[f"{command} with {what}"] = output

        leaks = [where for where, output in said.items() if password in output]
        assert leaks == [], f"the password was printed by: {leaks}"
        stored = query(pg_url, "select cast(options as text) || cast(counters as text) from runs")
        assert not any(password in row[0] for row in stored), "the password was stored"
        print(
            f"\n{len(said)} outputs checked, password in none; e.g. "
            f"{said['status with closed port'].strip().splitlines()[-1]}"
        )
    finally:
        _drop_role(role, dbname)
