"""The records staff's pages: possible duplicates, merge with a confirmation step, undo, deregistration.

World as in test_merge: alice at `surgery` with an NHS number; a second record of her without one.
"""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.patients.models import Gender, Patient, PatientMerge
from carebridge.scheduling.models import Appointment
from carebridge.scheduling.relationships import appointment_relationships_refresh
from carebridge.testing.days import BASE_DAY, date_boxes, long_day


@pytest.fixture
def second_alice(world) -> Patient:
    now = clock.now()
    return Patient.objects.create(
        source_id="P-alice-2",
        first_name="ALICE",
        last_name="archer",
        date_of_birth=dt.date(1980, 5, 17),
        gender=Gender.FEMALE,
        postcode="b15 2tt",
        registration_date=dt.date(2024, 3, 1),
        registered_surgery=world.surgery,
        created_at=now,
        updated_at=now,
    )


def _merge_url(world, second_alice) -> str:
    return reverse("records:merge", args=[world.alice.public_id, second_alice.public_id])


def test_the_duplicates_page_lists_the_pair_with_why_and_audits_each_patient_shown(
    world, clerk, second_alice, client_for
):
    Patient.objects.filter(pk=world.alice.pk).update(postcode="B15 2TT")
    response = client_for(clerk).get(reverse("records:duplicates"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Same name and date of birth; Same postcode and date of birth" in page
    assert _merge_url(world, second_alice) in page
    # Bob is at another surgery: never listed here, even though he shares the date of birth.
    assert "Baker" not in page
    shown = AuditEvent.objects.filter(actor=clerk, action=AuditAction.SEARCH)
    assert set(shown.values_list("patient_id", flat=True)) == {world.alice.pk, second_alice.pk}


@pytest.mark.parametrize("who", ["reception", "gp", "junior_clerk"])
def test_the_duplicates_page_is_refused_to_those_who_do_not_keep_records_and_audited(
    world, second_alice, client_for, who, request
):
    user = getattr(world, who, None) or request.getfixturevalue(who)
    assert client_for(user).get(reverse("records:duplicates")).status_code == 404
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY).count() == 1


def test_merge_asks_for_a_confirmation_with_a_summary_then_merges(world, clerk, second_alice, client_for):
    client = client_for(clerk)
    form = {"survivor": str(world.alice.public_id), "reason": "Registered twice"}
    checking = client.post(_merge_url(world, second_alice), form)
    assert checking.status_code == 200
    page = checking.content.decode()
    assert "Check before merging" in page and 'data-testid="merge-summary"' in page
    assert not PatientMerge.objects.exists()

    done = client.post(_merge_url(world, second_alice), form | {"confirmed": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("records:record", args=[world.alice.public_id])
    assert "Records merged." in done.content.decode()
    merge = PatientMerge.objects.get()
    assert (merge.survivor, merge.retired) == (world.alice, second_alice)


def test_merge_with_no_choice_names_the_fields_in_the_error_summary(world, clerk, second_alice, client_for):
    response = client_for(clerk).post(_merge_url(world, second_alice), {"reason": ""})
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Choose the record to keep" in page and "Enter why these records are the same person" in page


def test_different_nhs_numbers_are_refused_on_the_page_with_the_reason(world, clerk, second_alice, client_for):
    Patient.objects.filter(pk=second_alice.pk).update(nhs_number="4010232137")
    response = client_for(clerk).post(
        _merge_url(world, second_alice), {"survivor": str(world.alice.public_id), "reason": "Same"}
    )
    assert response.status_code == 200
    assert "so they are different people. They cannot be merged." in response.content.decode()
    assert not PatientMerge.objects.exists()


def test_the_merge_page_is_refused_to_another_surgerys_clerk_as_not_found(world, other_clerk, second_alice, client_for):
    assert client_for(other_clerk).get(_merge_url(world, second_alice)).status_code == 404
    assert AuditEvent.objects.filter(actor=other_clerk, action=AuditAction.DENY).exists()


def test_the_merge_page_is_refused_to_reception(world, second_alice, client_for):
    assert client_for(world.reception).get(_merge_url(world, second_alice)).status_code == 404
    assert AuditEvent.objects.filter(actor=world.reception, action=AuditAction.DENY).exists()


def test_a_records_manager_undoes_a_merge_from_the_list_and_a_clerk_may_not(
    world, clerk, records_manager, second_alice, client_for
):
    client_for(clerk).post(
        _merge_url(world, second_alice),
        {"survivor": str(world.alice.public_id), "reason": "Registered twice", "confirmed": "yes"},
    )
    merge = PatientMerge.objects.get()
    undo = reverse("records:unmerge", args=[world.alice.public_id, merge.public_id])
    assert undo not in client_for(clerk).get(reverse("records:merges")).content.decode()
    assert client_for(clerk).get(undo).status_code == 403
    assert undo in client_for(records_manager).get(reverse("records:merges")).content.decode()

    missing_reason = client_for(records_manager).post(undo, {"reason": ""})
    assert "Enter why this merge is being undone" in missing_reason.content.decode()
    done = client_for(records_manager).post(undo, {"reason": "Twins"}, follow=True)
    assert "record is restored" in done.content.decode()
    second_alice.refresh_from_db()
    assert second_alice.merged_into is None


# --- Deregistration ----------------------------------------------------------------------------------------


def _booked_at_surgery(world, patient: Patient) -> Appointment:
    now = clock.now()
    appointment = Appointment.objects.create(
        patient=patient,
        clinician=world.gp.clinician,
        facility=world.surgery,
        starts_at=clock.london_datetime(clock.today() + dt.timedelta(days=7), dt.time(9, 0)),
        duration_minutes=10,
        appointment_type="GP Consultation",
        reason_for_visit="Review",
        created_at=now,
        updated_at=now,
    )
    appointment_relationships_refresh([appointment])
    return appointment


def test_a_clerk_deregisters_a_patient_after_a_confirmation_listing_appointments_to_come(world, clerk, client_for):
    carol = world.carol
    appointment = _booked_at_surgery(world, carol)
    client = client_for(clerk)
    record = client.get(reverse("records:record", args=[carol.public_id])).content.decode()
    url = reverse("records:deregister", args=[carol.public_id])
    assert url in record
    left_on = BASE_DAY - dt.timedelta(days=3)
    form = {"reason": "Moved to Leeds"} | date_boxes("left_on", left_on)
    checking = client.post(url, form).content.decode()
    assert "Check before deregistering" in checking and long_day(left_on) in checking
    assert "1 appointment here is still booked" in checking
    carol.refresh_from_db()
    assert carol.deregistered_on is None

    done = client.post(url, form | {"confirmed": "yes"}).content.decode()
    assert "Carol Clarke is deregistered" in done
    assert reverse("scheduling:cancel", args=[appointment.public_id]) in done
    carol.refresh_from_db()
    assert carol.deregistered_on == left_on
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, patient_id=carol.pk, reason="Moved to Leeds").exists()


def test_deregistration_with_a_future_date_names_the_field(world, clerk, client_for):
    url = reverse("records:deregister", args=[world.carol.public_id])
    form = {"reason": "Moving", "confirmed": "yes"} | date_boxes("left_on", BASE_DAY + dt.timedelta(days=1))
    page = client_for(clerk).post(url, form).content.decode()
    assert "There is a problem" in page and "must be today or in the past" in page
    world.carol.refresh_from_db()
    assert world.carol.deregistered_on is None


def test_deregistration_is_refused_to_reception_and_to_another_surgery(world, other_clerk, client_for):
    url = reverse("records:deregister", args=[world.carol.public_id])
    assert client_for(world.reception).get(url).status_code == 403
    assert client_for(other_clerk).get(url).status_code == 404
    for user in (world.reception, other_clerk):
        assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY).exists()


@pytest.mark.parametrize("page", ["records:merges", "records:reregister"])
def test_the_merges_list_and_registering_again_are_refused_to_reception_and_audited(world, client_for, page):
    assert client_for(world.reception).get(reverse(page)).status_code == 404
    assert AuditEvent.objects.filter(actor=world.reception, action=AuditAction.DENY).count() == 1


def test_undoing_is_refused_to_another_surgerys_records_staff_as_not_found(
    world, clerk, other_clerk, second_alice, client_for
):
    client_for(clerk).post(
        _merge_url(world, second_alice),
        {"survivor": str(world.alice.public_id), "reason": "Registered twice", "confirmed": "yes"},
    )
    undo = reverse("records:unmerge", args=[world.alice.public_id, PatientMerge.objects.get().public_id])
    assert client_for(other_clerk).post(undo, {"reason": "No"}).status_code == 404
    assert AuditEvent.objects.filter(actor=other_clerk, action=AuditAction.DENY).exists()
    assert PatientMerge.objects.get().unmerged_at is None


def test_a_clerk_registers_again_a_patient_who_left_another_surgery(world, other_clerk, client_for):
    Patient.objects.filter(pk=world.carol.pk).update(deregistered_on=BASE_DAY - dt.timedelta(days=29))
    client = client_for(other_clerk)
    wrong = client.post(
        reverse("records:reregister"),
        {
            "nhs_number": "485 777 3465",
            "date_of_birth_day": "18",
            "date_of_birth_month": "5",
            "date_of_birth_year": "1980",
        },
    )
    assert "There is a problem" in wrong.content.decode()
    done = client.post(
        reverse("records:reregister"),
        {
            "nhs_number": "485 777 3465",
            "date_of_birth_day": "17",
            "date_of_birth_month": "5",
            "date_of_birth_year": "1980",
        },
        follow=True,
    )
    assert "Carol Clarke is registered again at Elm Street Practice" in done.content.decode()
    world.carol.refresh_from_db()
    assert world.carol.registered_surgery == world.other_surgery
