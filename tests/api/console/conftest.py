"""Browser fixtures: the embedded stack served over real HTTP, and headless Chromium (Playwright).

Chromium is the Debian package (``apt-get install chromium``), never a Playwright download. As
with MariaDB: missing in CI (``CI=true``) fails these tests; elsewhere they are skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from tests.conftest import IN_CI
from tests.conftest import TOKEN

CHROMIUM = os.environ.get("FLOWEXEC_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where the browser tests put their screenshots: a temporary folder, so that running the suite
#: leaves the checkout clean; ``FLOWEXEC_TEST_SCREENSHOTS=docs/screenshots`` refreshes the README's.
SCREENSHOTS = Path(
    os.environ.get("FLOWEXEC_TEST_SCREENSHOTS") or Path(tempfile.gettempdir()) / "flowexec-screenshots"
).resolve()


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Console:
    """The web app over HTTP, and the stack behind it."""

    url: str
    stack: Any


def _missing(message: str) -> None:
    hint = "install it with: apt-get install -y chromium; pip install -e '.[test]'"
    if IN_CI:
        pytest.fail(f"{message}; {hint}")
    pytest.skip(f"{message}; {hint}")


@pytest.fixture(scope="module")
def console(stack: Any) -> Iterator[Console]:
    """Serve the embedded stack's app on a loopback port, threaded, as gunicorn would."""
    server = make_server("127.0.0.1", 0, stack.app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield Console(f"http://127.0.0.1:{server.server_port}", stack)
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        _missing(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: Any, console: Console, user: str = "alice", token: str = TOKEN) -> None:
    page.goto(f"{console.url}/login")
    page.fill("#user", user)
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_selector("#viewer")


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
