"""A search or list that shows a patient is on that patient's "who has looked at my record", whatever the channel."""

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from carebridge.api.tests.conftest import api_client_for, token_for  # noqa: F401  (fixtures, used by name)
from carebridge.core import clock

MY_RECORD = reverse("records:my_record")
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _search_for_alice(channel, world, client_for, api_client_for):
    number = world.alice.nhs_number
    if channel == "web":
        response = client_for(world.reception).get(reverse("records:search"), {"nhs_number": number})
    elif channel == "api":
        response = api_client_for(world.reception).get("/api/patients", {"nhs_number": number})
    else:
        response = api_client_for(world.reception).get("/fhir/Patient", {"identifier": f"{NHS}|{number}"})
    assert response.status_code == 200
    assert str(world.alice.public_id) in response.content.decode()


def _log(client_for, user) -> str:
    response = client_for(user).get(MY_RECORD)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("channel", ["web", "api", "fhir"])
def test_a_search_by_reception_is_in_the_found_patients_log_only(world, client_for, api_client_for, channel):
    _search_for_alice(channel, world, client_for, api_client_for)
    when = dateformat.format(timezone.localtime(clock.now()), "j M Y H:i")
    assert f"Rita Shah (Reception and appointments) found your record in a search, {when}" in _log(
        client_for, world.alice_user
    )
    assert "found your record in a search" not in _log(client_for, world.bob_user)


def test_a_search_that_found_nobody_is_in_no_patients_log(world, client_for):
    client_for(world.reception).get(reverse("records:search"), {"nhs_number": world.bob.nhs_number})  # not theirs
    assert "in a search" not in _log(client_for, world.alice_user)
    assert "in a search" not in _log(client_for, world.bob_user)


def test_a_day_list_that_shows_the_patient_is_in_their_log(world, client_for):
    # Alice's hospital appointment, on the day list of the hospital's front desk.
    day = timezone.localtime(world.alice_referral.appointment.starts_at).date()
    response = client_for(world.hospital_reception).get(reverse("scheduling:day"), {"date": day.isoformat()})
    assert response.status_code == 200 and "ARCHER, Alice" in response.content.decode()
    assert "Hal Reed (Reception and appointments) saw your appointment on the reception day list" in _log(
        client_for, world.alice_user
    )
    assert "day list" not in _log(client_for, world.bob_user)
