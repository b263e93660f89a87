"""Headless Chromium for the browser tests: found wherever the system put it, never silently skipped in CI.

Debian's ``chromium`` + ``chromium-driver`` (what ``.ci/run`` installs) are looked up on PATH and in
their usual folders. Where they are missing the tests skip with the reason, except when
``MOCK_REMD_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_DRIVER_DIRS = ("/usr/bin", "/usr/lib/chromium", "/usr/lib/chromium-browser", "/snap/bin")


def find_chromium() -> tuple[Path | None, Path | None]:
    """(browser, chromedriver) paths, each None when not found."""
    browser = next((Path(p) for p in (shutil.which(b) for b in _BROWSERS) if p), None)
    driver = shutil.which("chromedriver") or next(
        (str(Path(d) / "chromedriver") for d in _DRIVER_DIRS if (Path(d) / "chromedriver").exists()), None)
    return browser, Path(driver) if driver else None


def require_chromium() -> tuple[Path, Path]:
    """The browser and its driver, or skip (fail when MOCK_REMD_REQUIRE_BROWSER=1) naming what is missing."""
    browser, driver = find_chromium()
    if browser is not None and driver is not None:
        return browser, driver
    missing = " and ".join(n for n, p in (("chromium", browser), ("chromedriver", driver)) if p is None)
    reason = f"{missing} not found (apt-get install chromium chromium-driver; .ci/run does it)"
    if os.environ.get("MOCK_REMD_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " — MOCK_REMD_REQUIRE_BROWSER=1 demands the browser tests run", pytrace=False)
    pytest.skip(reason)


def start_chromium(width: int = 1440, height: int = 900):
    """A headless Chromium WebDriver (the caller quits it); its profile folder is removed on quit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = require_chromium()
    profile = tempfile.mkdtemp(prefix="mock-remd-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(browser)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync", f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=opts)
    driver.set_page_load_timeout(30)
    quit_ = driver.quit

    def quit_and_clean() -> None:
        quit_()
        shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean  # type: ignore[method-assign]
    return driver
