"""The system administrator's admin site: the audit trail can be read there but never changed."""

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core.actor import Actor


@pytest.fixture
def event(world):
    return audit_record(
        actor=Actor.command_line(world.gp),
        action=AuditAction.VIEW,
        object_type=AuditObject.PATIENT,
        patient_id=world.alice.pk,
    )


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
