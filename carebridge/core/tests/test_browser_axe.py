"""The accessibility check every browser test gets (carebridge/testing/axe.py): axe-core runs on each state
a tab reaches, just before a navigation or an htmx request leaves it, and on the last one at the end.

The pages with faults are made up here (served by a route of the test's own, never by Django); the
requests that leave them go to the live server, where the watcher sees them.
"""

import re

import pytest
from playwright.sync_api import expect

from carebridge.testing.browser import act_while_starting

pytestmark = pytest.mark.browser

MADE_UP = "/axe-self-test/"
NO_ALT = '<img src="/static/carebridge/favicon.svg">'  # an image without a text alternative


def _html(body: str) -> str:
    # Everything axe asks of a whole page (a language, a title, one main landmark, a level-one heading),
    # so that the fault in `body` is the only one.
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Self-test</title></head>'
        f"<body><main><h1>Self-test</h1>{body}</main></body></html>"
    )


def _serve(page, live_server, pages: dict[str, tuple[str, str]]) -> None:
    """Answers MADE_UP addresses with the given (content type, body) instead of the live server."""

    def answer(route):
        content_type, body = pages[route.request.url.removeprefix(f"{live_server.url}{MADE_UP}")]
        route.fulfill(status=200, content_type=content_type, body=body)

    page.route(f"{live_server.url}{MADE_UP}**", answer)


def _rules_by_address(axe_violations, live_server) -> list[tuple[str, str]]:
    return [(violation.url.removeprefix(live_server.url), violation.rule) for violation in axe_violations]


def test_a_violation_on_screen_is_reported_with_where_it_is(page, live_server, axe_watcher, axe_violations):
    _serve(page, live_server, {"image": ("text/html", _html(NO_ALT))})
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{MADE_UP}image")

    axe_watcher.check_open_tabs(page.context)  # what the page fixture does when the test ends

    [violation] = axe_violations
    assert (violation.url, violation.viewport_width) == (f"{live_server.url}{MADE_UP}image", 375)
    assert (violation.rule, violation.impact, violation.targets) == ("image-alt", "critical", ("img",))
    axe_violations.clear()


@pytest.mark.parametrize(
    ("body", "leave", "rule"),
    [
        (f'{NO_ALT}<a href="/accounts/sign-in/">Sign in</a>', "link", "image-alt"),
        # A search box with no label, left by submitting its form.
        ('<form action="/accounts/sign-in/"><input name="q"><button>Search</button></form>', "button", "label"),
    ],
)
def test_a_state_left_at_once_is_checked_before_it_goes(page, live_server, axe_violations, body, leave, rule):
    _serve(page, live_server, {"faulty": ("text/html", _html(body))})
    page.goto(f"{MADE_UP}faulty")

    page.get_by_role(leave).first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Carebridge")
    assert _rules_by_address(axe_violations, live_server) == [(f"{MADE_UP}faulty", rule)]
    axe_violations.clear()  # the sign-in page itself, checked as the test ends, has none


def test_a_page_left_before_it_has_loaded_is_checked_and_let_go(page, live_server, axe_violations):
    # The page's script is held back until the navigation away has begun, as a slow server might, so the
    # page is left before it has loaded. It is checked as it stands, parsed and styled: under load a page
    # left mid-load sometimes never fired its load event while the navigation away was held, and a check
    # waiting for that event held the test until it timed out (a CI failure of stop 16).
    act_while_starting(page)
    held = []
    body = f'<script src="{MADE_UP}late.js" defer></script>{NO_ALT}<a href="/accounts/sign-in/">Sign in</a>'
    _serve(page, live_server, {"loading": ("text/html", _html(body))})
    page.route(f"{live_server.url}{MADE_UP}late.js", lambda route: held.append(route))

    def let_the_script_come(request):
        if request.is_navigation_request() and request.url.endswith("/accounts/sign-in/") and held:
            held.pop().fulfill(status=200, content_type="text/javascript", body="window.late = true;")

    page.on("request", let_the_script_come)
    page.goto(f"{MADE_UP}loading", wait_until="commit")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert page.evaluate("document.readyState") != "complete"

    page.get_by_role("link", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Carebridge")
    assert _rules_by_address(axe_violations, live_server) == [(f"{MADE_UP}loading", "image-alt")]
    axe_violations.clear()


def test_an_htmx_swap_is_checked_before_and_after(page, live_server, axe_watcher, axe_violations):
    # The button swaps the unlabelled image for the sign-in page's username box without its label.
    body = (
        f'<div id="result">{NO_ALT}</div>'
        '<button type="button" hx-get="/accounts/sign-in/" hx-select="#id_username" hx-target="#result">Swap</button>'
        '<script src="/static/vendor/htmx/htmx.min.js"></script>'
    )
    _serve(page, live_server, {"swap": ("text/html", _html(body))})
    page.goto(f"{MADE_UP}swap")

    page.get_by_role("button", name="Swap").click()
    expect(page.locator("#result input")).to_be_attached()
    # htmx marks the swapped-in part while it settles; the state the test checks is the settled one.
    expect(page.locator("#result")).not_to_have_class(re.compile("htmx-"))

    assert _rules_by_address(axe_violations, live_server) == [(f"{MADE_UP}swap", "image-alt")]
    axe_watcher.check_open_tabs(page.context)
    assert _rules_by_address(axe_violations, live_server)[1:] == [(f"{MADE_UP}swap", "label")]
    axe_violations.clear()


def test_a_clean_page_reports_nothing(page, axe_watcher, axe_violations):
    page.goto("/accounts/sign-in/")
    page.get_by_label("Username").fill("nobody")
    axe_watcher.check_open_tabs(page.context)
    assert axe_violations == []
    assert axe_watcher.unchecked == []


def test_a_document_that_is_not_html_is_not_checked(page, live_server, axe_watcher, axe_violations):
    # Chromium shows JSON in a page of its own, with no landmarks or headings, which is not ours to judge.
    _serve(page, live_server, {"data.json": ("application/json", '{"status": "ok"}')})
    page.goto(f"{MADE_UP}data.json")
    expect(page.locator("body")).to_contain_text('"status"')

    page.goto("/accounts/sign-in/")  # leaving it asks the page too

    axe_watcher.check_open_tabs(page.context)
    assert axe_violations == []
    assert axe_watcher.unchecked == []
