"""A signed-in session ends after a while without activity: 30 minutes for staff and clinicians, two
hours for patients, both configurable; activity keeps it going; the ending is audited."""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.testing.days import BASE_MOMENT

HOME = "/"


def _signed_in(response) -> bool:
    return response.wsgi_request.user.is_authenticated


def _at(minutes: float) -> None:
    clock.freeze(BASE_MOMENT + dt.timedelta(minutes=minutes))


@pytest.mark.parametrize("who", ["gp", "reception", "admin", "privacy"])
def test_staff_are_signed_out_after_30_idle_minutes(world, client_for, who):
    user = getattr(world, who)
    client = client_for(user)
    assert _signed_in(client.get(HOME))

    _at(29)
    assert _signed_in(client.get(HOME))  # activity: the 30 minutes start again
    _at(29 + 29)
    assert _signed_in(client.get(HOME))
    _at(29 + 29 + 31)
    response = client.get(HOME)

    assert not _signed_in(response)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    event = AuditEvent.objects.filter(action=AuditAction.SIGN_OUT).get()
    assert event.actor_id == user.pk and event.detail == {"reason": "idle", "idle_minutes": 30}
    # Signed out for good: the next request is no one's either.
    assert not _signed_in(client.get(HOME))


def test_the_sign_in_page_says_why(world, client_for):
    client = client_for(world.nurse)
    client.get(HOME)
    _at(31)
    page = client.get(HOME, follow=True).content.decode()
    assert "signed out after 30 minutes without activity" in page


def test_patients_may_stay_idle_for_two_hours(world, client_for):
    client = client_for(world.alice_user)
    assert _signed_in(client.get(HOME))
    _at(119)
    assert _signed_in(client.get(HOME))
    _at(119 + 121)
    assert not _signed_in(client.get(HOME))


def test_the_idle_times_are_settings(world, client_for, settings):
    settings.SESSION_IDLE_MINUTES = 5
    settings.PATIENT_SESSION_IDLE_MINUTES = 10
    staff, patient = client_for(world.reception), client_for(world.alice_user)
    staff.get(HOME)
    patient.get(HOME)
    _at(6)
    assert not _signed_in(staff.get(HOME))
    assert _signed_in(patient.get(HOME))
    _at(6 + 11)
    assert not _signed_in(patient.get(HOME))
