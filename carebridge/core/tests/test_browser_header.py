"""In a real browser: the header stays where it is, and its menu links keep working, while the page's
script starts.

NHS.UK's header lays out its menu as a page starts and on every resize. It used to put each menu item
back into the list to measure it, even one already in place, and a link taken out of the page loses a
click on it that is under way (carebridge/core/static/carebridge/carebridge.js keeps items in place).
And until the body had the class NHS.UK's stylesheet goes by, a phone showed the menu wrapped onto
several lines, so the page jumped when the script started (carebridge/core/frontend.py).
"""

import pytest
from playwright.sync_api import expect

from carebridge.testing.browser import act_while_starting, sign_in

pytestmark = pytest.mark.browser


# Where the page's content starts, once the document is parsed and styled; and whether our module has
# run (it marks the body as its last step).
MAIN_TOP = """() => document.querySelector('main').getBoundingClientRect().top"""
PARSED_AND_STYLED = """() => document.querySelector('footer')
  && Array.from(document.querySelectorAll('link[rel="stylesheet"]')).every((link) => link.sheet)"""
MODULE_HAS_RUN = """() => document.body.classList.contains('js-enabled')"""


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("username", ["alice", "manager"])  # a patient's menu and a long staff menu
def test_the_page_does_not_move_when_its_script_starts(world, page, axe_watcher, width, username):
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, username)
    # The page with its module script held back: parsed and styled as the browser first shows it. Read
    # with evaluate() only; an action or expect() would otherwise wait for the script it holds.
    act_while_starting(page)
    held = []
    page.route("**/static/carebridge/carebridge.js", lambda route: held.append(route))
    page.goto("/", wait_until="commit")
    page.wait_for_function(PARSED_AND_STYLED)
    assert not page.evaluate(MODULE_HAS_RUN)
    top_as_shown = page.evaluate(MAIN_TOP)
    axe_watcher.check(page)  # what the page shows before its script starts is for people too

    for _ in range(50):  # Playwright hands the route over while the test waits on the browser
        if held:
            break
        page.evaluate("0")
    assert held, "the page never asked for carebridge.js"
    held[0].fallback()
    page.wait_for_function(MODULE_HAS_RUN)
    top_once_started = page.evaluate(MAIN_TOP)
    assert top_once_started == top_as_shown, (
        f"at {width} px the content moved from {top_as_shown} to {top_once_started} px down the page "
        "as the script started: a tap made as the page appeared lands on something else"
    )


def test_every_menu_link_can_be_reached_on_a_phone_if_the_script_never_arrives(world, page, console_errors):
    # The menu is on one line from the start (the body is marked as able to run the script), so until the
    # script moves what does not fit under "More", the rest scrolls within the header's band.
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "manager")
    page.route("**/static/carebridge/carebridge.js", lambda route: route.abort())
    page.goto("/")
    links = page.get_by_role("navigation", name="Menu").get_by_role("link")
    assert links.count() >= 6, "a long menu, so that some of it does not fit"
    last = links.last
    assert not _on_screen(last)
    # Swiped (here, a sideways scroll of the wheel over the menu): a person's scroll, which a menu that
    # merely hid what does not fit would not follow.
    links.first.hover()
    page.mouse.wheel(2000, 0)
    expect(last).to_be_visible()
    # The browser may scroll smoothly: wait for the link to come fully on screen (or time out, failing).
    page.wait_for_function(ON_SCREEN, arg=last.element_handle(), timeout=5000)
    assert _on_screen(last), last.bounding_box()
    assert page.evaluate("document.documentElement.scrollWidth") == 375  # the page itself does not scroll sideways
    assert len(console_errors) == 1 and "carebridge.js" in console_errors[0], console_errors
    console_errors.clear()


ON_SCREEN = """(link) => {
  const box = link.getBoundingClientRect();
  return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth;
}"""


def _on_screen(element) -> bool:
    box = element.bounding_box()
    width = element.page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


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
    sign_in(page, "reception")
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
