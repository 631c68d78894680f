"""Every link a signed-in person is offered, in the menu and on their home page, leads somewhere.

Each role in the test world signs in, opens their home page (following its redirect: patients land
on their own record), and follows once every same-site <a href> found in the page's header
navigation and main content. Every one must answer 200, or redirect to a page of this site that
answers 200: a link the person may not use is a link that should not have been offered.

Skipped, and why:
- Sign out is a POST form (a button, not a link), so the parser never sees it.
- "#..." fragments (the skip link) point into the same page.
- Links to other sites (none today) are not ours to test.
- /admin/ links are followed like any other: the system administrator's home page offers one.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

# Every user the world names, by their attribute on World.
ROLES = [
    "alice_user",
    "bob_user",
    "gp",
    "nurse",
    "other_gp",
    "specialist",
    "hospital_nurse",
    "other_specialist",
    "reception",
    "other_reception",
    "hospital_reception",
    "manager",
    "porter",
    "admin",
    "privacy",
]

MAX_REDIRECTS = 5


class _Links(HTMLParser):
    """The href of every <a> in the page, in order."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _same_site_links(html: str, page_path: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    links = []
    for href in parser.hrefs:
        if href.startswith("#"):
            continue
        url = urlsplit(urljoin(page_path, href))
        if url.scheme not in ("", "http") or url.netloc not in ("", "testserver"):
            continue
        path = url.path + (f"?{url.query}" if url.query else "")
        if path not in links:
            links.append(path)
    return links


def _follow(client, path: str):
    """GET the path, following redirects within the site; the final response and the chain walked."""
    chain = [path]
    response = client.get(path)
    while response.status_code in (301, 302, 303, 307, 308) and len(chain) <= MAX_REDIRECTS:
        target = urlsplit(urljoin(chain[-1], response["Location"]))
        assert target.netloc in ("", "testserver"), f"{chain} redirects off the site to {response['Location']}"
        path = target.path + (f"?{target.query}" if target.query else "")
        chain.append(path)
        response = client.get(path)
    return response, chain


def _home(client):
    response, chain = _follow(client, "/")
    assert response.status_code == 200, chain
    return response, chain[-1]


@pytest.mark.parametrize("name", ROLES)
def test_every_link_on_the_menu_and_home_page_works(schedule, client_for, name):
    user = getattr(schedule, name)
    client = client_for(user)
    home, home_path = _home(client)
    links = _same_site_links(home.content.decode(), home_path)
    # The home link is on every page; a page with nothing else to follow would mean the parser broke.
    assert "/" in links
    broken = []
    for link in links:
        response, chain = _follow(client, link)
        if response.status_code != 200:
            broken.append(f"{' -> '.join(chain)}: {response.status_code}")
    assert broken == [], f"{name} is offered links that do not work: {broken}"


def test_every_user_in_the_world_is_walked(world):
    assert set(ROLES) == set(world.users_by_name())


def test_the_walker_finds_a_broken_link(schedule, client_for):
    # The test must be able to fail: a link to a page that is not there is reported.
    client = client_for(schedule.reception)
    response, chain = _follow(client, "/no-such-page/")
    assert response.status_code == 404
    assert _same_site_links('<a href="/x/">x</a><a href="https://example.org/">e</a><a href="#m">m</a>', "/") == ["/x/"]


@pytest.mark.parametrize("name", ROLES)
def test_register_a_patient_is_offered_exactly_to_those_who_may(world, client_for, name):
    # The menu asks the registration rule itself, so the offer and the page agree for every role.
    from carebridge.patients.services import may_register_patients

    user = getattr(world, name)
    client = client_for(user)
    home, home_path = _home(client)
    offered = reverse("patients:register") in _same_site_links(home.content.decode(), home_path)
    assert offered == may_register_patients(user)
    assert client.get(reverse("patients:register")).status_code == (200 if offered else 404)
    assert offered == (name in {"reception", "other_reception", "manager"})


def test_a_hospital_front_desk_is_told_how_to_find_a_referred_patient(world, client_for):
    client = client_for(world.hospital_reception)
    page = client.get("/").content.decode()
    assert "Register a patient" not in page
    assert "Patients are registered by their GP surgery, not here." in page
    assert "referred to Heartlands Hospital" in page
    # And the search it points to does find the patient referred there.
    found = client.get(reverse("records:search"), {"nhs_number": world.alice.nhs_number}).content.decode()
    assert "ARCHER, Alice" in found
    surgery_page = client_for(world.reception).get("/").content.decode()
    assert "Patients are registered by their GP surgery" not in surgery_page
