"""Headless Chromium for the UI tests (test_ui_browser.py) and the UI bench (bench/ui).

Debian's ``chromium`` and ``chromium-driver`` driven by selenium (pinned in requirements.txt):
the system chromedriver is used, never Selenium Manager (which would download a driver).
Without them the browser tests skip, unless ``CAIRN_REQUIRE_BROWSER=1`` (``.ci/run`` sets it),
which makes their absence a failure.

The ``browser`` fixture opens one Chromium per test with a fixed window, collects the page's
console (``goog:loggingPrefs`` browser ALL) and fails the test if it logged an error, and
``Page.shot(name)`` saves a screenshot under ``Tests/compat/.output/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

WINDOW = (1366, 900)
SCREENSHOTS = Path(__file__).resolve().parent / ".output" / "screenshots"


def chromium_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver) from PATH or Debian's locations, or None if either is missing."""
    chrome = (os.environ.get("CAIRN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
              or shutil.which("google-chrome"))
    driver = os.environ.get("CAIRN_CHROMEDRIVER") or shutil.which("chromedriver")
    if not driver and os.path.exists("/usr/lib/chromium/chromedriver"):
        driver = "/usr/lib/chromium/chromedriver"
    return (chrome, driver) if chrome and driver else None


def start_chrome(window: tuple[int, int] = WINDOW, extra_args: tuple[str, ...] = ()):
    """A new headless Chromium session (fresh profile, empty cache) with browser console logging."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium and chromedriver not found (Debian: apt-get install chromium chromium-driver)")
    chrome, driver = paths
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", f"--window-size={window[0]},{window[1]}", "--no-sandbox",
                "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--metrics-recording-only", "--hide-scrollbars", "--force-color-profile=srgb",
                "--lang=en-US", *extra_args):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(executable_path=driver))


def require_browser() -> None:
    """Skip the calling test when Chromium is missing; fail instead when CAIRN_REQUIRE_BROWSER=1."""
    if chromium_paths() is not None:
        try:
            import selenium  # noqa: F401
            return
        except ImportError:
            message = "selenium is not installed (pip install -r Tests/compat/requirements.txt)"
    else:
        message = "chromium/chromedriver not found (apt-get install chromium chromium-driver)"
    if os.environ.get("CAIRN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message}, and CAIRN_REQUIRE_BROWSER=1")
    pytest.skip(message)


class Page:
    """One browser session bound to the server under test; collects console entries as it goes."""

    def __init__(self, driver, base_url: str, test_name: str):
        self.driver = driver
        self.base = base_url.rstrip("/")
        self.test = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.console: list[dict] = []
        self.shots: list[Path] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern` (e.g. Chromium's line for a page that answers 400 on purpose)."""
        self.allowed.append(re.compile(pattern))

    def open(self, path: str):
        self.driver.get(path if path.startswith("http") else f"{self.base}{path}")
        self.collect()
        return self.driver

    def collect(self) -> list[dict]:
        entries = self.driver.get_log("browser")
        for e in entries:
            e["url"] = self.driver.current_url
        self.console += entries
        return entries

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        # The whole page, not only the window: a long table or a form below the fold is checked too.
        height = self.driver.execute_script(
            "return Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)")
        self.driver.set_window_size(WINDOW[0], min(max(int(height or 0) + 120, WINDOW[1]), 6000))
        try:
            # Lazy images (the charts) load once the taller window shows them: wait for them.
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not self.driver.execute_script(
                    "return Array.prototype.every.call(document.images || [], function (i) { return i.complete; })"):
                time.sleep(0.1)
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(*WINDOW)
        self.shots.append(path)
        return path

    def errors(self) -> list[dict]:
        self.collect()
        return [e for e in self.console if e.get("level") == "SEVERE"
                and not any(p.search(e.get("message", "")) for p in self.allowed)]


@pytest.fixture
def browser(server_url, request):
    """A Page on the server under test; at teardown, any console error fails the test."""
    require_browser()
    driver = start_chrome()
    page = Page(driver, server_url, request.node.name)
    try:
        yield page
        errors = page.errors()
        assert not errors, "browser console errors:\n" + "\n".join(
            f"{e.get('url')}: {e.get('message')}" for e in errors)
    finally:
        driver.quit()
