"""The Dagster UI in a real browser: ``dagster dev`` on 127.0.0.1, headless Chromium opens the asset graph,
launches a materialization of a small study (every language partition and everything downstream), waits
for the backfill to succeed and saves screenshots. Opt-in (``-m browser``); ``make test-browser`` installs
Chromium, its driver and selenium, then runs it.
"""

from __future__ import annotations

import contextlib
import json
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

import duckdb
import pytest
import yaml

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.integration]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
SCREENSHOT_DIR_ENV = "BACKFIRE_SCREENSHOT_DIR"
LANGUAGES = ["en", "ja"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A ``dagster dev`` of this repository with the production dagster.yaml, a two-language study, and a
    warehouse of its own."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    study = tmp_path / "ui.yaml"
    study.write_text(yaml.safe_dump({
        "name": "ui", "seed": 5,
        "design": {"languages": LANGUAGES, "aligned_shares": [0.0, 1.0], "replicates": 3, "n_turns": 4},
        "models": [{"name": "synthetic-test", "backend": "synthetic"}]}), encoding="utf-8")
    db = tmp_path / "warehouse.duckdb"
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "BACKFIRE_DB": str(db), "BACKFIRE_STUDY": str(study),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = (tmp_path / "dagster_dev.log").open("w", encoding="utf-8")
    process = subprocess.Popen([str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml",
                                "-h", "127.0.0.1", "-p", str(port)], cwd=REPO_ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dagster dev did not start: {(tmp_path / 'dagster_dev.log').read_text()[-3000:]}")
                time.sleep(1)
        yield port, db
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (make test-browser)")
    if CHROMIUM is None or not Path(CHROMEDRIVER).exists():
        pytest.skip("needs chromium and chromium-driver (make test-browser installs them)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1600,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def _button(driver: Any, label: str, timeout_s: float = 60) -> Any:
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for button in driver.find_elements(By.TAG_NAME, "button"):
            try:
                if button.text.strip().startswith(label) and button.is_enabled():
                    return button
            except Exception:  # a re-rendered element went stale: look again
                continue
        time.sleep(0.5)
    raise AssertionError(f"no enabled button '{label}' on {driver.current_url}")


def _dismiss_welcome(driver: Any) -> None:
    with contextlib.suppress(AssertionError):  # shown on a fresh instance only
        _button(driver, "Skip", timeout_s=8).click()


def _backfill_status(port: int) -> str | None:
    data = _graphql(port, "{ partitionBackfillsOrError(limit: 1) "
                          "{ ... on PartitionBackfills { results { status } } } }")
    results = data["partitionBackfillsOrError"]["results"]
    return results[0]["status"] if results else None


def test_a_researcher_materializes_the_study_from_the_asset_graph(dagster_dev, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    port, db = dagster_dev
    shots = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()

    browser.get(f"{base}/asset-groups")
    _dismiss_welcome(browser)
    materialize = _button(browser, "Materialize all")
    page = browser.find_element(By.TAG_NAME, "body").text
    for group in ("content", "design", "simulation", "scoring", "dbt_marts", "analysis"):
        assert group in page
    browser.save_screenshot(str(shots / "1_asset_graph.png"))

    materialize.click()
    _button(browser, "All").click()
    dialog = browser.find_element(By.CSS_SELECTOR, "[role=dialog]").text
    assert "16 partitions" in dialog, dialog  # every language; those the study does not run finish empty
    browser.save_screenshot(str(shots / "2_launch_dialog.png"))
    _button(browser, "Launch backfill").click()

    deadline = time.monotonic() + 900
    status = None
    while time.monotonic() < deadline:
        status = _backfill_status(port)
        if status and status not in ("REQUESTED", "CANCELING"):
            break
        time.sleep(3)
    launched_s = time.monotonic() - started
    browser.get(f"{base}/runs?tab=backfills")
    _button(browser, "View")
    browser.save_screenshot(str(shots / "3_backfill.png"))
    assert status == "COMPLETED_SUCCESS", f"backfill ended {status} after {launched_s:.0f} s"

    browser.get(f"{base}/assets/marts/backfire_by_language")
    _button(browser, "Materialize")
    table_row = browser.find_element(By.XPATH, "//*[contains(text(), 'backfire_table')]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", table_row)
    browser.save_screenshot(str(shots / "4_backfire_mart.png"))
    print(f"UI backfill of 16 language partitions ({len(LANGUAGES)} in the study) succeeded in {launched_s:.0f} s; "
          f"screenshots in {shots}")

    with duckdb.connect(str(db), read_only=True) as con:
        languages = sorted(r[0] for r in con.execute("select language from marts.backfire_by_language "
                                                     "where study = 'ui'").fetchall())
    assert languages == LANGUAGES
