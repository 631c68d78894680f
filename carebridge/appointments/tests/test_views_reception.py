"""Reception books, changes and cancels on a patient's behalf, works the day list, and invites patients
to the portal. `reception` works at Alice's surgery; `hospital_reception` at the hospital where she is
also booked; `other_reception` at Bob's surgery."""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.accounts.models import User
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.patients.models import Patient
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.testing.days import long_day, short_when, when
from carebridge.testing.schedule import schedule_day, schedule_time, slot_at

NINE, TEN = dt.time(9, 0), dt.time(10, 0)
# The schedule's Monday (its 'today') and the day after, as the day list takes them.
MONDAY, TUESDAY = schedule_day(0).isoformat(), schedule_day(1).isoformat()
DAY = reverse("scheduling:day")


def _book_for_url(patient, slot=None) -> str:
    if slot is None:
        return reverse("scheduling:book_for", args=[patient.public_id])
    return reverse("scheduling:book_for_confirm", args=[patient.public_id, slot.public_id])


def _booked(world, slot, patient=None) -> Appointment:
    return services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=patient or world.alice,
        slot=slot,
        appointment_type="Routine Consultation",
        reason="Blood pressure",
    )


def _denials(user, object_type=None):
    events = AuditEvent.objects.filter(actor=user, action=AuditAction.DENY)
    return events.filter(object_type=object_type) if object_type else events


# --- Booking for a patient ------------------------------------------------------------------------------


def test_reception_books_for_a_patient_from_their_record(schedule, client_for):
    client = client_for(schedule.reception)
    record = client.get(reverse("records:record", args=[schedule.alice.public_id])).content.decode()
    assert _book_for_url(schedule.alice) in record
    picker = client.get(_book_for_url(schedule.alice)).content.decode()
    assert "Alice Archer, Oak Tree Surgery" in picker
    slot = slot_at(schedule, 0, NINE)
    assert _book_for_url(schedule.alice, slot) in picker
    confirm = client.get(_book_for_url(schedule.alice, slot)).content.decode()
    assert "Check and book the appointment" in confirm and "943 476 5919" in confirm
    response = client.post(
        _book_for_url(schedule.alice, slot),
        {"appointment_type": "Routine Consultation", "reason": "Blood pressure review"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("records:record", args=[schedule.alice.public_id])
    appointment = Appointment.objects.get(slot=slot)
    assert appointment.patient == schedule.alice and appointment.reason_for_visit == "Blood pressure review"
    created = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="appointment")
    assert created.actor == schedule.reception and created.patient_id == schedule.alice.pk
    page = client.get(response["Location"]).content.decode()
    assert f"Alice Archer&#x27;s appointment is booked for {when(schedule_time(0, NINE), year=False)}" in page
    assert reverse("scheduling:move", args=[appointment.public_id]) in page
    assert reverse("scheduling:cancel", args=[appointment.public_id]) in page


# The GP and Alice herself may see Alice's record, so booking for her here is refused (403); the porter,
# the system administrator and the privacy officer may not see her at all (404).
@pytest.mark.parametrize(
    ("name", "status"), [("gp", 403), ("alice_user", 403), ("porter", 404), ("admin", 404), ("privacy", 404)]
)
def test_booking_for_a_patient_is_for_staff_only(schedule, client_for, name, status):
    user = getattr(schedule, name)
    slot = slot_at(schedule, 0, NINE)
    client = client_for(user)
    page = client.get(_book_for_url(schedule.alice))
    assert page.status_code == status
    response = client.post(
        _book_for_url(schedule.alice, slot), {"appointment_type": "Routine Consultation", "reason": "x"}
    )
    assert response.status_code == status
    if status == 403:
        assert "You cannot do this" in page.content.decode() and "You cannot do this" in response.content.decode()
    assert not Appointment.objects.filter(slot=slot).exists()
    assert _denials(user).filter(patient_id=schedule.alice.pk).count() == 2


def test_reception_cannot_book_for_a_patient_they_cannot_see(schedule, client_for):
    # Alice has no link to Bob's surgery.
    response = client_for(schedule.other_reception).get(_book_for_url(schedule.alice))
    assert response.status_code == 404 and b"Alice" not in response.content
    assert _denials(schedule.other_reception, "patient").get().patient_id == schedule.alice.pk


def test_staff_book_only_with_clinicians_at_their_own_facility(schedule, client_for):
    # The hospital's reception may see Alice (she is booked there) but not book the surgery's GP.
    slot = slot_at(schedule, 0, NINE)
    client = client_for(schedule.hospital_reception)
    assert client.get(_book_for_url(schedule.alice)).status_code == 200
    response = client.post(
        _book_for_url(schedule.alice, slot), {"appointment_type": "Routine Consultation", "reason": "x"}
    )
    assert response.status_code == 403
    assert "Only the patient, or reception at the clinic, can book" in response.content.decode()
    assert not Appointment.objects.filter(slot=slot).exists()
    assert _denials(schedule.hospital_reception, "appointment").get().patient_id == schedule.alice.pk


def test_reception_changes_and_cancels_at_their_facility(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.reception)
    record_url = reverse("records:record", args=[schedule.alice.public_id])
    moved = client.post(
        reverse("scheduling:move_confirm", args=[appointment.public_id, slot_at(schedule, 0, TEN).public_id]),
        {"search": ""},
    )
    assert moved.status_code == 302 and moved["Location"] == record_url
    appointment.refresh_from_db()
    assert appointment.starts_at == slot_at(schedule, 0, TEN).starts_at
    cancelled = client.post(
        reverse("scheduling:cancel", args=[appointment.public_id]), {"reason": "Patient phoned: feeling better"}
    )
    assert cancelled.status_code == 302 and cancelled["Location"] == record_url
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Patient phoned: feeling better"


def test_staff_cannot_change_an_appointment_at_another_facility(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.hospital_reception)
    # They may see Alice (she is booked at the hospital), so the answer is 403, not 404.
    assert client.get(reverse("scheduling:cancel", args=[appointment.public_id])).status_code == 403
    assert client.post(reverse("scheduling:cancel", args=[appointment.public_id]), {"reason": "x"}).status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert _denials(schedule.hospital_reception, "appointment").count() == 2
    # Nor does the record page offer it to them.
    page = client.get(reverse("records:record", args=[schedule.alice.public_id])).content.decode()
    assert reverse("scheduling:cancel", args=[appointment.public_id]) not in page


# --- The day list ---------------------------------------------------------------------------------------


def test_the_day_list_shows_todays_appointments_with_check_in(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    _booked(schedule, slot_at(schedule, 1, NINE))  # tomorrow
    response = client_for(schedule.reception).get(DAY)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Day list</h1>" in page and f"{long_day(schedule_day(0))} (today)" in page
    assert "ARCHER, Alice" in page and "943 476 5919" in page and "Dr. Grace Patel" in page
    assert page.count('data-testid="row-') == 1
    assert reverse("scheduling:check_in", args=[appointment.public_id]) in page
    # Not yet started, so not yet a missed appointment.
    assert reverse("scheduling:no_show", args=[appointment.public_id]) not in page
    read = AuditEvent.objects.get(actor=schedule.reception, action=AuditAction.SEARCH, object_type=AuditObject.DAY_LIST)
    assert read.patient_id == schedule.alice.pk and read.detail["criteria"]["date"] == MONDAY


def test_the_day_list_for_another_day_and_clinician(schedule, client_for):
    _booked(schedule, slot_at(schedule, 1, NINE))
    client = client_for(schedule.reception)
    page = client.get(DAY, {"date": TUESDAY}).content.decode()
    assert "ARCHER, Alice" in page and long_day(schedule_day(1)) in page
    assert reverse("scheduling:check_in", args=[Appointment.objects.get(slot__isnull=False).public_id]) not in page
    nurse_only = client.get(
        DAY, {"date": TUESDAY, "clinician": str(schedule.nurse.clinician.public_id)}
    ).content.decode()
    assert "ARCHER, Alice" not in nurse_only and "No appointments on this day." in nurse_only


def test_reception_checks_a_patient_in(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.reception)
    response = client.post(
        reverse("scheduling:check_in", args=[appointment.public_id]), {"date": MONDAY, "clinician": ""}
    )
    assert response.status_code == 302 and response["Location"].startswith(DAY + f"?date={MONDAY}")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED
    page = client.get(response["Location"]).content.decode()
    assert "Alice Archer is checked in for 09:00." in page and "Arrived" in page


def test_check_in_on_another_day_is_refused_on_the_page(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 1, NINE))
    response = client_for(schedule.reception).post(
        reverse("scheduling:check_in", args=[appointment.public_id]), {"date": TUESDAY, "clinician": ""}
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "Patients can be checked in only on the day of their appointment." in page
    assert long_day(schedule_day(1)) in page
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_did_not_attend_only_once_the_time_has_passed(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.reception)
    url = reverse("scheduling:no_show", args=[appointment.public_id])
    early = client.post(url, {"date": MONDAY})
    assert "only once the appointment time has passed" in early.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    clock.freeze(appointment.starts_at + dt.timedelta(minutes=20))
    # Over two hours later the first session has ended for idleness (accounts.middleware): a new sign-in.
    client = client_for(schedule.reception)
    assert url in client.get(DAY).content.decode()
    assert client.post(url, {"date": MONDAY}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NOSHOW


def test_reception_elsewhere_cannot_check_in(schedule, client_for):
    # The hospital's reception sees Alice, but her GP appointment is not theirs to check in.
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    response = client_for(schedule.hospital_reception).post(
        reverse("scheduling:check_in", args=[appointment.public_id]), {"date": MONDAY}
    )
    assert response.status_code == 403
    assert "Only reception at the clinic checks patients in" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert _denials(schedule.hospital_reception, "appointment").get().patient_id == schedule.alice.pk


# The day list answers 404 to any other role. Checking in and recording a missed appointment are the
# service's to refuse: 403 to the GP and Alice, who may see her record; 404 to those who may not.
@pytest.mark.parametrize(
    ("name", "status"), [("gp", 403), ("alice_user", 403), ("porter", 404), ("admin", 404), ("privacy", 404)]
)
def test_the_day_list_is_for_staff_only(schedule, client_for, name, status):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    user = getattr(schedule, name)
    client = client_for(user)
    assert client.get(DAY).status_code == 404
    assert _denials(user, "day_list").count() == 1
    assert client.post(reverse("scheduling:check_in", args=[appointment.public_id]), {}).status_code == status
    assert client.post(reverse("scheduling:no_show", args=[appointment.public_id]), {}).status_code == status
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert _denials(user).filter(patient_id=schedule.alice.pk).count() == 2


def test_the_day_list_lists_appointments_needing_rebooking(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 2, NINE))
    services.exception_add(
        actor=Actor.command_line(schedule.manager),
        facility=schedule.surgery,
        clinician=schedule.gp.clinician,
        reason="Annual leave",
        starts_at=schedule_time(2, dt.time.min),
        ends_at=schedule_time(3, dt.time.min),
    )
    page = client_for(schedule.reception).get(DAY).content.decode()
    rebooking = page.split("Appointments to rebook")[1]
    assert "ARCHER, Alice" in rebooking and short_when(schedule_time(2, NINE)) in rebooking
    assert reverse("scheduling:move", args=[appointment.public_id]) in rebooking


# --- Inviting a patient to the portal ---------------------------------------------------------------------


@pytest.fixture
def carol(world):
    """A patient at Alice's surgery with an email address and no portal login yet."""
    now = clock.now()
    return Patient.objects.create(
        source_id="P-carol",
        first_name="Carol",
        last_name="Cho",
        date_of_birth=dt.date(1990, 3, 3),
        nhs_number="4010232137",
        gender="female",
        email="carol@example.org",
        registration_date=dt.date(2021, 1, 1),
        registered_surgery=world.surgery,
        created_at=now,
        updated_at=now,
    )


def _invite_url(patient) -> str:
    return reverse("scheduling:invite", args=[patient.public_id])


def test_reception_invites_a_patient_to_the_portal(world, client_for, carol):
    client = client_for(world.reception)
    record_url = reverse("records:record", args=[carol.public_id])
    record = client.get(record_url).content.decode()
    assert "does not use the Carebridge portal yet" in record and _invite_url(carol) in record
    response = client.post(_invite_url(carol))
    assert response.status_code == 302 and response["Location"] == record_url
    carol.refresh_from_db()
    assert carol.user is not None and not carol.user.has_usable_password()
    page = client.get(record_url).content.decode()
    assert "An invitation to the portal is on its way to carol@example.org." in page
    assert "has been invited to the portal but has not set a password yet" in page
    assert "Send a new invitation" in page


def test_an_invitation_needs_an_email_address(world, client_for, carol):
    Patient.objects.filter(pk=carol.pk).update(email="")
    response = client_for(world.reception).post(_invite_url(carol))
    assert response.status_code == 422  # a rule refused it, as the other channels answer
    assert "There is no email address on this patient&#x27;s record" in response.content.decode()
    carol.refresh_from_db()
    assert carol.user is None


def test_a_patient_who_uses_the_portal_is_not_offered_an_invitation(world, client_for):
    client = client_for(world.reception)
    page = client.get(reverse("records:record", args=[world.alice.public_id])).content.decode()
    assert "Alice uses the Carebridge portal." in page and _invite_url(world.alice) not in page
    Patient.objects.filter(pk=world.alice.pk).update(email="alice@example.org")
    response = client.post(_invite_url(world.alice))
    assert "This patient already uses the portal" in response.content.decode()
    assert User.objects.get(pk=world.alice_user.pk).has_usable_password()


@pytest.mark.parametrize("name", ["hospital_reception", "other_reception", "gp", "alice_user", "admin"])
def test_only_staff_at_the_patients_surgery_invite(world, client_for, carol, name):
    user = getattr(world, name)
    assert client_for(user).post(_invite_url(carol)).status_code == 404
    carol.refresh_from_db()
    assert carol.user is None
    assert _denials(user).count() == 1
