"""The pages for item 1 (leave catches every appointment) and item 2 (appointments end with an outcome)."""

import datetime as dt

from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import AppointmentStatus
from carebridge.scheduling.tests.test_outcomes_and_leave import book, imported, leave
from carebridge.testing.schedule import schedule_day, schedule_time

NINE = dt.time(9, 0)
DAY = reverse("scheduling:day")
TO_CLOSE = reverse("scheduling:to_close")


def test_an_imported_appointment_in_leave_is_flagged_on_the_day_list_and_listed(schedule, client_for):
    appointment = imported(schedule, 3, dt.time(10, 30))
    leave(schedule, 3)
    client = client_for(schedule.reception)
    page = client.get(DAY, {"date": schedule_day(3).isoformat()}).content.decode()
    row = page.split(f'data-testid="row-{appointment.public_id}"')[1].split("</tr>")[0]
    assert "New time needed" in row
    rebooking = page.split("Appointments to rebook")[1]
    assert "ARCHER, Alice" in rebooking and reverse("scheduling:move", args=[appointment.public_id]) in rebooking


def test_the_manager_sees_a_whole_day_of_leave_as_one_day_and_the_appointment_to_rebook(schedule, client_for):
    appointment = imported(schedule, 3, dt.time(10, 30))
    leave(schedule, 3)
    page = client_for(schedule.manager).get(reverse("scheduling:schedules")).content.decode()
    day = schedule_day(3)
    assert f'data-testid="exception-when">{day:%A} {day.day} {day:%B}</span>' in page
    assert "00:00" not in page.split("Leave and closures")[1].split("Appointments to rebook")[0]
    assert reverse("scheduling:move", args=[appointment.public_id]) in page
    listed = AuditEvent.objects.get(
        actor=schedule.manager, action=AuditAction.SEARCH, object_type=AuditObject.REBOOKING_LIST
    )
    assert listed.patient_id == schedule.alice.pk


def test_the_patient_sees_the_rebooking_notice_and_a_past_outcome_not_recorded(schedule, client_for):
    past = book(schedule, 0, NINE)
    coming = imported(schedule, 3, dt.time(10, 30))
    leave(schedule, 3)
    clock.freeze(schedule_time(0, dt.time(10, 0)))
    page = client_for(schedule.alice_user).get(reverse("scheduling:mine")).content.decode()
    assert "This appointment needs a new time" in page and "will contact you to arrange a new time" in page
    past_table = page.split('data-testid="past"')[1]
    assert "Outcome not recorded" in past_table and ">Booked<" not in past_table
    assert past.status == coming.status == AppointmentStatus.BOOKED


def test_reception_closes_yesterdays_appointments_and_may_undo_today(schedule, client_for):
    appointment = book(schedule, 0, NINE)
    clock.freeze(schedule_time(1, dt.time(8, 0)))
    client = client_for(schedule.reception)
    assert "1 appointment on earlier days has no outcome recorded" in client.get(DAY).content.decode()
    page = client.get(TO_CLOSE).content.decode()
    assert f"row-{appointment.public_id}" in page and "Outcome not recorded" in page
    listed = AuditEvent.objects.filter(actor=schedule.reception, action=AuditAction.SEARCH).latest("pk")
    assert listed.patient_id == schedule.alice.pk
    close_url = reverse("scheduling:close_appointment", args=[appointment.public_id])
    assert client.post(close_url, {"outcome": "did_not_attend"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NOSHOW
    page = client.get(TO_CLOSE).content.decode()
    assert 'data-testid="none-to-close"' in page and "Closed today" in page
    undo_url = reverse("scheduling:undo_outcome", args=[appointment.public_id])
    assert client.post(undo_url, {"from": "to-close"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    undone = AuditEvent.objects.filter(actor=schedule.reception, action=AuditAction.UPDATE).latest("pk")
    assert undone.detail == {"status": "booked", "was": "noshow", "undone": True}
    client.post(close_url, {"outcome": "attended"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.FULFILLED
    # The next day the record stands.
    clock.freeze(schedule_time(2, dt.time(8, 0)))
    client = client_for(schedule.reception)
    refused = client.post(undo_url, {"from": "to-close"})
    assert refused.status_code == 422 and "can no longer be undone" in refused.content.decode()


def test_another_facilitys_reception_neither_sees_nor_closes(schedule, client_for):
    appointment = book(schedule, 0, NINE)
    clock.freeze(schedule_time(1, dt.time(8, 0)))
    close_url = reverse("scheduling:close_appointment", args=[appointment.public_id])
    # Bob's surgery's reception cannot see Alice at all: 404, audited.
    other = client_for(schedule.other_reception)
    assert f"row-{appointment.public_id}" not in other.get(TO_CLOSE).content.decode()
    assert other.post(close_url, {"outcome": "attended"}).status_code == 404
    assert AuditEvent.objects.filter(
        actor=schedule.other_reception, action=AuditAction.DENY, patient_id=schedule.alice.pk
    ).exists()
    # The hospital's reception may see Alice (her hospital appointment) but not close the surgery's: 403.
    hospital = client_for(schedule.hospital_reception)
    assert f"row-{appointment.public_id}" not in hospital.get(TO_CLOSE).content.decode()
    assert hospital.post(close_url, {"outcome": "attended"}).status_code == 403
    denial = AuditEvent.objects.get(actor=schedule.hospital_reception, action=AuditAction.DENY)
    assert denial.object_type == AuditObject.APPOINTMENT and denial.patient_id == schedule.alice.pk
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_the_close_list_is_for_front_desk_staff_only(schedule, client_for):
    assert client_for(schedule.gp).get(TO_CLOSE).status_code == 404
    assert AuditEvent.objects.filter(actor=schedule.gp, action=AuditAction.DENY).exists()


def test_reception_undoes_a_check_in_on_the_day_list(schedule, client_for):
    appointment = book(schedule, 0, NINE)
    client = client_for(schedule.reception)
    client.post(reverse("scheduling:check_in", args=[appointment.public_id]), {"date": schedule_day(0).isoformat()})
    page = client.get(DAY).content.decode()
    assert "Undo check-in" in page
    undo_url = reverse("scheduling:undo_outcome", args=[appointment.public_id])
    response = client.post(undo_url, {"from": "day", "date": schedule_day(0).isoformat()})
    assert response.status_code == 302 and response["Location"].startswith(DAY)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert "The check-in of Alice Archer is undone." in client.get(response["Location"]).content.decode()
    services.appointment_check_in(actor=Actor.command_line(schedule.reception), appointment=appointment)
