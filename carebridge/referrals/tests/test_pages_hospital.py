"""The receiving hospital's referral pages: the worklist, triage, booking, arrival (the front desk's
check-in and the consultant's day list), the referral pack and the outcome. Every refusal is audited."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.models import Allergy, AllergySeverity, Condition
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.delivery.models import OutboundEmail
from carebridge.referrals import services
from carebridge.referrals.models import Referral, ReferralPriority, ReferralStatus
from carebridge.scheduling import services as scheduling
from carebridge.scheduling.models import AppointmentStatus, Slot
from carebridge.testing.days import BASE_DAY

WEEKDAYS_8_TO_6 = {weekday: [(dt.time(8, 0), dt.time(18, 0))] for weekday in range(5)}


def _refer(world, patient, priority=ReferralPriority.ROUTINE, *, days_ago=0, speciality="Cardiology", reason=""):
    """A referral made by the world's GP, as the referral page makes one."""
    referral = services.referral_make(
        actor=Actor(user=world.gp, channel="web"),
        patient=patient,
        receiving_facility=world.hospital,
        speciality=speciality,
        priority=priority,
        reason=reason or f"{priority} referral, {days_ago} days ago",
        clinical_summary="Summary for the hospital.",
        investigations=["ECG"],
    )
    if days_ago:
        # The clock is frozen and referral_make dates a referral today; the worklist's order and its
        # breach flag depend on how long each has waited, so the test moves the date back in the
        # database (a referral made weeks ago, as the hospital would have it).
        Referral.objects.filter(pk=referral.pk).update(referral_date=clock.today() - dt.timedelta(days=days_ago))
        referral.refresh_from_db()
    return referral


def _accepted(world, referral):
    return services.referral_triage(
        actor=Actor(user=world.specialist, channel="web"), referral=referral, decision="accept"
    )


def _cardiology_clinic(world, settings):
    """Dr Okafor's Cardiology clinic at Heartlands: weekday mornings from 09:00, in 30-minute slots."""
    settings.SLOT_HORIZON_DAYS = 13
    command = Actor.command_line()
    scheduling.opening_hours_set(actor=command, facility=world.hospital, hours=WEEKDAYS_8_TO_6)
    for weekday in range(5):
        scheduling.session_add(
            actor=command,
            clinician=world.specialist.clinician,
            weekday=weekday,
            start_time=dt.time(9, 0),
            end_time=dt.time(12, 0),
            slot_minutes=30,
            appointment_types=["Specialist Consultation"],
        )


def _first_slot_today(world) -> Slot:
    # The suite's base day is a weekday (a Monday by default) and its clock 07:00: the clinic is ahead.
    assert BASE_DAY.weekday() < 5
    return Slot.objects.filter(clinician=world.specialist.clinician, starts_at__date__gte=BASE_DAY).order_by(
        "starts_at"
    )[0]


def _booked_today(world, referral, slot=None):
    slot = slot or _first_slot_today(world)
    return services.referral_book(
        actor=Actor(user=world.hospital_reception, channel="web"), referral=referral, slot=slot
    )


def _denied(user, object_type, **extra) -> bool:
    return AuditEvent.objects.filter(action=AuditAction.DENY, actor=user, object_type=object_type, **extra).exists()


def _page(response) -> str:
    return response.content.decode()


# --- The worklist ---------------------------------------------------------------------------------------------


def test_the_worklist_puts_the_most_urgent_first_then_the_longest_wait_against_target(world, client_for):
    routine_breached = _refer(world, world.carol, ReferralPriority.ROUTINE, days_ago=130)
    routine_recent = _refer(world, world.alice, ReferralPriority.ROUTINE, days_ago=5)
    urgent_long = _refer(world, world.carol, ReferralPriority.URGENT, days_ago=27)
    urgent_short = _refer(world, world.alice, ReferralPriority.URGENT, days_ago=10)
    two_week_wait = _refer(world, world.carol, ReferralPriority.TWO_WEEK_WAIT, days_ago=1)

    response = client_for(world.specialist).get(reverse("referrals:worklist"))

    assert response.status_code == 200
    page = _page(response)
    shown = re.findall(r'data-testid="ubrn">(\d{12})<', page)
    assert shown == [
        two_week_wait.ubrn,
        urgent_long.ubrn,
        urgent_short.ubrn,
        routine_breached.ubrn,
        routine_recent.ubrn,
    ]
    # The world's imported referral (urgent, today, no UBRN) sits after the urgent ones that waited longer.
    assert page.index(urgent_short.ubrn) < page.index("Imported referral") < page.index(routine_breached.ubrn)
    assert "Waited 27 days of the 28-day target" in page
    # Only the routine referral past its 126 days is flagged, in words.
    assert page.count('data-testid="breach"') == 1
    assert "Over target by 4 days" in page
    assert "Two-week wait" in page and "Urgent" in page and "Routine" in page
    assert "Awaiting triage" in page
    assert reverse("referrals:referral", args=[two_week_wait.public_id]) in page
    # A clinician sees why each was referred.
    assert "two_week_wait referral, 1 days ago" in page


def test_the_worklist_has_a_view_per_service(world, client_for):
    skin = _refer(world, world.carol, ReferralPriority.ROUTINE, speciality="Dermatology", reason="Changing mole")
    heart = _refer(world, world.carol, ReferralPriority.URGENT)
    client = client_for(world.specialist)

    everything = _page(client.get(reverse("referrals:worklist")))
    dermatology = _page(client.get(reverse("referrals:worklist"), {"service": "Dermatology"}))

    assert skin.ubrn in everything and heart.ubrn in everything
    assert skin.ubrn in dermatology and heart.ubrn not in dermatology
    assert "Dermatology: 1 open referral" in dermatology
    assert f"{reverse('referrals:worklist')}?service=Cardiology" in dermatology


def test_reception_at_the_hospital_sees_the_worklist_without_clinical_content(world, client_for):
    referral = _refer(world, world.carol, ReferralPriority.URGENT, reason="Palpitations on exertion")

    response = client_for(world.hospital_reception).get(reverse("referrals:worklist"))

    assert response.status_code == 200
    page = _page(response)
    assert referral.ubrn in page
    assert "CLARKE, Carol" in page and "Urgent" in page
    assert "Palpitations on exertion" not in page
    assert "Heart murmur" not in page  # the world's imported referral's reason
    assert 'data-testid="reason"' not in page


@pytest.mark.parametrize("name", ["gp", "reception", "porter", "alice_user"])
def test_the_worklist_is_not_there_for_anyone_outside_the_hospital(world, client_for, name):
    user = getattr(world, name)

    response = client_for(user).get(reverse("referrals:worklist"))

    assert response.status_code == 404
    assert _denied(user, AuditObject.REFERRAL_WORKLIST)


def test_a_consultant_at_another_hospital_has_only_their_own_hospitals_worklist(world, client_for):
    referral = _refer(world, world.carol, ReferralPriority.TWO_WEEK_WAIT)
    client = client_for(world.other_specialist)

    worklist = client.get(reverse("referrals:worklist"))
    referral_page = client.get(reverse("referrals:pack", args=[referral.public_id]))

    assert worklist.status_code == 200
    assert "Riverside Hospital" in _page(worklist)
    assert referral.ubrn not in _page(worklist) and "CLARKE" not in _page(worklist)
    assert 'data-testid="no-referrals"' in _page(worklist)
    assert referral_page.status_code == 404
    assert _denied(world.other_specialist, AuditObject.REFERRAL, object_id=str(referral.public_id))


def test_the_worklist_is_on_the_hospital_staffs_menu_and_home_page_only(world, client_for):
    link = f'href="{reverse("referrals:worklist")}"'
    for user in (world.specialist, world.hospital_nurse, world.hospital_reception):
        assert link in _page(client_for(user).get("/"))
    for user in (world.gp, world.reception, world.other_gp):
        assert link not in _page(client_for(user).get("/"))


# --- Triage -------------------------------------------------------------------------------------------------


def test_a_consultant_accepts_a_referral_naming_themselves(world, client_for):
    referral = _refer(world, world.carol, ReferralPriority.URGENT, reason="Syncope")
    client = client_for(world.specialist)

    form = client.get(reverse("referrals:triage", args=[referral.public_id]))
    assert form.status_code == 200
    assert "Syncope" in _page(form)
    assert reverse("referrals:document", args=[referral.documents.get(kind="letter").public_id]) in _page(form)

    response = client.post(
        reverse("referrals:triage", args=[referral.public_id]),
        {"decision": "accept", "consultant": str(world.specialist.clinician.public_id)},
        follow=True,
    )

    assert response.redirect_chain[0][0] == reverse("referrals:referral", args=[referral.public_id])
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING
    assert referral.receiving_clinician == world.specialist.clinician
    assert referral.triaged_by == world.specialist.clinician
    assert f"Referral {referral.ubrn} triaged: accepted, to book." in _page(response)


def test_rejecting_needs_a_reason_of_at_most_2000_characters(world, client_for):
    referral = _refer(world, world.carol, ReferralPriority.ROUTINE)
    client = client_for(world.specialist)
    url = reverse("referrals:triage", args=[referral.public_id])

    without = client.post(url, {"decision": "reject", "text": "  "})
    too_long = client.post(url, {"decision": "reject", "text": "x" * 2001})

    assert without.status_code == 422
    assert "Give the reason for rejecting the referral." in _page(without)
    assert too_long.status_code == 422
    assert "Keep it within 2,000 characters (it is 2,001)." in _page(too_long)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW

    done = client.post(url, {"decision": "reject", "text": "Not for cardiology: refer to respiratory."})

    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REJECTED
    assert referral.status_reason == "Not for cardiology: refer to respiratory."


def test_a_priority_change_at_triage_needs_a_comment(world, client_for):
    referral = _refer(world, world.carol, ReferralPriority.ROUTINE)
    client = client_for(world.specialist)
    url = reverse("referrals:triage", args=[referral.public_id])

    refused = client.post(url, {"decision": "accept", "priority": "urgent"})
    done = client.post(url, {"decision": "accept", "priority": "urgent", "comment": "ECG shows new AF."})

    assert refused.status_code == 422
    assert "Say why the priority changes." in _page(refused)
    assert done.status_code == 302
    referral.refresh_from_db()
    assert (referral.priority, referral.triage_comment) == (ReferralPriority.URGENT, "ECG shows new AF.")


def test_a_triaged_referral_offers_no_second_decision(world, client_for):
    referral = _accepted(world, _refer(world, world.carol))
    client = client_for(world.specialist)

    page = client.get(reverse("referrals:triage", args=[referral.public_id]))
    again = client.post(reverse("referrals:triage", args=[referral.public_id]), {"decision": "reject", "text": "No"})

    assert 'data-testid="already-triaged"' in _page(page) and 'data-testid="triage-form"' not in _page(page)
    assert again.status_code == 409
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING


def test_a_hospital_nurse_may_not_triage(world, client_for):
    referral = _refer(world, world.carol, ReferralPriority.URGENT)
    client = client_for(world.hospital_nurse)

    page = client.get(reverse("referrals:triage", args=[referral.public_id]))
    post = client.post(reverse("referrals:triage", args=[referral.public_id]), {"decision": "accept"})

    assert page.status_code == 403 and post.status_code == 403
    assert "Only doctors at the receiving hospital triage" in _page(page)
    assert _denied(world.hospital_nurse, AuditObject.REFERRAL, patient_id=world.carol.pk)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW


def test_a_consultant_at_another_hospital_cannot_see_the_referral_to_triage(world, client_for):
    referral = _refer(world, world.carol, ReferralPriority.URGENT)

    response = client_for(world.other_specialist).get(reverse("referrals:triage", args=[referral.public_id]))

    assert response.status_code == 404
    assert _denied(world.other_specialist, AuditObject.REFERRAL, object_id=str(referral.public_id))


# --- Booking ------------------------------------------------------------------------------------------------


def test_the_hospital_books_an_accepted_referral_and_the_patient_is_told(world, client_for, settings):
    _cardiology_clinic(world, settings)
    world.carol.email = "carol@example.org"
    world.carol.save()
    referral = _accepted(world, _refer(world, world.carol, ReferralPriority.URGENT))
    slot = _first_slot_today(world)
    client = client_for(world.hospital_reception)

    form = client.get(reverse("referrals:book", args=[referral.public_id]))
    assert form.status_code == 200
    assert str(slot.public_id) in _page(form)
    assert world.specialist.clinician.display_name in _page(form)

    response = client.post(reverse("referrals:book", args=[referral.public_id]), {"slot": str(slot.public_id)})

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral", args=[referral.public_id])
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_PROGRESS
    assert referral.appointment is not None and referral.appointment.slot == slot
    assert referral.appointment.clinician == world.specialist.clinician
    confirmation = OutboundEmail.objects.get(idempotency_key=f"appointment:{referral.appointment.public_id}:booked")
    assert confirmation.recipient == "carol@example.org"


def test_a_booking_without_a_time_is_refused_with_the_message(world, client_for, settings):
    _cardiology_clinic(world, settings)
    referral = _accepted(world, _refer(world, world.carol))

    response = client_for(world.hospital_reception).post(reverse("referrals:book", args=[referral.public_id]), {})

    assert response.status_code == 422
    assert "Choose a time." in _page(response)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING


def test_a_referral_not_yet_accepted_is_not_offered_for_booking(world, client_for, settings):
    _cardiology_clinic(world, settings)
    referral = _refer(world, world.carol)

    page = client_for(world.hospital_reception).get(reverse("referrals:book", args=[referral.public_id]))

    assert page.status_code == 200
    assert 'data-testid="not-bookable"' in _page(page) and 'data-testid="book-form"' not in _page(page)


def test_a_consultant_does_not_book_the_appointment_themselves(world, client_for, settings):
    _cardiology_clinic(world, settings)
    referral = _accepted(world, _refer(world, world.carol))

    response = client_for(world.specialist).get(reverse("referrals:book", args=[referral.public_id]))

    assert response.status_code == 403
    assert _denied(world.specialist, AuditObject.REFERRAL, patient_id=world.carol.pk)


# --- Arrival: the front desk and the consultant's day ----------------------------------------------------------


def test_check_in_tells_the_front_desk_the_referrals_administrative_facts_only(world, client_for, settings):
    _cardiology_clinic(world, settings)
    referral = _booked_today(
        world, _accepted(world, _refer(world, world.carol, ReferralPriority.URGENT, days_ago=12, reason="Syncope"))
    )
    client = client_for(world.hospital_reception)

    response = client.post(
        reverse("scheduling:check_in", args=[referral.appointment.public_id]),
        {"date": BASE_DAY.isoformat()},
        follow=True,
    )

    assert response.status_code == 200
    page = _page(response)
    assert "Carol Clarke is checked in" in page
    assert f"Referral {referral.ubrn}: Urgent. Waited 12 days of the 28-day target." in page
    assert f"The referral pack is with {world.specialist.clinician.display_name}." in page
    assert "Syncope" not in page and "Summary for the hospital." not in page
    referral.appointment.refresh_from_db()
    assert referral.appointment.status == AppointmentStatus.ARRIVED


def test_check_in_of_an_appointment_no_referral_holds_says_nothing_of_referrals(schedule, client_for):
    from carebridge.testing.schedule import slot_at

    slot = slot_at(schedule, 0, dt.time(9, 0))
    appointment = scheduling.appointment_book(
        actor=Actor(user=schedule.reception, channel="web"),
        patient=schedule.carol,
        slot=slot,
        appointment_type="Routine Consultation",
        reason="Check-up",
    )

    page = _page(
        client_for(schedule.reception).post(
            reverse("scheduling:check_in", args=[appointment.public_id]), {"date": clock.today()}, follow=True
        )
    )

    assert "Carol Clarke is checked in" in page
    assert "The referral pack is with" not in page


def test_the_consultants_day_shows_the_arrived_patient_with_the_pack_one_click_away(world, client_for, settings):
    _cardiology_clinic(world, settings)
    referral = _booked_today(
        world, _accepted(world, _refer(world, world.carol, ReferralPriority.TWO_WEEK_WAIT, days_ago=3))
    )
    scheduling.appointment_check_in(
        actor=Actor(user=world.hospital_reception, channel="web"), appointment=referral.appointment
    )

    page = _page(client_for(world.specialist).get(reverse("scheduling:my_day")))

    row = page.split(f'data-testid="row-{referral.appointment.public_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Arrived" in row
    assert "Two-week wait" in row
    assert "Waited 3 days of the 14-day target" in row
    assert f'href="{reverse("referrals:pack", args=[referral.public_id])}"' in row


def test_the_consultants_day_reads_the_referrals_in_one_query_however_many(world, client_for, settings):
    _cardiology_clinic(world, settings)
    slots = list(
        Slot.objects.filter(clinician=world.specialist.clinician, starts_at__date=BASE_DAY).order_by("starts_at")
    )
    client = client_for(world.specialist)
    client.get(reverse("scheduling:my_day"))  # the first page of a session also saves the session

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("scheduling:my_day")).status_code == 200
        return len(queries)

    _booked_today(world, _accepted(world, _refer(world, world.carol)), slots[0])
    one = statements()
    _booked_today(world, _accepted(world, _refer(world, world.alice)), slots[1])
    two = statements()

    assert two == one
    assert Referral.objects.filter(appointment__starts_at__date=BASE_DAY).count() == 2


# --- The pack and the outcome -------------------------------------------------------------------------------


def _arrived(world, settings, patient=None):
    _cardiology_clinic(world, settings)
    referral = _booked_today(world, _accepted(world, _refer(world, patient or world.alice, ReferralPriority.URGENT)))
    scheduling.appointment_check_in(
        actor=Actor(user=world.hospital_reception, channel="web"), appointment=referral.appointment
    )
    return referral


def test_the_pack_has_the_referral_medicines_allergies_and_problems(world, client_for, settings):
    referral = _arrived(world, settings)
    now = clock.now()
    Allergy.objects.create(
        patient=world.alice,
        substance="penicillin",
        display="Penicillin",
        reaction="Anaphylaxis",
        severity=AllergySeverity.SEVERE,
        recorded_by=world.gp.clinician,
        recorded_at=now,
    )
    Condition.objects.create(
        patient=world.alice, display="Type 2 diabetes", recorded_by=world.gp.clinician, recorded_at=now
    )

    response = client_for(world.specialist).get(reverse("referrals:pack", args=[referral.public_id]))

    assert response.status_code == 200
    page = _page(response)
    assert "Penicillin" in page and "Anaphylaxis" in page
    assert page.index('data-testid="allergies"') < page.index('data-testid="referral-details"')  # prominent
    assert "Simvastatin" in page  # the world's prescription
    assert "Type 2 diabetes" in page
    assert "urgent referral, 0 days ago" in page and "Summary for the hospital." in page and "ECG" in page
    assert "Waited 0 days of the 28-day target" in page
    assert reverse("referrals:document", args=[referral.documents.get(kind="letter").public_id]) in page
    assert reverse("referrals:outcome", args=[referral.public_id]) in page


def test_the_pack_offers_no_outcome_before_the_patient_arrives(world, client_for, settings):
    _cardiology_clinic(world, settings)
    referral = _booked_today(world, _accepted(world, _refer(world, world.carol)))

    page = _page(client_for(world.specialist).get(reverse("referrals:pack", args=[referral.public_id])))
    outcome = client_for(world.specialist).post(
        reverse("referrals:outcome", args=[referral.public_id]), {"outcome": "Seen", "clinic_letter": "Dear Dr"}
    )

    assert reverse("referrals:outcome", args=[referral.public_id]) not in page
    assert outcome.status_code == 409
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_PROGRESS


def test_reception_has_no_pack(world, client_for, settings):
    referral = _arrived(world, settings)

    response = client_for(world.hospital_reception).get(reverse("referrals:pack", args=[referral.public_id]))

    assert response.status_code == 404
    assert _denied(world.hospital_reception, AuditObject.REFERRAL, object_id=str(referral.public_id))


def test_the_outcome_completes_the_referral_and_the_clinic_letter_goes_to_the_surgery(world, client_for, settings):
    referral = _arrived(world, settings)
    client = client_for(world.specialist)
    url = reverse("referrals:outcome", args=[referral.public_id])

    assert client.get(url).status_code == 200
    refused = client.post(url, {"outcome": "", "clinic_letter": ""})
    response = client.post(
        url,
        {"outcome": "Innocent flow murmur; discharged.", "clinic_letter": "Dear Dr Patel, I saw Alice today."},
        follow=True,
    )

    assert refused.status_code == 422
    assert "Give the outcome of the appointment." in _page(refused)
    assert "Write the clinic letter to the GP." in _page(refused)
    assert response.redirect_chain[0][0] == reverse("referrals:referral", args=[referral.public_id])
    assert "the clinic letter has been sent to the GP at Oak Tree Surgery" in _page(response)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED
    assert referral.outcome == "Innocent flow murmur; discharged."
    letter = OutboundEmail.objects.get(idempotency_key__startswith=f"referral:{referral.public_id}:clinic-letter:")
    assert letter.recipient == "s1@nhs.example"
    assert letter.attachments[0]["content_type"] == "application/pdf"


def test_a_hospital_nurse_does_not_record_the_outcome(world, client_for, settings):
    referral = _arrived(world, settings)

    response = client_for(world.hospital_nurse).post(
        reverse("referrals:outcome", args=[referral.public_id]), {"outcome": "Seen", "clinic_letter": "Dear Dr"}
    )

    assert response.status_code == 403
    assert _denied(world.hospital_nurse, AuditObject.REFERRAL, object_id=str(referral.public_id))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_PROGRESS
