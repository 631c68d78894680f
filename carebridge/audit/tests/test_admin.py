"""The system administrator's admin site: the audit trail can be read there but never changed."""

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core.actor import Actor


@pytest.fixture
def event(world):
    # An administrative row: the part of the trail the administrator sees (audit.admin.ADMINISTRATIVE_OBJECTS).
    return audit_record(actor=Actor.command_line(world.gp), action=AuditAction.SIGN_IN, object_type=AuditObject.SIGN_IN)


def test_the_administrator_reads_the_trail(world, client_for, event):
    response = client_for(world.admin).get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 200
    assert "gp" in response.content.decode()


def test_the_trail_cannot_be_changed_or_deleted_in_the_admin(world, client_for, event):
    admin = client_for(world.admin)
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])
    admin.post(change_url, {"reason": "tampered"})
    event.refresh_from_db()
    assert event.reason == ""
    assert admin.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert admin.get(reverse("admin:audit_auditevent_add")).status_code == 403


def test_patient_records_are_not_in_the_admin(world, client_for):
    page = client_for(world.admin).get(reverse("admin:index")).content.decode()
    assert "Patients" not in page and "Prescriptions" not in page


@pytest.mark.parametrize("name", ["gp", "reception", "manager", "privacy", "alice_user"])
def test_only_the_system_administrator_enters_the_admin(world, client_for, name):
    response = client_for(getattr(world, name)).get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_administrators_trail_names_no_patient(world, client_for, event):
    alice = world.alice
    appointment = alice.appointments.first()
    patient_rows = [
        audit_record(
            actor=Actor.command_line(world.gp),
            action=AuditAction.VIEW,
            object_type=AuditObject.PATIENT,
            object_id=str(alice.public_id),
            patient_id=alice.pk,
        ),
        # A search that found nobody has no patient on the row, but its criteria name one.
        audit_record(
            actor=Actor.command_line(world.reception),
            action=AuditAction.SEARCH,
            object_type=AuditObject.PATIENT_SEARCH,
            detail={"criteria": {"nhs_number": alice.nhs_number, "name": alice.last_name}},
        ),
        # A refusal of a record the asker cannot see: no patient_id, but the record's id.
        audit_record(
            actor=Actor.command_line(world.other_gp),
            action=AuditAction.DENY,
            object_type=AuditObject.PATIENT,
            object_id=str(alice.public_id),
        ),
        # An administrative kind whose detail can name appointments.
        audit_record(
            actor=Actor.command_line(world.manager),
            action=AuditAction.UPDATE,
            object_type=AuditObject.SLOTS,
            object_id=str(world.gp.clinician.public_id),
            detail={"needing_rebooking": [str(appointment.public_id)]},
        ),
    ]
    admin = client_for(world.admin)
    pages = [admin.get(reverse("admin:audit_auditevent_changelist")).content.decode()]
    pages += [
        admin.get(reverse("admin:audit_auditevent_change", args=[row.pk]), follow=True).content.decode()
        for row in [event, *patient_rows]
    ]
    # Searching for the patient finds nothing either.
    found = admin.get(reverse("admin:audit_auditevent_changelist"), {"q": str(alice.public_id)}).content.decode()
    assert "0 results" in found
    for page in pages:
        for identifier in (alice.nhs_number, alice.last_name, str(alice.public_id), str(appointment.public_id)):
            assert identifier not in page
    # What it does show: the administrative rows, the SLOTS row without its detail.
    assert f"/admin/audit/auditevent/{event.pk}/change/" in pages[0]
    assert f"/admin/audit/auditevent/{patient_rows[-1].pk}/change/" in pages[0]
    for row in patient_rows[:3]:
        assert f"/admin/audit/auditevent/{row.pk}/change/" not in pages[0]
