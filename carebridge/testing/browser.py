"""What the browser tests do the same way on every page they visit."""

from playwright.sync_api import Page, expect

from carebridge.testing.world import PASSWORD


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Signs in through the sign-in page, as a person does, and waits until the signed-in page is there:
    a page.goto() before then would cancel the sign-in on its way."""
    page.goto("/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_attached()
