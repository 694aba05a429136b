"""The HTML report in a real browser: Debian's headless Chromium, driven by Selenium."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest

from harness.report.render import render_html, render_sweep
from harness.verdict.catalogue import catalogue
from harness.verdict.model import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason=(
        "Debian's chromium and chromium-driver are not installed "
        "(`python3 dev.py all` installs them as root)"
    ),
)


def synthetic_runs() -> list[dict]:
    """Three runs over the real catalogue; the third differs from the first on a known set of
    rows."""
    reqs = [
        {
            "id": r.id,
            "area": r.area,
            "level": r.level,
            "statement": r.statement,
            "source": r.source.title,
            "url": r.source.url,
        }
        for r in catalogue().values()
    ]
    covered = [r["id"] for r in reqs][:-5]  # the last five stay not covered
    results = [
        {
            "nodeid": f"suites/t.py::test_{rid}",
            "name": f"test_{rid}",
            "requirement": rid,
            "area": "A",
            "level": "must",
            "outcome": "pass",
            "duration": 0.01,
            "reason": "",
            "evidence": {"failure": "x"},
            "observed": {},
        }
        for rid in covered
    ]
    base = {
        "schema": SCHEMA,
        "requirements": reqs,
        "results": results,
        "info": {
            "label": "LiteLLM 1.0",
            "litellm_version": "1.0",
            "python_version": "3.11",
            "suite_revision": "r",
            "config_hash": "h",
            "started_at": "2026-11-25T00:00:00+00:00",
            "catalogue_revision": "c",
            "claude_code_profiles": [],
            "deviations_file": "",
        },
    }
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
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
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


def test_sweep_page_shows_what_each_release_changed(browser, tmp_path):
    """A patch line's sweep: requirements x releases, each release against the one before; the rows
    that never moved are hidden until asked for, and a cell opens to the checks that moved."""
    from selenium.webdriver.common.by import By

    from harness.tools.user.sweep import page_data

    base, middle, last = synthetic_runs()
    data = page_data(
        {"1.108.7": base, "1.108.8": middle, "1.108.9": last},
        {"1.108.9": {"link": "https://github.com/BerriAI/litellm/releases/tag/v1.108.9"}},
    )
    data.update(line="1.108", claude_code=["2.1.332"], facts={}, wall_seconds=1.0)
    page = tmp_path / "sweep.html"
    page.write_text(render_sweep(data))
    browser.get(page.as_uri())
    assert [
        h.get_attribute("data-release")
        for h in browser.find_elements(By.CSS_SELECTOR, "th.release")
    ] == ["1.108.7", "1.108.8", "1.108.9"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#sweep tr[data-req]")
    assert sum(r.is_displayed() for r in rows) == 7, "only the requirements that moved"
    regressed = browser.find_elements(By.CSS_SELECTOR, 'td.regressed[data-release="1.108.9"]')
    assert len(regressed) == 7
    assert not browser.find_elements(By.CSS_SELECTOR, 'td.regressed[data-release="1.108.8"]')
    summary = regressed[0].find_element(By.TAG_NAME, "summary")
    summary.click()
    assert "regressed: test_" in regressed[0].text
    assert (
        browser.find_element(By.LINK_TEXT, "release notes")
        .get_attribute("href")
        .endswith("v1.108.9")
    )
    shots = ROOT / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / "sweep.png"))
    browser.find_element(By.ID, "show-all").click()
    assert sum(r.is_displayed() for r in rows) == len(rows) == len(catalogue())
