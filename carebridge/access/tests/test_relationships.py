"""Relationships: who may see a patient, why, and for how long (DESIGN section 3)."""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.access.rules import Disclosure, Why, access_for, visible_patients, who_can_see
from carebridge.access.services import break_glass_open
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.patients.models import Patient
from carebridge.referrals.models import ReferralStatus
from carebridge.referrals.relationships import referral_relationships_refresh
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.scheduling.relationships import appointment_relationships_refresh

# Why each person in the world may see Alice (registered at the surgery, referred by the GP to the
# specialist, with a hospital appointment); nobody else may.
ALICE_SEEN_BY = {
    "gp": {Why.REGISTERED, Why.REFERRAL_SENT},
    "nurse": {Why.REGISTERED, Why.REFERRAL_SENT},
    "reception": {Why.REGISTERED, Why.REFERRAL_SENT},
    "manager": {Why.REGISTERED, Why.REFERRAL_SENT},
    "specialist": {Why.APPOINTMENT, Why.REFERRAL_RECEIVED},
    "hospital_nurse": {Why.APPOINTMENT, Why.REFERRAL_RECEIVED},
    "hospital_reception": {Why.APPOINTMENT, Why.REFERRAL_RECEIVED},
    "alice_user": {Why.OWN_RECORD},
}


def test_every_person_in_the_world_is_given_the_reasons_they_may_see_alice(world):
    for name, user in world.users_by_name().items():
        access = access_for(user, world.alice)
        expected = ALICE_SEEN_BY.get(name)
        if expected is None:
            assert access is None, f"{name} should not see Alice"
        else:
            assert access is not None, f"{name} should see Alice"
            assert {relationship.why for relationship in access.relationships} == expected, name


def test_the_list_filter_and_the_single_check_agree_for_everyone(world):
    for name, user in world.users_by_name().items():
        listed = set(visible_patients(Patient.objects.all(), user).values_list("pk", flat=True))
        checked = {patient.pk for patient in Patient.objects.all() if access_for(user, patient) is not None}
        assert listed == checked, name


def test_clinicians_and_the_patient_get_the_clinical_record_and_staff_the_administrative(world):
    assert access_for(world.gp, world.alice).disclosure == Disclosure.CLINICAL
    assert access_for(world.alice_user, world.alice).disclosure == Disclosure.CLINICAL
    assert access_for(world.reception, world.alice).disclosure == Disclosure.ADMINISTRATIVE
    assert access_for(world.hospital_reception, world.alice).disclosure == Disclosure.ADMINISTRATIVE


@pytest.mark.parametrize("name", sorted(ALICE_SEEN_BY.keys() - {"alice_user"}))
def test_the_record_page_tells_the_viewer_why_they_can_see_it(world, client_for, name):
    page = client_for(getattr(world, name)).get(reverse("records:record", args=[world.alice.public_id]))
    assert page.status_code == 200
    why = page.content.decode().split('data-testid="why-you-can-see"')[1].split("</div>")[0]
    if Why.REGISTERED in ALICE_SEEN_BY[name]:
        assert "Registered at Oak Tree Surgery" in why and "since 1 January 2020" in why
    if ALICE_SEEN_BY[name] & {Why.REFERRAL_SENT, Why.REFERRAL_RECEIVED}:
        assert f"Urgent referral made on {clock.today():%-d %B %Y}" in why
    if Why.APPOINTMENT in ALICE_SEEN_BY[name]:
        local = world.alice.appointments.get().starts_at.astimezone(clock.LONDON)
        assert f"Appointment on {local:%-d %B %Y} at 10:30: Dr. Sam Okafor and Heartlands Hospital" in why


def test_the_patient_sees_who_can_see_their_record_and_why(world, client_for):
    page = client_for(world.alice_user).get(reverse("records:my_record")).content.decode()
    listed = page.split('data-testid="who-can-see"')[1].split("</ul>")[0]
    assert "Staff and clinicians at Oak Tree Surgery" in listed and "since 1 January 2020" in listed
    assert "Dr. Sam Okafor and Heartlands Hospital" in listed  # the appointment and the referral received
    assert "Dr. Grace Patel and Oak Tree Surgery" in listed  # the referral sent
    assert "Why you can see this record" not in page


def test_emergency_access_is_explained_to_the_clinician_and_the_patient(world, client_for):
    break_glass_open(
        actor=Actor.command_line(world.other_gp),
        nhs_number_text=world.alice.nhs_number,
        reason="Unconscious in A&E, need current medicines",
    )
    access = access_for(world.other_gp, world.alice)
    assert [relationship.why for relationship in access.relationships] == [Why.EMERGENCY]
    assert access.via_break_glass
    mine = [relationship for relationship in who_can_see(world.alice) if relationship.why == Why.EMERGENCY]
    assert mine[0].who == "Owen Hughes" and mine[0].reason == "Unconscious in A&E, need current medicines"
    clock.freeze(clock.now() + dt.timedelta(hours=4, seconds=1))
    assert access_for(world.other_gp, world.alice) is None


# --- Relationships end ----------------------------------------------------------------------------------


def test_an_appointment_opens_the_record_until_ninety_days_after_it(world, settings):
    appointment = world.alice.appointments.get()
    clock.freeze(appointment.starts_at + dt.timedelta(days=89))
    # The referral also opens it; complete the referral long ago so only the appointment counts.
    _complete_referral(world, at=appointment.starts_at - dt.timedelta(days=200))
    assert {r.why for r in access_for(world.hospital_reception, world.alice).relationships} == {Why.APPOINTMENT}
    clock.freeze(appointment.starts_at + dt.timedelta(days=90, seconds=1))
    assert access_for(world.hospital_reception, world.alice) is None
    settings.CARE_ACCESS_DAYS_AFTER_APPOINTMENT = 365
    appointment_relationships_refresh([appointment])
    assert access_for(world.hospital_reception, world.alice) is not None


def test_a_cancelled_appointment_no_longer_opens_the_record(world):
    _complete_referral(world, at=clock.now() - dt.timedelta(days=200))
    appointment = world.alice.appointments.get()
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED, updated_at=clock.now())
    appointment.refresh_from_db()
    appointment_relationships_refresh([appointment])
    clock.freeze(clock.now() + dt.timedelta(seconds=1))
    assert access_for(world.hospital_reception, world.alice) is None
    assert access_for(world.specialist, world.alice) is None
    assert access_for(world.reception, world.alice) is not None  # still registered at the surgery


def test_an_open_referral_lasts_and_a_completed_one_ends_ninety_days_later(world):
    # A year and more on, the appointment's relationship has long ended; the open referral's has not.
    clock.freeze(clock.now() + dt.timedelta(days=400))
    assert {r.why for r in access_for(world.specialist, world.alice).relationships} == {Why.REFERRAL_RECEIVED}
    completed = clock.now()
    _complete_referral(world, at=completed)
    clock.freeze(completed + dt.timedelta(days=89))
    assert access_for(world.specialist, world.alice) is not None
    clock.freeze(completed + dt.timedelta(days=90, seconds=1))
    assert access_for(world.specialist, world.alice) is None


def _complete_referral(world, *, at: dt.datetime) -> None:
    referral = world.alice_referral
    type(referral).objects.filter(pk=referral.pk).update(status=ReferralStatus.COMPLETED, updated_at=at)
    referral.refresh_from_db()
    referral_relationships_refresh([referral])
