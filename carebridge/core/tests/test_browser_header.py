"""In a real browser: the header's menu links keep working while the header lays itself out.

NHS.UK's header lays out its menu as a page starts and on every resize. It used to put each menu item
back into the list to measure it, even one already in place, and a link taken out of the page loses a
click on it that is under way (carebridge/core/static/carebridge/carebridge.js keeps items in place).
"""

import pytest
from playwright.sync_api import expect

from carebridge.testing.world import PASSWORD

pytestmark = pytest.mark.browser

# Two animation frames: the header answers a resize in the frame after it (requestAnimationFrame), so
# after two it has laid itself out again.
HEADER_LAID_OUT_AGAIN = """() => new Promise((resolve) => {
  window.dispatchEvent(new Event('resize'));
  requestAnimationFrame(() => requestAnimationFrame(resolve));
})"""

# What the page saw of the press, for the failure message: whether a click came, and on what.
REPORT_CLICKS = """() => document.addEventListener('click', (event) => {
  const link = event.target.closest('a');
  console.info('click on ' + (link ? link.textContent.trim() : event.target.tagName));
}, true)"""


@pytest.mark.parametrize("width", [1280, 375])
def test_a_menu_link_pressed_while_the_header_lays_itself_out_is_followed(world, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/accounts/sign-in/")
    page.get_by_label("Username").fill("reception")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Reception and appointments at Oak Tree Surgery")
    menu = page.get_by_role("navigation", name="Menu")
    link = menu.get_by_role("link", name="Day list")  # second in the menu, so on screen at either width
    expect(link).to_be_visible()
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if message.text.startswith("click on") else None)
    page.evaluate(REPORT_CLICKS)

    # The press and the release with the header's layout between them, as when a page is still starting.
    box = link.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.evaluate(HEADER_LAID_OUT_AGAIN)
    page.mouse.up()

    # The page the link leads to, as the user sees it (not the load event, which also waits for fonts).
    try:
        expect(heading).to_have_text("Day list")
    except AssertionError as error:
        raise AssertionError(f"{error}\nWhat the page saw of the press: {seen or 'no click'}") from None
    expect(menu.get_by_role("link", name="Find a patient")).to_be_attached()  # the menu is whole
