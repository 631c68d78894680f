"""In a real browser: the NHS.UK assets are served, the Content-Security-Policy lets the page work,
and a person can sign in. The page fixture fails the test on any console error (a refused script or
style, a missing file) or uncaught exception."""

import re

import pytest
from playwright.sync_api import expect

from carebridge.accounts.models import AccountKind
from carebridge.accounts.services import user_create
from carebridge.core.actor import Actor

pytestmark = pytest.mark.browser

NHS_BLUE = "rgb(0, 94, 184)"  # #005eb8, the header's colour in the NHS.UK design system


def test_a_system_administrator_signs_in_to_an_nhs_styled_home_page(page, live_server):
    user_create(
        actor=Actor.command_line(),
        username="ada.admin",
        kind=AccountKind.SYSTEM_ADMIN,
        password="a long enough passphrase",
        first_name="Ada",
        last_name="Lovelace",
    )
    # The first answer for each URL: a fresh browser context has nothing cached, so a file that is
    # served answers 200 (later pages may get 304 when the browser revalidates it).
    first_status = {}
    page.on("response", lambda response: first_status.setdefault(response.url, response.status))

    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/accounts/sign-in/?next=/")
    page.get_by_label("Username").fill("ada.admin")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("System administration")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Ada Lovelace")

    assert first_status[f"{live_server.url}/static/vendor/nhsuk/nhsuk-frontend.min.css"] == 200
    assert first_status[f"{live_server.url}/static/vendor/nhsuk/nhsuk-frontend.min.js"] == 200
    # Served is not the same as applied: the header has the design system's blue; the inline script
    # that starts the body ran (the Content-Security-Policy allows it by its hash); our module ran,
    # which it does only once its import of the NHS.UK script has loaded (it then marks the body);
    # and htmx is there for the pages that use it.
    header_colour = page.locator("header.nhsuk-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_colour == NHS_BLUE
    expect(page.locator("body")).to_have_class(re.compile(r"\bnhsuk-frontend-supported\b"))
    expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b"))
    assert page.evaluate("typeof htmx") == "object"
