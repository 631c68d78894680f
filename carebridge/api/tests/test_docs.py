"""The OpenAPI description and the docs page: served from here (no CDN), working under our CSP."""

import re

import pytest

from carebridge.api.api import api


def test_the_openapi_description_lists_the_booking_endpoint(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    description = response.json()
    assert description["openapi"].startswith("3.")
    assert description["info"] == {"title": "Carebridge API", "version": "1", "description": api.description}
    booking = description["paths"]["/api/appointments"]["post"]
    assert booking["operationId"] == "book"
    assert set(booking["responses"]) == {"201", "400", "401", "403", "404", "409", "422"}
    assert booking["security"] == [{"BearerToken": []}]
    assert description["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    schema = description["components"]["schemas"]["BookingIn"]
    assert set(schema["required"]) == {"patient", "slot"}
    for path in (
        "/api/slots",
        "/api/patients",
        "/api/patients/{patient_id}",
        "/api/appointments/{appointment_id}/move",
        "/api/appointments/{appointment_id}/cancel",
        "/api/appointments/{appointment_id}/check-in",
        "/api/appointments/{appointment_id}/no-show",
        "/api/appointments/{appointment_id}/complete",
    ):
        assert path in description["paths"]


def test_the_docs_page_uses_only_local_assets_and_no_inline_script(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/static/") for source in sources)
    # The only inline <script> holds JSON settings, which the browser does not run.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline == [' type="application/json" id="swagger-settings"']
    assert "script-src 'self'" in response["Content-Security-Policy"]


# What axe finds in the Swagger UI's own markup and colours, which our page (api/templates/api/docs.html) only
# hosts and cannot change: its operation headings jump from its title (h1) to h3, each operation's summary is a
# button holding a link, and its method badges and buttons are white on light colours. Accepted on
# /api/docs alone; every other rule still applies there, and everywhere else every rule does.
SWAGGER_UI_AXE_RULES = frozenset({"heading-order", "nested-interactive", "color-contrast"})


@pytest.mark.browser
def test_the_docs_page_works_in_a_browser(page, live_server, axe_watcher):
    axe_watcher.accept(f"{live_server.url}/api/docs", SWAGGER_UI_AXE_RULES)
    page.goto("/api/docs")
    page.get_by_text("Carebridge API").first.wait_for()
    page.locator("#operations-appointments-book").wait_for()
    assert page.locator("#operations-appointments-book").inner_text().startswith("POST")
    # The console_errors fixture fails the test on any CSP refusal or script error.
