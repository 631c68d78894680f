"""Every page's footer links to the accessibility statement, the privacy notice and contact details, which
anyone can read, signed in or not; and the favicon is served."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

FOOTER = [
    ("core:accessibility", "Accessibility statement for Carebridge", "Reporting a problem with Carebridge"),
    ("core:privacy", "Privacy notice", "Who is responsible for your information"),
    ("core:contact", "Contact us", "If you are a patient"),
]


@pytest.mark.parametrize(("name", "heading", "section"), FOOTER)
def test_each_footer_page_is_open_to_anyone_and_says_what_it_promises(name, heading, section, client, db):
    response = client.get(reverse(name))

    page = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in page
    assert f"<h2>{section}</h2>" in page


def test_the_footer_links_to_all_three_from_a_signed_in_page_and_the_sign_in_page(world, client, client_for):
    for response in (client.get(reverse("accounts:login")), client_for(world.gp).get(reverse("accounts:home"))):
        page = response.content.decode()
        footer = page[page.index('<footer class="nhsuk-footer"') :]
        for name, _, _ in FOOTER:
            assert f'href="{reverse(name)}"' in footer


def test_the_favicon_is_linked_from_every_page_and_served(client, db):
    page = client.get(reverse("accounts:login")).content.decode()

    assert '<link rel="icon" href="/static/carebridge/favicon.svg" type="image/svg+xml">' in page
    assert '<link rel="icon" href="/static/carebridge/favicon.ico" sizes="48x48">' in page
    svg = client.get("/static/carebridge/favicon.svg")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(svg.streaming_content)
    with open(finders.find("carebridge/favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # the ICO header
    # Browsers ask for /favicon.ico whatever the page links.
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 301 and redirect["Location"] == "/static/carebridge/favicon.ico"
    assert client.get(redirect["Location"]).status_code == 200
