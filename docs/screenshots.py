"""Screenshots of the reading room's main pages, for the README.

    python docs/screenshots.py [--db URL]

Without ``--db`` it builds the tests' archive (the replica through three epochs of
change) in a temporary folder. Serves it with ``osce-archive serve`` and has Debian's
headless Chromium (chromium-driver) save ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web.testing import Server, build_archive_direct  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'archive.sqlite'}"
        changed = build_archive_direct(db) if not args.db else []
        server = Server(db).start()
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1400",
                    "--hide-scrollbars"):  # fmt: skip
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            import httpx

            # A document whose text changed, so the diff pictures show words.
            doc = next(
                (d for d in changed
                 if "paragraph" in httpx.get(f"{server.url}/api/doc/{d}/diff").json()["summary"]),
                changed[0] if changed else "",
            )  # fmt: skip
            pages = {
                "home": "/",
                "search": "/search?q=%22human+rights%22+OR+election*",
                "document": f"/doc/{doc}",
                "diff-inline": f"/doc/{doc}/diff",
                "diff-side": f"/doc/{doc}/diff?mode=side",
            }
            OUT.mkdir(parents=True, exist_ok=True)
            for name, path in pages.items():
                driver.get(server.url + path)
                time.sleep(0.5)
                driver.save_screenshot(str(OUT / f"{name}.png"))
                print(f"docs/screenshots/{name}.png  {path}")
        finally:
            driver.quit()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
