"""Shared by the browser tests of the web clients (issue 16): Debian's headless chromium driven by
Playwright for Python, a page factory that records CSP violations and page errors, a product maker.
Each test module gets its own local stack (the `stack` fixture of tests/e2e/conftest.py)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from stackproc import ROOT, request

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / ".artifacts" / "web"
PHONE = {"width": 390, "height": 844}

# every browser test module marks itself with this
WEB_MARKS = [
    pytest.mark.e2e, pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium missing: run `make test` to install it"),
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg missing: run `make test` to install it"),
    pytest.mark.skipif(not (ROOT / "web" / "dist" / "watch" / "index.html").is_file(),
                       reason="web/dist missing: run `make web`"),
]


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        # Debian's chromium, never a browser Playwright downloads
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield launched
        launched.close()


def new_page(browser, viewport=None):
    """A fresh browser context and page; `page.problems` collects CSP violations and page errors."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    return page


def make_product(url: str, operator: str, name: str, stock: int = 50) -> str:
    status, _, product = request("POST", f"{url}/v1/products", {"name": name, "list_price": 1990, "stock": stock},
                                 operator)
    assert status == 201, product
    return product["id"]
