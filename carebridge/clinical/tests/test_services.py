"""Consultations build the problem list; allergies are recorded coded or as free text; clinicians only."""

import pytest

from carebridge.access.selectors import patient_record_for
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.models import ConditionStatus
from carebridge.clinical.selectors import clinical_record
from carebridge.clinical.services import allergy_record, condition_resolve, consultation_record
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted

ASTHMA = "195967001"


def _consult(world, who, **extra):
    return consultation_record(
        actor=Actor.command_line(who), patient=world.alice, symptoms="Wheezy at night for two weeks", **extra
    )


def test_a_coded_condition_joins_the_problem_list_once(world):
    first = _consult(
        world, world.gp, findings="Expiratory wheeze", assessment="Asthma", plan="Inhaler", condition_code=ASTHMA
    )
    second = _consult(world, world.gp, condition_code=ASTHMA)
    assert first.condition == second.condition and first.condition.display == "Asthma"
    assert first.condition.coded and first.facility == world.surgery
    record = clinical_record(patient_record_for(actor=Actor.command_line(world.gp), public_id=world.alice.public_id))
    assert [problem.code for problem in record.active_problems] == [ASTHMA]
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, object_type=AuditObject.CONSULTATION, patient_id=world.alice.pk
        ).count()
        == 2
    )


def test_free_text_is_allowed_and_flagged_uncoded_and_a_problem_can_be_resolved(world):
    consultation = _consult(world, world.gp, condition_text="Post-viral fatigue")
    assert not consultation.condition.coded and consultation.condition.display == "Post-viral fatigue"
    resolved = condition_resolve(actor=Actor.command_line(world.gp), condition=consultation.condition)
    assert resolved.status == ConditionStatus.RESOLVED
    with pytest.raises(Invalid):
        condition_resolve(actor=Actor.command_line(world.gp), condition=consultation.condition)


def test_a_code_not_on_the_list_and_a_consultation_without_symptoms_are_refused(world):
    with pytest.raises(Invalid):
        _consult(world, world.gp, condition_code="123")
    with pytest.raises(Invalid):
        consultation_record(actor=Actor.command_line(world.gp), patient=world.alice, symptoms="  ")


@pytest.mark.parametrize(
    "name, refusal",
    [
        ("reception", NotPermitted),
        ("manager", NotPermitted),
        ("alice_user", NotPermitted),
        ("other_gp", NotFound),
        ("bob_user", NotFound),
        ("porter", NotFound),
    ],
)
def test_only_clinicians_record_and_every_refusal_is_audited(world, name, refusal):
    user = getattr(world, name)
    with pytest.raises(refusal):
        _consult(world, user)
    with pytest.raises(refusal):
        allergy_record(actor=Actor.command_line(user), patient=world.alice, substance="penicillins")
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, patient_id=world.alice.pk).count() == 2


def test_allergies_coded_and_free_text(world):
    gp = Actor.command_line(world.gp)
    coded = allergy_record(actor=gp, patient=world.alice, substance="penicillins", reaction="Hives", severity="severe")
    written = allergy_record(actor=gp, patient=world.alice, text="Elastoplast", reaction="Itch")
    assert coded.coded and coded.substance == "penicillins"
    assert not written.coded and written.display == "Elastoplast"
    with pytest.raises(Invalid):
        allergy_record(actor=gp, patient=world.alice, substance="not-a-thing")
    with pytest.raises(Invalid):
        allergy_record(actor=gp, patient=world.alice, substance="penicillins", severity="deadly")


def test_non_clinical_staff_are_handed_no_clinical_record(world):
    _consult(world, world.gp, condition_code=ASTHMA)
    access = patient_record_for(actor=Actor.command_line(world.reception), public_id=world.alice.public_id)
    assert clinical_record(access) is None
