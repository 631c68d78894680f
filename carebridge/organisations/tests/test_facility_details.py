"""A facility's manager keeps its details on one page; every change is audited field by field, and the
directory shows the new values through REST and FHIR (Organization, Location, HealthcareService)."""

import datetime as dt

import pytest
from django.urls import reverse
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization

from carebridge.api.tests.conftest import api_client_for, token_for  # noqa: F401  (fixtures, used by name)
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core.actor import Actor
from carebridge.organisations.models import Facility
from carebridge.scheduling.models import Weekday
from carebridge.scheduling.services import opening_hours_set

NEW_DETAILS = {
    "name": "Oak Tree Medical Centre",
    "address": "2 New Street, Birmingham",
    "postcode": "b2 4qa",
    "phone_number": "0121 496 0123",
    "email": "oaktree@nhs.example",
    "referral_email": "oaktree.referrals@nhs.example",
    "specialities_offered": "General Practice\nMinor surgery\n\nminor surgery\nTravel clinic",
}


def _saved(world, client_for):
    return client_for(world.manager).post(reverse("organisations:facility"), NEW_DETAILS)


def test_the_manager_sees_their_facility_s_details_and_opening_hours(world, client_for):
    opening_hours_set(
        actor=Actor.command_line(world.manager),
        facility=world.surgery,
        hours={Weekday.MONDAY: [(dt.time(8), dt.time(18))], Weekday.SATURDAY: [(dt.time(9), dt.time(12))]},
    )
    page = client_for(world.manager).get(reverse("organisations:facility"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'value="Oak Tree Surgery"' in text and 'value="s1@nhs.example"' in text
    assert "Monday 08:00 to 18:00" in text and "Saturday 09:00 to 12:00" in text
    assert reverse("scheduling:opening_hours") in text


def test_the_manager_saves_the_details_and_each_change_is_audited(world, client_for):
    response = _saved(world, client_for)
    assert response.status_code == 302
    assert response["Location"] == reverse("organisations:facility")
    surgery = Facility.objects.get(pk=world.surgery.pk)
    assert (surgery.name, surgery.address, surgery.postcode, surgery.phone_number) == (
        "Oak Tree Medical Centre",
        "2 New Street, Birmingham",
        "B2 4QA",
        "0121 496 0123",
    )
    assert (surgery.email, surgery.referral_email) == ("oaktree@nhs.example", "oaktree.referrals@nhs.example")
    assert surgery.specialities_offered == ["General Practice", "Minor surgery", "Travel clinic"]
    event = AuditEvent.objects.get(actor=world.manager, action=AuditAction.UPDATE, object_type=AuditObject.FACILITY)
    assert event.object_id == str(surgery.public_id)
    assert event.detail["before"]["name"] == "Oak Tree Surgery"
    assert event.detail["after"]["name"] == "Oak Tree Medical Centre"
    assert event.detail["after"]["referral_email"] == "oaktree.referrals@nhs.example"
    assert set(event.detail["after"]) == {
        "name",
        "address",
        "postcode",
        "phone_number",
        "email",
        "referral_email",
        "specialities_offered",
    }


def test_saving_nothing_new_writes_no_audit_row(world, client_for):
    page = client_for(world.manager)
    facility = world.surgery
    unchanged = {
        "name": facility.name,
        "address": facility.address,
        "postcode": facility.postcode,
        "phone_number": "",
        "email": facility.email,
        "referral_email": "",
        "specialities_offered": "",
    }
    assert page.post(reverse("organisations:facility"), unchanged).status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type=AuditObject.FACILITY).exists()


def test_bad_details_are_named_and_nothing_changes(world, client_for):
    response = client_for(world.manager).post(
        reverse("organisations:facility"), {**NEW_DETAILS, "name": "", "referral_email": "not an address"}
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "Enter the facility&#x27;s name" in text
    assert "Enter a referral inbox address like referrals@nhs.net" in text
    assert Facility.objects.get(pk=world.surgery.pk).name == "Oak Tree Surgery"


@pytest.mark.parametrize("who", ["reception", "gp", "porter", "hospital_reception"])
def test_others_who_work_somewhere_are_refused_403_and_audited(world, client_for, who):
    user = getattr(world, who)
    for response in (
        client_for(user).get(reverse("organisations:facility")),
        client_for(user).post(reverse("organisations:facility"), NEW_DETAILS),
    ):
        assert response.status_code == (403 if who != "porter" else 404)
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type=AuditObject.FACILITY).count() == 2
    assert Facility.objects.get(pk=world.surgery.pk).name == "Oak Tree Surgery"


@pytest.mark.parametrize("who", ["alice_user", "admin", "privacy"])
def test_people_who_work_at_no_facility_are_answered_404_and_audited(world, client_for, who):
    user = getattr(world, who)
    assert client_for(user).get(reverse("organisations:facility")).status_code == 404
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type=AuditObject.FACILITY).exists()


def test_a_manager_cannot_change_another_facility_through_the_service(world):
    from carebridge.core.errors import NotFound
    from carebridge.organisations.services import facility_update

    with pytest.raises(NotFound):
        facility_update(actor=Actor(user=world.manager, channel="web"), facility=world.hospital, name="Mine")
    assert AuditEvent.objects.filter(
        actor=world.manager, action=AuditAction.DENY, object_type=AuditObject.FACILITY
    ).exists()


# --- The directory shows the new values -----------------------------------------------------------------


@pytest.fixture
def updated(world, client_for):
    opening_hours_set(
        actor=Actor.command_line(world.manager),
        facility=world.surgery,
        hours={
            **{day: [(dt.time(8), dt.time(18, 30))] for day in range(Weekday.MONDAY, Weekday.FRIDAY + 1)},
            Weekday.SATURDAY: [(dt.time(9), dt.time(12))],
        },
    )
    assert _saved(world, client_for).status_code == 302
    return Facility.objects.get(pk=world.surgery.pk)


def test_the_rest_directory_shows_the_new_details(world, api_client_for, updated):
    rows = api_client_for(world.alice_user).get("/api/facilities").json()
    row = next(row for row in rows if row["id"] == str(updated.public_id))
    assert row["name"] == "Oak Tree Medical Centre"
    assert (row["address"], row["postcode"], row["phone_number"]) == (
        "2 New Street, Birmingham",
        "B2 4QA",
        "0121 496 0123",
    )
    assert (row["email"], row["referral_email"]) == ("oaktree@nhs.example", "oaktree.referrals@nhs.example")
    assert row["specialities_offered"] == ["General Practice", "Minor surgery", "Travel clinic"]
    assert row["opening_hours"][0] == {"weekday": "Monday", "opens": "08:00", "closes": "18:30"}
    assert row["opening_hours"][-1] == {"weekday": "Saturday", "opens": "09:00", "closes": "12:00"}
    # A facility with no weekly hours keeps its imported note.
    hospital = next(row for row in rows if row["name"] == "Heartlands Hospital")
    assert (hospital["opening_hours"], hospital["opening_hours_note"]) == ([], "Mon-Fri: 8:00-18:00")
    assert hospital["referral_email"] == "h1@nhs.example"  # no inbox of its own: its main address


def test_fhir_organization_location_and_healthcare_service_show_the_new_details(world, api_client_for, updated):
    api = api_client_for(world.gp)
    organization = Organization.model_validate(api.get(f"/fhir/Organization/{updated.public_id}").json())
    assert organization.name == "Oak Tree Medical Centre"
    assert organization.address[0].postalCode == "B2 4QA"
    assert {(point.system, point.value) for point in organization.telecom} == {
        ("phone", "0121 496 0123"),
        ("email", "oaktree@nhs.example"),
    }

    location = Location.model_validate(api.get(f"/fhir/Location/{updated.public_id}").json())
    assert location.name == "Oak Tree Medical Centre"
    assert [
        (hours.daysOfWeek, str(hours.openingTime), str(hours.closingTime)) for hours in location.hoursOfOperation
    ] == [
        (["mon", "tue", "wed", "thu", "fri"], "08:00:00", "18:30:00"),
        (["sat"], "09:00:00", "12:00:00"),
    ]

    service = HealthcareService.model_validate(api.get(f"/fhir/HealthcareService/{updated.public_id}").json())
    assert service.name == "Oak Tree Medical Centre"
    assert [concept.text for concept in service.specialty] == ["General Practice", "Minor surgery", "Travel clinic"]
    assert ("email", "oaktree.referrals@nhs.example") in {(point.system, point.value) for point in service.telecom}
    assert service.providedBy.reference == f"Organization/{updated.public_id}"
    assert service.availableTime[0].daysOfWeek == ["mon", "tue", "wed", "thu", "fri"]

    found = api.get(f"/fhir/HealthcareService?organization=Organization/{updated.public_id}").json()
    assert [entry["resource"]["id"] for entry in found["entry"]] == [str(updated.public_id)]
    hospital = api.get(f"/fhir/HealthcareService/{world.hospital.public_id}").json()
    assert [concept["text"] for concept in hospital["specialty"]] == ["Cardiology", "Dermatology"]
    assert hospital["availabilityExceptions"] == "Mon-Fri: 8:00-18:00"
