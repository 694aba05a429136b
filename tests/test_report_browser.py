"""The HTML report in a real browser: Debian's headless Chromium, driven by Selenium."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest

from harness.report.render import render_html
from harness.verdict.catalogue import catalogue
from harness.verdict.model import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (`python3 dev.py all` installs them as root)",
)


def synthetic_runs() -> list[dict]:
    """Three runs over the real catalogue; the third differs from the first on a known set of rows."""
    reqs = [{"id": r.id, "area": r.area, "level": r.level, "statement": r.statement, "source": r.source.title,
             "url": r.source.url} for r in catalogue().values()]
    covered = [r["id"] for r in reqs][:-5]  # the last five stay not covered
    results = [{"nodeid": f"suites/t.py::test_{rid}", "name": f"test_{rid}", "requirement": rid, "area": "A",
                "level": "must", "outcome": "pass", "duration": 0.01, "reason": "", "evidence": {"failure": "x"},
                "observed": {}} for rid in covered]
    base = {"schema": SCHEMA, "requirements": reqs, "results": results,
            "info": {"label": "LiteLLM 1.0", "litellm_version": "1.0", "python_version": "3.11",
                     "suite_revision": "r", "config_hash": "h", "started_at": "2026-11-25T00:00:00+00:00",
                     "catalogue_revision": "c", "claude_code_profiles": [], "deviations_file": ""}}
    middle, last = copy.deepcopy(base), copy.deepcopy(base)
    middle["info"]["label"], last["info"]["label"] = "LiteLLM 2.0", "LiteLLM 3.0"
    for result in last["results"][:7]:
        result["outcome"] = "fail"
    return [base, middle, last]


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    os.environ.setdefault("SE_AVOID_STATS", "true")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def visible_rows(driver) -> int:
    from selenium.webdriver.common.by import By

    return sum(1 for row in driver.find_elements(By.CSS_SELECTOR, "tr.req") if row.is_displayed())


def test_matrix_renders_and_the_difference_filter_works(browser, tmp_path):
    from selenium.webdriver.common.by import By

    page = tmp_path / "matrix.html"
    page.write_text(render_html(synthetic_runs()))
    browser.get(page.as_uri())
    n = len(catalogue())
    assert len(browser.find_elements(By.CSS_SELECTOR, "th.run")) == 3
    assert visible_rows(browser) == n
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.req td.cell")) == 3 * n
    assert "NOT SAFE (7 regressed" in browser.find_element(By.ID, "verdict").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#uncovered li")) == 5

    browser.find_element(By.ID, "only-diff").click()
    assert visible_rows(browser) == 7
    cell = browser.find_element(By.CSS_SELECTOR, "tr.req td.cell.fail details summary")
    cell.click()
    assert cell.find_element(By.XPATH, "..").get_attribute("open") is not None

    shots = ROOT / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    browser.find_element(By.ID, "only-diff").click()
    assert browser.save_screenshot(str(shots / "compat-matrix.png"))
