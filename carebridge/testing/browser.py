"""What the browser tests do the same way on every page they visit."""

from playwright.sync_api import Error, Page, expect

from carebridge.testing.world import PASSWORD

# A page whose module script has not finished starting: carebridge.js marks the body as its last step.
STARTING_PAGE = "body:not(.js-enabled)"


def act_only_once_started(tab: Page) -> None:
    """Before each action and each check of a page, wait until the page's scripts have run.

    NHS.UK's components change a page as they start: the error summary takes the focus and scrolls to
    itself, a character count adds its lines under its box. A test that types or presses in those few
    milliseconds can lose the input, as a person would: under load, an NHS number typed just as the page
    came back with its error summary reached the box as its first two digits. Module scripts run before
    DOMContentLoaded, so that is what the handler waits for; a page whose script never arrives (or is not
    ours) passes as soon as it is parsed."""

    def wait_until_started() -> None:
        try:
            tab.wait_for_load_state("domcontentloaded")
        except Error:
            # The test ended (it failed, or timed out) and closed the tab while this waited: its own
            # result says why, and an error here would be reported against the next test instead.
            if not tab.is_closed():
                raise

    tab.add_locator_handler(
        tab.locator(STARTING_PAGE),
        wait_until_started,
        # The body keeps no class on a page without our script; it is not an overlay to wait out.
        no_wait_after=True,
    )


def act_while_starting(tab: Page) -> None:
    """Undoes act_only_once_started, for a test of a page as it stands before its scripts have run (one
    that holds a script back on purpose, which would otherwise hold the test too)."""
    tab.remove_locator_handler(tab.locator(STARTING_PAGE))


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Signs in through the sign-in page, as a person does, and waits until the signed-in page is there:
    a page.goto() before then would cancel the sign-in on its way."""
    page.goto("/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_attached()
