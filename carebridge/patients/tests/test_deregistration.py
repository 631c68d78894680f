"""A patient leaves the surgery: the registration's access ends, the record stays, and they can come back.

World: carol is registered at `surgery` with no appointments or referrals; alice is registered there
too and is booked at `hospital` and referred there.
"""

import datetime as dt

import pytest

from carebridge.access.rules import access_for, visible_patients, who_can_see
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted
from carebridge.patients.models import Patient
from carebridge.records.management_services import patient_deregister, patient_reregister


def _act(user) -> Actor:
    return Actor(user=user, channel="web")


def _leave(world, clerk, patient: Patient) -> Patient:
    return patient_deregister(actor=_act(clerk), patient=patient, left_on=clock.today(), reason="Moved away")


def test_deregistration_ends_the_access_the_registration_gave(world, clerk):
    assert access_for(world.gp, world.carol) is not None
    carol = _leave(world, clerk, world.carol)
    for user in (world.gp, world.nurse, world.reception, clerk, world.manager):
        assert access_for(user, carol) is None
        assert carol not in visible_patients(Patient.objects.all(), user)
    assert Patient.objects.filter(pk=carol.pk).exists()  # the record is kept
    assert who_can_see(carol) == []
    event = AuditEvent.objects.get(action=AuditAction.DELETE, patient_id=carol.pk)
    assert event.reason == "Moved away" and event.actor == clerk


def test_other_relationships_still_open_the_record_after_deregistration(world, clerk):
    alice = _leave(world, clerk, world.alice)
    assert access_for(world.gp, alice) is not None  # she was referred by the surgery: that lasts
    assert access_for(world.specialist, alice) is not None
    reasons = {relationship.why for relationship in access_for(world.gp, alice).relationships}
    assert "registered" not in reasons


def test_a_patient_who_has_left_may_not_book_at_the_old_surgery(world, clerk):
    from carebridge.access.rules import Action, refusal

    Patient.objects.filter(pk=world.alice.pk).update(deregistered_on=clock.today())
    alice = Patient.objects.get(pk=world.alice.pk)
    access = access_for(world.alice_user, alice)
    assert refusal(access, world.alice_user, Action.BOOK, facility_id=world.surgery.pk) is not None


@pytest.mark.parametrize("who", ["reception", "junior_clerk", "gp"])
def test_deregistration_is_refused_to_staff_who_do_not_keep_records_and_audited(world, who, request):
    user = getattr(world, who, None) or request.getfixturevalue(who)
    with pytest.raises(NotPermitted):
        patient_deregister(actor=_act(user), patient=world.carol, left_on=clock.today(), reason="Moved")
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY).count() == 1
    world.carol.refresh_from_db()
    assert world.carol.deregistered_on is None


def test_deregistration_is_refused_to_another_surgerys_clerk_as_not_found(world, other_clerk):
    with pytest.raises(NotFound):
        patient_deregister(actor=_act(other_clerk), patient=world.carol, left_on=clock.today(), reason="Moved")
    assert AuditEvent.objects.filter(actor=other_clerk, action=AuditAction.DENY).count() == 1


def test_the_date_left_must_not_be_in_the_future_nor_before_registration(world, clerk):
    with pytest.raises(Invalid) as refused:
        patient_deregister(
            actor=_act(clerk), patient=world.carol, left_on=clock.today() + dt.timedelta(days=1), reason="Moving"
        )
    assert "left_on" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        patient_deregister(actor=_act(clerk), patient=world.carol, left_on=dt.date(2019, 1, 1), reason="Moving")
    assert "left_on" in refused.value.fields


def test_a_patient_who_left_is_registered_again_at_another_surgery(world, clerk, other_clerk):
    carol = _leave(world, clerk, world.carol)
    again = patient_reregister(
        actor=_act(other_clerk), nhs_number_text="485 777 3465", date_of_birth=carol.date_of_birth
    )
    assert again.pk == carol.pk
    assert (again.registered_surgery, again.deregistered_on, again.registration_date) == (
        world.other_surgery,
        None,
        clock.today(),
    )
    assert access_for(world.other_gp, again) is not None
    assert access_for(world.gp, again) is None
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, patient_id=carol.pk, actor=other_clerk).exists()


def test_re_registration_needs_the_date_of_birth_too_and_a_patient_who_has_left(world, clerk, other_clerk):
    with pytest.raises(Invalid):  # carol is still registered at `surgery`
        patient_reregister(actor=_act(other_clerk), nhs_number_text="4857773465", date_of_birth=dt.date(1980, 5, 17))
    _leave(world, clerk, world.carol)
    with pytest.raises(Invalid):
        patient_reregister(actor=_act(other_clerk), nhs_number_text="4857773465", date_of_birth=dt.date(1980, 5, 18))


def test_re_registration_is_refused_to_reception_and_audited(world, clerk):
    _leave(world, clerk, world.carol)
    with pytest.raises(NotFound):
        patient_reregister(
            actor=_act(world.reception), nhs_number_text="4857773465", date_of_birth=dt.date(1980, 5, 17)
        )
    assert AuditEvent.objects.filter(actor=world.reception, action=AuditAction.DENY).count() == 1
