"""``backfire view`` in a real browser: headless Chromium opens the runs list and filters it to Japanese, opens
an English run and finds its highlighted hits (and that a reply's ``<script>`` did not run), opens an Arabic run
and checks it reads right to left, and opens the static export from file://. Screenshots go to
BACKFIRE_SCREENSHOT_DIR (else the test's temp folder).

``make test`` installs Chromium, its driver and selenium and runs this (marker ``viewer_browser``). Under CI
(``CI=true``) a browser that cannot start fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.viewer_browser, pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("viewer")]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
SCREENSHOT_DIR_ENV = "BACKFIRE_SCREENSHOT_DIR"


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where the browser must be there."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI=true but the viewer's browser test cannot run: {reason}. `make test` installs it "
                    "(make install-browser)")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install 'alignment-backfire[browser]')")
    if CHROMIUM is None or not Path(CHROMEDRIVER).exists():
        _unavailable("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--allow-file-access-from-files"):
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as exc:  # the browser is installed but does not start
        _unavailable(f"Chromium did not start ({exc})")
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def viewer_server(viewer_warehouse, tmp_path: Path) -> Iterator[str]:
    """``backfire view`` as a user starts it, on a free port."""
    port = _free_port()
    log = (tmp_path / "view.log").open("w", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "view", "--db", str(viewer_warehouse.path),
                                "--port", str(port)], cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/static/viewer.css", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"backfire view did not start: {(tmp_path / 'view.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _visible_rows(driver: Any, table_id: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return [row for row in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr") if row.is_displayed()]


def test_a_researcher_reads_runs_in_three_scripts_and_the_static_export(viewer_warehouse, viewer_server, browser,
                                                                      tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from viewer.export import export_bundle
    from warehouse.connection import connect

    shots = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    runs = viewer_warehouse.runs

    # The list, filtered to Japanese with the form.
    browser.get(viewer_server + "/")
    assert len(_visible_rows(browser, "runs")) == 12
    Select(browser.find_element(By.NAME, "language")).select_by_value("ja")
    old_table = browser.find_element(By.ID, "runs")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    WebDriverWait(browser, 30).until(staleness_of(old_table))  # the filtered page replaced the list
    rows = _visible_rows(browser, "runs")
    assert len(rows) == 4 and {row.get_attribute("data-language") for row in rows} == {"ja"}
    browser.save_screenshot(str(shots / "1_runs_list_ja.png"))

    # An English run: hits are highlighted, the reply holding a <script> tag shows as text and never ran.
    browser.get(f"{viewer_server}/run/{runs['en']}")
    marks = browser.find_elements(By.CSS_SELECTOR, "mark.hit.pathology, mark.hit.protective")
    assert len(marks) > 10
    assert {mark.get_attribute("data-cat") for mark in marks} & {"pathology.exclusion",
                                                                  "pathology.coercion_compliance"}
    assert browser.title.endswith("backfire view") and "pwned" not in browser.title
    assert browser.find_elements(By.XPATH, "//div[@class='text'][contains(., '<script>document.title')]")
    assert browser.find_element(By.CSS_SELECTOR, ".utt .status-parse_error").text.startswith("parse_error · 2 re-asks")
    browser.save_screenshot(str(shots / "2_run_en.png"))
    browser.execute_script("document.getElementById('t2').scrollIntoView()")
    browser.save_screenshot(str(shots / "3_run_en_failed_replies.png"))

    # An Arabic run reads right to left: the agent column is on the right of its talk.
    browser.get(f"{viewer_server}/run/{runs['ar']}")
    grid = browser.find_element(By.CSS_SELECTOR, "#t1 .grid")
    assert grid.value_of_css_property("direction") == "rtl"
    who = grid.find_element(By.CSS_SELECTOR, ".who")
    talk = grid.find_element(By.CSS_SELECTOR, ".utt")
    assert who.location["x"] > talk.location["x"]
    text = talk.find_element(By.CSS_SELECTOR, ".text")
    assert text.get_attribute("lang") == "ar" and text.value_of_css_property("direction") == "rtl"
    browser.execute_script("arguments[0].scrollIntoView()", grid)
    browser.save_screenshot(str(shots / "4_run_ar_rtl.png"))

    browser.get(f"{viewer_server}/run/{runs['ja']}")
    browser.execute_script("document.getElementById('t1').scrollIntoView()")
    browser.save_screenshot(str(shots / "5_run_ja.png"))
    browser.get(f"{viewer_server}/dissociation?language=en")
    assert _visible_rows(browser, "dissociation") or browser.find_elements(By.CSS_SELECTOR, "#dissociation tr")
    browser.save_screenshot(str(shots / "6_dissociation_en.png"))

    # The static export, from disk: the list filters in the page's script; run pages open without a server.
    bundle = tmp_path / "bundle"
    with connect(viewer_warehouse.path, read_only=True) as con:
        export_bundle(con, bundle, languages=["en", "ja", "ar"], max_runs=6)
    browser.get((bundle / "index.html").as_uri() + "?language=ar")
    rows = _visible_rows(browser, "runs")
    assert len(rows) == 2 and {row.get_attribute("data-language") for row in rows} == {"ar"}
    rows[0].find_element(By.CSS_SELECTOR, "a").click()
    WebDriverWait(browser, 30).until(lambda driver: "/run/" in driver.current_url)
    assert browser.current_url.startswith("file://")
    assert browser.find_elements(By.CSS_SELECTOR, "mark.hit")
    assert browser.find_element(By.CSS_SELECTOR, "#t1 .grid").value_of_css_property("direction") == "rtl"
    browser.save_screenshot(str(shots / "7_static_export_ar.png"))
    print(f"screenshots in {shots}")
