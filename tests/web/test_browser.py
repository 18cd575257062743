"""The reading room in a real headless Chromium (Debian's, through chromium-driver):
a person searches, opens a result, reads the timeline, compares two versions, follows
a permalink, and opens a hostile stored page that must neither run nor fetch anything."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.web.conftest import WebArchive
from web.testing import Server

pytestmark = pytest.mark.usefixtures("server")


def _requests(driver: Any) -> list[str]:
    """URLs the browser tried since the last call (Chrome's performance log), less those
    it blocked itself before sending (DevTools lists those too, as "blocked:csp")."""
    urls: dict[str, str] = {}
    blocked: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls.setdefault(params["requestId"], params["request"]["url"])
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
            blocked[params["requestId"]] = params["blockedReason"]
    _requests.blocked = sorted(set(blocked.values()))  # type: ignore[attr-defined]
    # data: URLs are the browser's own (a broken-image icon, media controls): no network.
    return [u for rid, u in urls.items() if rid not in blocked and not u.startswith("data:")]


def test_search_open_timeline_diff_permalink(
    browser: Any, server: Server, web_archive: WebArchive
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(server.url + "/")
    assert driver.find_element(By.TAG_NAME, "h1").text
    # Keyboard: Tab reaches the skip link, the home link, then the search field.
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("class") == "skip"
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("class") == "brand"
    driver.switch_to.active_element.send_keys(Keys.TAB)
    field = driver.switch_to.active_element
    assert field.get_attribute("id") == "quick-q"
    field.send_keys("osce", Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: "/search?q=osce" in d.current_url)
    results = driver.find_elements(By.CSS_SELECTOR, "ol.results li h3 a")
    assert results and driver.find_elements(By.CSS_SELECTOR, "ol.results mark")
    # Open the result for a document with several versions, found by its title.
    doc = web_archive.changed[0]
    driver.get(server.url + f"/api/doc/{doc}")
    title = json.loads(driver.find_element(By.TAG_NAME, "pre").text)["title"]
    driver.get(server.url + "/search")
    box = driver.find_element(By.ID, "q")
    box.send_keys('"' + " ".join(title.split()[:5]) + '"', Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: "q=" in d.current_url)
    link = [a for a in driver.find_elements(By.CSS_SELECTOR, "ol.results li h3 a")
            if a.get_attribute("href").endswith(doc)][0]  # fmt: skip
    link.click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith(f"/doc/{doc}"))
    timeline = driver.find_elements(By.CSS_SELECTOR, "#timeline > li")
    assert len(timeline) >= 2
    # Compare the two newest versions with the form, side by side.
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "diff-mode")).select_by_value("side")
    driver.find_element(By.CSS_SELECTOR, "form.diff-pick button").click()
    # The click starts the form's navigation; wait for it to land (a loaded machine is slow).
    WebDriverWait(driver, 30).until(lambda d: "/diff?" in d.current_url)
    assert "mode=side" in driver.current_url
    summary = driver.find_element(By.ID, "diff-summary").text
    assert summary and summary != "no change"
    assert driver.find_elements(By.CSS_SELECTOR, "ins, del")
    # Follow the permalink of version 1; its citation names the version and its hash.
    driver.get(server.url + f"/doc/{doc}/v/1")
    cite = driver.find_element(By.ID, "cite").text
    assert "version 1" in cite and "sha256:" in cite
    permalink = driver.find_element(By.CSS_SELECTOR, "#cite-h ~ p a").get_attribute("href")
    driver.get(permalink)
    assert driver.find_element(By.ID, "cite").text == cite


def test_pages_have_labels_and_ordered_headings(browser: Any, server: Server,
                                                web_archive: WebArchive) -> None:  # fmt: skip
    from selenium.webdriver.common.by import By

    doc = web_archive.changed[0]
    for path in ("/", "/search?q=osce", f"/doc/{doc}", f"/doc/{doc}/diff"):
        browser.get(server.url + path)
        for control in browser.find_elements(By.CSS_SELECTOR, "input, select"):
            cid = control.get_attribute("id")
            assert cid and browser.find_elements(By.CSS_SELECTOR, f"label[for='{cid}']"), (
                path,
                cid,
            )
        headings = browser.find_elements(By.CSS_SELECTOR, "h1, h2, h3, h4")
        levels = [int(h.tag_name[1]) for h in headings]
        assert levels[0] == 1 and levels.count(1) == 1, (path, levels)
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (path, levels)


def test_hostile_stored_page_neither_runs_nor_fetches(
    browser: Any, server: Server, web_archive: WebArchive
) -> None:
    from selenium.webdriver.common.by import By

    beacon = web_archive.beacon
    doc, capture = web_archive.hostile_doc, web_archive.hostile_capture
    raw = f"{server.url}/doc/{doc}/captures/{capture}/raw"
    beacon.hits.clear()
    _requests(browser)  # drop what came before
    for page in (raw, f"{server.url}/doc/{doc}/captures/{capture}"):  # alone, and framed
        browser.get(page)
        time.sleep(2.5)  # a meta refresh of 0 s, fetches and timers would be done by now
        assert browser.current_url == page, "the stored page navigated away"
        requested = _requests(browser)
        assert not [u for u in requested if beacon.url in u], requested
        if page == raw:
            assert requested == [raw], (requested, _requests.blocked)  # type: ignore[attr-defined]
            assert "csp" in _requests.blocked  # type: ignore[attr-defined]
            assert browser.title == "Hostile stored page"  # the script would rename it
            assert browser.find_element(By.ID, "marker").text == "inert text"
            assert browser.find_element(By.ID, "hostile").text.startswith("A stored page")
    assert beacon.hits == [], beacon.hits
    # The beacon does answer when asked directly, so silence above means something.
    browser.get(beacon.url + "/direct")
    assert "GET /direct" in beacon.hits  # (Chrome may ask it for /favicon.ico as well)
