"""Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by Playwright.

A test module gets a browser with `browser = browser_fixture("the served page")`. Without
Chromium or Playwright the tests are skipped, except under CI=true, where they fail (CI installs
both, so a silent skip would hide a broken page).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def unavailable(what: str, why: str) -> NoReturn:
    """Skip (fail under CI) because the browser cannot run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {why}: {what} cannot be checked")
    pytest.skip(f"{why} (CI installs it)")


def chromium(what: str) -> str:
    """The Chromium executable, or skip."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    unavailable(what, "no chromium is installed (`apt-get install chromium`)")


def browser_fixture(what: str) -> Callable[[], Iterator[Browser]]:
    """A module-scoped pytest fixture launching headless Chromium once per module."""

    @pytest.fixture(scope="module")
    def browser() -> Iterator[Browser]:
        executable = chromium(what)
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            unavailable(what, "playwright is not installed (`pip install -e .[test]`)")
        with sync_playwright() as driver:
            launched = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield launched
            launched.close()

    return browser
