"""Every demo login, in a real browser at 1280 px and 375 px: every link offered in the menu and on the
home page leads to a working page (issue 9).

test_navigation_links.py walks the same links with Django's test client, for each of the test world's
roles, quickly. This module does it as a person would, with the demo's own logins and data, signing in
through the sign-in page, so that the `page` fixture also fails the walk on any console error or
uncaught exception and on any axe-core violation in any page reached (carebridge/conftest.py).

For each login and width: sign in, collect every same-site <a href> of the home page (header, main
content and footer), check that each menu link can be reached at this width, then open each link and
expect a 200 (after redirects) that is not the sign-in page and shows one level-one heading. Skipped:
"#..." fragments (the skip link points into the same page), other sites (none today) and signing out
(a POST form, not a link; excluded by address as well, so that a link to it would not end the walk).
"""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from carebridge.core.actor import Actor
from carebridge.demo.services import DEMO_PASSWORD, DEMO_USERNAMES, demo_seed
from carebridge.testing.browser import sign_in

# Taken from the demo itself, so that a login added to the demo is walked without anyone remembering to.
WALKED_LOGINS = DEMO_USERNAMES

WIDTHS = (1280, 375)

# Enough patients for every home page to show the kinds of link it shows with the full demo (patients,
# appointments, referrals, requests), and few enough to seed quickly: the time goes on the clinics'
# slots, which do not depend on the patient count (about 4.5 s at any size up to a few hundred).
DEMO_PATIENTS = 20

MENU_LINKS = "header nav.nhsuk-header__navigation a[href]"
PAGE_LINKS = "header a[href], main a[href], footer a[href]"


@pytest.fixture
def demo(transactional_db):
    """The demo data and logins, committed, so that the live server sees them."""
    demo_seed(actor=Actor.command_line(), patients=DEMO_PATIENTS)


def _same_site_links(page, selector: str, site: str) -> list[str]:
    """Each same-site link the selector finds in the page, as path and query, once, in page order."""
    links = page.locator(selector).evaluate_all(
        "anchors => anchors.map(anchor => ({written: anchor.getAttribute('href'), resolved: anchor.href}))"
    )
    sign_out = reverse("accounts:logout")
    found: list[str] = []
    for link in links:
        if link["written"].startswith("#"):
            continue
        url = urlsplit(link["resolved"])
        if f"{url.scheme}://{url.netloc}" != site or url.path == sign_out:
            continue
        path = url.path + (f"?{url.query}" if url.query else "")
        if path not in found:
            found.append(path)
    return found


def _shown_in_viewport(page, path: str) -> bool:
    """Whether the menu's link to the path can be seen without scrolling sideways."""
    link = page.locator(MENU_LINKS).and_(page.locator(f'[href="{path}"]')).first
    if not link.is_visible():
        return False
    box = link.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def _unreachable_menu_links(page, menu_links: list[str]) -> list[str]:
    """The menu links a person cannot get to at this width: not on show, nor after one press of "More".

    The NHS.UK header (nhsuk-frontend's header.mjs) moves the items that do not fit on one line into a
    list under its menu button, shown while the button is pressed; with nothing to move, the button is
    hidden.
    """
    # The header's script has run (carebridge.js marks the body as it starts the components).
    expect(page.locator("body.js-enabled")).to_be_attached()
    hidden = [path for path in menu_links if not _shown_in_viewport(page, path)]
    if not hidden:
        return []
    toggle = page.locator("header .nhsuk-header__menu-toggle")
    if not toggle.is_visible():
        return hidden
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    return [path for path in hidden if not _shown_in_viewport(page, path)]


def _problem_with(page, path: str) -> str | None:
    """What is wrong with the page the link leads to, or None if it works."""
    response = page.goto(path)
    landed = urlsplit(page.url)
    where = landed.path + (f"?{landed.query}" if landed.query else "")
    if response is None:
        return f"{path}: no response"
    if response.status != 200:
        return f"{path} -> {where}: {response.status}"
    if landed.path == reverse("accounts:login"):
        return f"{path} -> {where}: sent to sign in"
    headings = page.get_by_role("heading", level=1).count()
    if headings != 1:
        return f"{path} -> {where}: {headings} level-one headings"
    return None


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", WALKED_LOGINS)
def test_every_link_on_the_menu_and_home_page_works(demo, page, live_server, username, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, username, DEMO_PASSWORD)
    home = urlsplit(page.url).path
    site = live_server.url

    menu_links = _same_site_links(page, MENU_LINKS, site)
    # Home is in every menu; a menu without it would mean the links were not found at all.
    assert reverse("accounts:home") in menu_links, f"{username}'s menu: {menu_links}"
    unreachable = _unreachable_menu_links(page, menu_links)
    assert unreachable == [], f"at {width} px, {username} cannot get to these menu links: {unreachable}"

    links = _same_site_links(page, PAGE_LINKS, site)
    broken = [problem for path in links if (problem := _problem_with(page, path)) is not None]
    assert broken == [], f"{username}'s home page ({home}) offers links that do not work: {broken}"


@pytest.mark.browser
def test_the_walk_reports_a_missing_page_and_a_sign_in_wall(demo, page, live_server, console_errors):
    # The walk must be able to fail: a page that is not there, and a page that needs signing in.
    assert _problem_with(page, reverse("accounts:home")) == "/ -> /accounts/sign-in/?next=/: sent to sign in"
    sign_in(page, "reception", DEMO_PASSWORD)
    # Chromium also reports the 404 in the console (which alone would fail a walk); here it is expected.
    with page.expect_console_message(lambda message: message.type == "error") as reported:
        assert _problem_with(page, "/no-such-page/") == "/no-such-page/ -> /no-such-page/: 404"
    assert "404" in reported.value.text
    console_errors.clear()
    # Of these links, only the one to a page of the site is followed, without its fragment.
    page.locator("main").evaluate(
        """main => main.insertAdjacentHTML('beforeend', '<p id="sample"><a href="#top">Top</a>'
            + ' <a href="https://example.org/">Away</a> <a href="/x/?y=1#z">X</a>'
            + ' <a href="/accounts/sign-out/">Sign out</a></p>')"""
    )
    assert _same_site_links(page, "#sample a[href]", live_server.url) == ["/x/?y=1"]


@pytest.mark.django_db
def test_every_demo_login_is_walked():
    # The logins are the ones `make run` prints (seed-demo's table): each of them, and no other, is walked.
    output = StringIO()
    call_command("seed_demo", patients=DEMO_PATIENTS, stdout=output)
    table = output.getvalue().split("Demo logins", 1)[1].splitlines()
    dashes = next(number for number, line in enumerate(table) if line.strip().startswith("---"))
    printed = [line.split()[0] for line in table[dashes + 1 :] if line.strip()]
    assert printed and set(printed) == set(WALKED_LOGINS)
