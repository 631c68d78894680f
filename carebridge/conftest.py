"""Fixtures every Carebridge test may use.

Sections:
  1. Browser tests (Playwright driving Debian's chromium against pytest-django's live server)
"""

import os
import re
from pathlib import Path

import pytest

# ==================================================================================================
# 1. Browser tests
#
#   @pytest.mark.browser
#   def test_something(page):               # page: a fresh tab whose base URL is the live server
#       page.goto("/accounts/sign-in/")
#
# Every browser test runs against `live_server`, so it gets `transactional_db`: what the test writes
# is committed, and the server's thread sees it. A console error or an uncaught exception in the page
# (a script or style refused by the Content-Security-Policy, a missing asset, a JavaScript error) fails
# the test; a test that expects one asserts on `console_errors` and then clears the list.
# axe-core checks every state the tab reaches (carebridge/testing/axe.py): each page just before a
# navigation or an htmx or fetch request leaves it, and the last one when the test ends. Any violation,
# of any impact, fails the test; a test that expects one asserts on `axe_violations` and clears it.
# (The one page that may accept rules, a third-party UI we only host, does so with axe_watcher.accept().)
# Set CAREBRIDGE_SCREENSHOT_DIR to keep a full-page screenshot of every browser test's last page.
# ==================================================================================================

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # tests run as root in CI, where chromium's sandbox cannot start
    "--disable-gpu",
    "--no-first-run",
    # Chromium otherwise keeps calling Google (updates, sync, field trials, QUIC probes), which on a
    # closed CI network means a stream of failing connections and slower pages.
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(items):
    # A test that drives the browser is a browser test even if its author forgot the mark, so that
    # `-m "not browser"` leaves it out and the ordering below holds.
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
    # Browser tests run last in every process. The Playwright sync API leaves its event loop marked
    # as running in the test thread from the first browser test to the end of the session, and with
    # a running loop in the thread, asyncio.run() and asgiref's async_to_sync refuse to work: any
    # ordinary test after a browser test could fail for no reason of its own. (pytest-xdist hands
    # each worker its tests in this order, so the same holds under -n.)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    # The tests of a module that runs two Carebridges side by side share one pair, started once: they go
    # to one process together (bin/test runs pytest-xdist with --dist loadgroup; without xdist the mark
    # does nothing). Every other test is handed out on its own, which keeps the processes evenly busy.
    for item in items:
        if item.get_closest_marker("instances"):
            item.add_marker(pytest.mark.xdist_group(f"instances:{item.nodeid.split('::')[0]}"))


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, started once per test process through Playwright. Never Playwright's own."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is not installed (Debian packages chromium and chromium-driver; make test installs them)"
        if _under_ci():
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)

    from playwright.sync_api import sync_playwright

    # The test thread touches the database (creating users, checking rows) while Playwright's event
    # loop is marked as running in it, which Django would otherwise refuse as "async context".
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            # launch() gives every start a fresh, temporary user-data dir, removed at close.
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def console_errors():
    """What the page reported as wrong: console errors and uncaught exceptions, as text."""
    return []


@pytest.fixture(scope="session")
def axe_script():
    """axe-core's script, from the npm package pinned in frontend/ (never served to people)."""
    from carebridge.testing.axe import AXE_JS

    if not AXE_JS.is_file():
        reason = f"{AXE_JS} is missing (`make test` installs it: bin/vendor-assets runs npm ci in frontend/)"
        if _under_ci():
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    return AXE_JS


@pytest.fixture
def axe_watcher(axe_script):
    """The test's accessibility check, attached to `page`'s browser context (carebridge/testing/axe.py)."""
    from carebridge.testing.axe import AxeWatcher

    return AxeWatcher()


@pytest.fixture
def axe_violations(axe_watcher):
    """What axe found wrong in the states the test reached (carebridge.testing.axe.AxeViolation)."""
    return axe_watcher.violations


@pytest.fixture
def page(request, browser, live_server, console_errors, axe_watcher):
    """A new tab in a new browser context (no cookies from other tests), based at the live server."""
    # The live server is plain http://localhost:<port>, while the session and CSRF cookies are Secure
    # outside the demo: chromium accepts them because localhost and 127.0.0.1 count as secure origins.
    # A live server on another host name would sign no one in.
    from carebridge.testing.browser import act_only_once_started

    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/London")
    # A page that does not answer in 10 s is broken; Playwright's default 30 s only slows the report.
    context.set_default_timeout(10_000)
    axe_watcher.attach(context)
    tab = context.new_page()
    act_only_once_started(tab)

    def on_console(message):
        if message.type == "error":
            console_errors.append(f"console error: {message.text} ({message.location.get('url', '')})")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: console_errors.append(f"uncaught exception: {error}"))
    yield tab

    axe_watcher.check_open_tabs(context)
    screenshot_dir = os.environ.get("CAREBRIDGE_SCREENSHOT_DIR")
    if screenshot_dir and not tab.is_closed():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        tab.screenshot(path=str(Path(screenshot_dir) / f"{name}.png"), full_page=True)
    context.close()
    failures = []
    if console_errors:
        failures.append("the page reported errors:\n  " + "\n  ".join(console_errors))
    if axe_watcher.violations or axe_watcher.unchecked:
        from carebridge.testing.axe import format_axe_report

        report = format_axe_report(axe_watcher.violations, axe_watcher.unchecked)
        failures.append("axe-core found accessibility problems:\n" + report)
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
