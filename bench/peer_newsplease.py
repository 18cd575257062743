"""The peer, side by side: news-please (from PyPI, its own virtual environment) crawling
the replica, its items per second and its date accuracy against the replica's truth.

    .venv/bin/python bench/peer_newsplease.py --items 500     # serves its own replica

``bench/run.py`` calls :func:`run_peer` on the replica it already serves. The virtual
environment lives in ``bench/out/newsplease-venv`` (gitignored) and is created on first
use with ``pip install news-please``; when that fails, the reason is the result.

news-please runs as its documented crawler (``SitemapCrawler``: robots.txt -> sitemap ->
every page, its heuristics decide what is an article, ``ArticleMasterExtractor`` with
its default extractors, JSON files written per article), one site, with the transport
settings our crawl gets on loopback (no throttle, 16 requests in flight). Its single
crawler process (``newsplease/single_crawler.py``) is started directly: the launcher
around it only polls every 10 s for the crawler's end, which would count as crawl time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
VENV = OUT / "newsplease-venv"
PACKAGE = "news-please"
INSTALL_TIMEOUT_S = 900
#: A loopback address for the peer's replica, so port 80 is free whatever else runs.
PEER_HOST = "127.0.0.80"

CONFIG = """\
[Crawler]
default = SitemapCrawler
fallbacks = {{"SitemapCrawler": None}}
check_crawler_has_urls_to_scan = False
check_certificate = False
hours_to_pass_for_redownload_by_rss_crawler = 6
number_of_parallel_crawlers = 1
number_of_parallel_daemons = 1
ignore_file_extensions = "(pdf)|(docx?)|(xlsx?)|(pptx?)|(jpe?g)|(png)|(gif)|(css)"
ignore_regex = "(mail[tT]o)|([jJ]avascript)|(tel)|(fax)"
sitemap_allow_subdomains = True
sitemap_patterns = []
[Heuristics]
enabled_heuristics = {{"og_type": True, "linked_headlines": "<=0.65", "self_linked_headlines": "<=0.56"}}
pass_heuristics_condition = "og_type and (linked_headlines or self_linked_headlines)"
min_headlines_for_linked_test = 5
[Files]
relative_to_start_processes_file = False
url_input_file_name = sitelist.hjson
working_path = {work}
local_data_directory = %working_path/data/%appendmd5_url_directory_string(60)_%appendmd5_max_url_file_name_%timestamp_download.html
format_relative_path = True
[ArticleMasterExtractor]
extractors = ['newspaper_extractor', 'readability_extractor', 'date_extractor', 'lang_detect_extractor']
[DateFilter]
start_date = None
end_date = None
strict_mode = False
[Scrapy]
LOG_LEVEL = {log_level}
LOG_FORMAT = [%(name)s:%(lineno)d|%(levelname)s] %(message)s
LOG_FILE = None
LOG_DATEFORMAT = %Y-%m-%d %H:%M:%S
LOG_STDOUT = False
LOG_ENCODING = utf-8
BOT_NAME = 'news-please'
SPIDER_MODULES = ['newsplease.crawler.spiders']
NEWSPIDER_MODULE = 'newsplease.crawler.spiders'
JOBDIRNAME = .resume_jobdir
ROBOTSTXT_OBEY=True
CONCURRENT_REQUESTS=16
CONCURRENT_REQUESTS_PER_DOMAIN=16
AUTOTHROTTLE_ENABLED=False
DOWNLOAD_DELAY=0
TELNETCONSOLE_ENABLED=False
USER_AGENT = 'news-please (+http://www.example.com/)'
ITEM_PIPELINES = {{'newsplease.pipeline.pipelines.ArticleMasterExtractor':100,
                  'newsplease.pipeline.pipelines.HtmlFileStorage':200,
                  'newsplease.pipeline.pipelines.JsonFileStorage':300
                  }}
ITEM_CLASS = 'newsplease.crawler.items.NewscrawlerItem'
"""  # noqa: E501


def ensure_venv(log: Path) -> tuple[Path | None, str]:
    """The venv's python with news-please importable, or (None, why not)."""
    python = VENV / "bin" / "python"
    probe = [
        str(python),
        "-c",
        "import newsplease, importlib.metadata as m; print(m.version('news-please'))",
    ]
    if python.exists():
        got = subprocess.run(probe, capture_output=True, text=True)
        if got.returncode == 0:
            return python, got.stdout.strip()
    OUT.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as fh:
        step = subprocess.run([sys.executable, "-m", "venv", str(VENV)], stdout=fh, stderr=fh)
        if step.returncode != 0:
            return None, f"python -m venv failed (exit {step.returncode}; see {log})"
        try:
            step = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", PACKAGE],
                stdout=fh,
                stderr=fh,
                timeout=INSTALL_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return None, f"pip install {PACKAGE} took over {INSTALL_TIMEOUT_S} s"
    if step.returncode != 0:
        tail = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if line.strip() and not line.startswith("WARNING: Location")
        ][-1:]
        return None, f"pip install {PACKAGE} failed: {' '.join(tail)[:200]}"
    got = subprocess.run(probe, capture_output=True, text=True)
    if got.returncode != 0:
        last = (got.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"{PACKAGE} installed but does not import: {last[:200]}"
    return python, got.stdout.strip()


def _articles(work: Path) -> list[dict[str, Any]]:
    out = []
    for path in (work / "data").rglob("*.json"):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def run_peer(
    base: str,
    truth: dict[str, dict[str, Any]],
    timeout: float = 1800.0,
    log_level: str = "WARNING",
) -> dict[str, Any]:
    """Crawl ``base`` with news-please; rate and date accuracy against ``truth``
    (ground-truth records keyed by id, ``url`` rooted at ``base``)."""
    log = OUT / "newsplease-install.log"
    python, version = ensure_venv(log)
    if python is None:
        return {"ok": False, "why": version}
    work = OUT / "newsplease-run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cfg = work / "config.cfg"
    cfg.write_text(CONFIG.format(work=work, log_level=log_level), encoding="utf-8")
    sites = work / "sitelist.hjson"
    sites.write_text(
        json.dumps({"base_urls": [{"url": base + "/", "crawler": "SitemapCrawler"}]}),
        encoding="utf-8",
    )
    script = next((VENV / "lib").glob("python*/site-packages/newsplease/single_crawler.py"))
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(python), str(script), str(cfg), str(sites), "0", "False", "False"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "why": f"news-please did not finish within {timeout:.0f} s"}
    seconds = time.perf_counter() - started
    (work / "stderr.log").write_text(proc.stderr, encoding="utf-8")
    articles = _articles(work)
    by_url = {t["url"]: t for t in truth.values()}
    hits = dated = 0
    for article in articles:
        expected = by_url.get((article.get("url") or "").rstrip("/"))
        if expected is None:
            continue
        hits += 1
        if (article.get("date_publish") or "")[:10] == expected["published"]:
            dated += 1
    if proc.returncode != 0 and not articles:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "why": f"news-please exited {proc.returncode}: {last[:200]}"}
    return {
        "ok": True,
        "version": version,
        "seconds": round(seconds, 2),
        "articles": len(articles),
        "truth_items": len(truth),
        "matched": hits,
        "items_per_s": round(len(articles) / seconds, 2),
        # Over every truth item: an item news-please did not archive has no right date.
        "date_accuracy": round(dated / max(1, len(truth)), 4),
        "date_accuracy_of_found": round(dated / max(1, hits), 4),
        "exit": proc.returncode,
    }


def serve_portless(items: int, seed: int = 1) -> Any:
    """The replica on ``http://127.0.0.80`` (port 80, a loopback address of its own).

    news-please turns the start URL into Scrapy's ``allowed_domains`` with the port
    kept (``127.0.0.1:8800``), which Scrapy ignores, so on any other port every request
    is filtered as off-site. Port 80 needs root; elsewhere the peer cannot run."""
    from replica.server import ReplicaProcess

    cmd = [
        sys.executable,
        "-m",
        "replica",
        "serve",
        "--items",
        str(items),
        "--seed",
        str(seed),
        "--host",
        PEER_HOST,
        "--port",
        "80",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving "):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"cannot serve the replica on {PEER_HOST}:80 (root needed)")
    return ReplicaProcess(proc, f"http://{PEER_HOST}", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from replica import Site

    with serve_portless(args.items) as server:
        truth = Site(args.items, seed=1).ground_truth(server.url)
        print(json.dumps(run_peer(server.url, truth)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
