"""My day read at a glance: for each patient the reason, whether they have arrived and when, and for a
referred patient the referral's priority and wait against its target; in a bounded number of statements
however many patients there are."""

import datetime as dt

from django.conf import settings
from django.urls import reverse

from carebridge.core import clock
from carebridge.patients.models import Gender, Patient
from carebridge.referrals.models import Referral, ReferralPriority
from carebridge.referrals.relationships import referral_relationships_refresh
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.scheduling.relationships import appointment_relationships_refresh

MY_DAY = reverse("scheduling:my_day")


def _clinic_day() -> dt.date:
    return clock.today() + dt.timedelta(days=14)  # the world's clinic: Alice at 10:30 with the specialist


def _referred_patients(world, count: int, first: int = 0) -> list[Appointment]:
    """`count` more patients booked into the specialist's clinic from referrals, as an import makes them: the
    first has arrived at 09:05, the referrals waiting a week longer each."""
    now = clock.now()
    appointments, referrals = [], []
    for number in range(first, first + count):
        patient = Patient.objects.create(
            source_id=f"P-day-{number}",
            first_name=f"Dee{number}",
            last_name="Clinic",
            date_of_birth=dt.date(1970, 1, 1 + number),
            nhs_number=None,
            gender=Gender.FEMALE,
            registration_date=dt.date(2020, 1, 1),
            registered_surgery=world.surgery,
            created_at=now,
            updated_at=now,
        )
        starts_at = clock.london_datetime(_clinic_day(), dt.time(9, 0)) + dt.timedelta(minutes=15 * number)
        arrived = number == 0
        appointment = Appointment.objects.create(
            patient=patient,
            clinician=world.specialist.clinician,
            facility=world.hospital,
            starts_at=starts_at,
            duration_minutes=15,
            appointment_type="Specialist Consultation",
            reason_for_visit=f"Chest pain {number}",
            status=AppointmentStatus.ARRIVED if arrived else AppointmentStatus.BOOKED,
            arrived_at=clock.london_datetime(_clinic_day(), dt.time(9, 5)) if arrived else None,
            created_at=now,
            updated_at=now,
        )
        referrals.append(
            Referral.objects.create(
                patient=patient,
                referring_clinician=world.gp.clinician,
                receiving_clinician=world.specialist.clinician,
                referring_facility=world.surgery,
                receiving_facility=world.hospital,
                referral_date=clock.today() - dt.timedelta(days=7 * (number + 1)),
                priority=ReferralPriority.ROUTINE if number else ReferralPriority.TWO_WEEK_WAIT,
                reason="Chest pain",
                speciality="Cardiology",
                appointment=appointment,
                created_at=now,
                updated_at=now,
            )
        )
        appointments.append(appointment)
    appointment_relationships_refresh(appointments)
    referral_relationships_refresh(referrals)
    return appointments


def test_each_row_says_the_reason_the_arrival_and_the_referral_s_priority_and_wait(world, client_for):
    first, second = _referred_patients(world, 2)
    response = client_for(world.specialist).get(MY_DAY, {"date": _clinic_day().isoformat()})
    assert response.status_code == 200
    page = response.content.decode()

    def row(appointment) -> str:
        start = page.index(f'data-testid="row-{appointment.public_id}"')
        return page[start : page.index("</tr>", start)]

    arrived = row(first)
    assert "Chest pain 0" in arrived
    assert "Arrived" in arrived and 'data-testid="arrived-at">Arrived at 09:05<' in arrived
    assert "Two-week wait" in arrived
    assert "Waited 7 days of the 14-day target" in arrived
    waiting = row(second)
    assert "Chest pain 1" in waiting and "arrived-at" not in waiting
    routine = settings.REFERRAL_TARGET_DAYS[ReferralPriority.ROUTINE]
    assert "Routine" in waiting and f"Waited 14 days of the {routine}-day target" in waiting
    # Alice, from the world: her urgent referral, made today.
    alice = row(world.alice_referral.appointment)
    assert "Cardiology referral" in alice and "Urgent" in alice and "Waited 0 days" in alice


def test_the_page_takes_the_same_bounded_number_of_statements_for_one_patient_or_seven(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.specialist)
    day = {"date": _clinic_day().isoformat()}
    client.get(MY_DAY, day)  # the session and login, read once
    counts = []
    for more in (1, 5):
        _referred_patients(world, more, first=len(counts) * 10)
        with django_assert_max_num_queries(16) as captured:
            response = client.get(MY_DAY, day)
        assert response.status_code == 200
        counts.append((response.content.decode().count('data-testid="referral"'), len(captured.captured_queries)))
    # Two, then seven referred patients (Alice and those added), in the same number of statements.
    assert [rows for rows, _ in counts] == [2, 7]
    assert counts[0][1] == counts[1][1]
