"""Recording consultations, problems and allergies. One transaction each, with its audit row.

Clinicians only, for patients they may see (access.rules: Action.RECORD_CONSULTATION); everyone else is
refused and the refusal audited.
"""

from django.db import transaction

from carebridge.access.rules import Action, require
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.clinical.codes import ALLERGY_SUBSTANCES, CONDITIONS_BY_CODE
from carebridge.clinical.models import Allergy, AllergySeverity, Condition, ConditionStatus, Consultation
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, full_clean_or_refuse
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment

_ALLERGY_DISPLAY = dict(ALLERGY_SUBSTANCES)


def _condition(actor: Actor, patient: Patient, *, code: str, text: str) -> Condition | None:
    """The active problem a consultation treats: the patient's existing entry for a coded condition, or a
    new one; free text makes an uncoded entry. Neither given: None (a consultation may not have one yet)."""
    code, text = code.strip(), text.strip()
    if code:
        concept = CONDITIONS_BY_CODE.get(code)
        if concept is None:
            raise Invalid(
                "That condition is not on the coded list: choose one, or write it as free text.",
                fields={"condition_code": "Choose a condition from the list."},
            )
        existing = Condition.objects.filter(patient=patient, code=code, status=ConditionStatus.ACTIVE).first()
        if existing is not None:
            return existing
        return _new_condition(actor, patient, code=concept.code, display=concept.display)
    if text:
        return _new_condition(actor, patient, code="", display=text[:200])
    return None


def _new_condition(actor: Actor, patient: Patient, *, code: str, display: str) -> Condition:
    assert actor.user is not None  # require() has let only a clinician through
    condition = Condition(
        patient=patient, code=code, display=display, recorded_by=actor.user.clinician, recorded_at=clock.now()
    )
    full_clean_or_refuse(condition)
    condition.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.CONDITION,
        object_id=str(condition.public_id),
        patient_id=patient.pk,
        detail={"code": code, "display": display, "coded": bool(code)},
    )
    return condition


@refusals_audited(AuditObject.CONSULTATION)
@transaction.atomic
def consultation_record(
    *,
    actor: Actor,
    patient: Patient,
    symptoms: str,
    findings: str = "",
    assessment: str = "",
    plan: str = "",
    condition_code: str = "",
    condition_text: str = "",
    appointment: Appointment | None = None,
) -> Consultation:
    """What the patient describes, what the clinician finds and concludes, the condition treated (coded
    from the list, or free text flagged uncoded) and the plan. The condition joins the problem list."""
    require(actor=actor, action=Action.RECORD_CONSULTATION, patient=patient)
    assert actor.user is not None
    clinician = actor.user.clinician
    if not symptoms.strip():
        raise Invalid("Write what the patient describes.", fields={"symptoms": "Write what the patient describes."})
    if appointment is not None and appointment.patient_id != patient.pk:
        raise Invalid("That appointment is another patient's.")
    condition = _condition(actor, patient, code=condition_code, text=condition_text)
    consultation = Consultation(
        patient=patient,
        clinician=clinician,
        facility_id=clinician.workplace_id,
        appointment=appointment,
        started_at=clock.now(),
        symptoms=symptoms.strip(),
        findings=findings.strip(),
        assessment=assessment.strip(),
        plan=plan.strip(),
        condition=condition,
    )
    full_clean_or_refuse(consultation)
    consultation.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.CONSULTATION,
        object_id=str(consultation.public_id),
        patient_id=patient.pk,
        detail={
            "appointment": str(appointment.public_id) if appointment else None,
            "condition": str(condition.public_id) if condition else None,
        },
    )
    return consultation


@refusals_audited(AuditObject.CONDITION)
@transaction.atomic
def condition_record(*, actor: Actor, patient: Patient, code: str = "", text: str = "") -> Condition:
    """Add a problem to the list outside a consultation (as FHIR Condition create does)."""
    require(actor=actor, action=Action.RECORD_CONSULTATION, patient=patient)
    condition = _condition(actor, patient, code=code, text=text)
    if condition is None:
        raise Invalid(
            "Name the condition: choose it from the list, or write it.",
            fields={"condition_code": "Name the condition."},
        )
    return condition


@refusals_audited(AuditObject.CONDITION)
@transaction.atomic
def condition_resolve(*, actor: Actor, condition: Condition) -> Condition:
    condition = Condition.objects.select_for_update(of=("self",)).select_related("patient").get(pk=condition.pk)
    require(actor=actor, action=Action.RECORD_CONSULTATION, patient=condition.patient)
    if condition.status == ConditionStatus.RESOLVED:
        raise Invalid("This problem is already resolved.")
    condition.status = ConditionStatus.RESOLVED
    condition.resolved_at = clock.now()
    condition.save(update_fields=["status", "resolved_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.CONDITION,
        object_id=str(condition.public_id),
        patient_id=condition.patient_id,
        detail={"status": ConditionStatus.RESOLVED},
    )
    return condition


@refusals_audited(AuditObject.ALLERGY)
@transaction.atomic
def allergy_record(
    *,
    actor: Actor,
    patient: Patient,
    substance: str = "",
    text: str = "",
    reaction: str = "",
    severity: str = AllergySeverity.MODERATE,
) -> Allergy:
    """An allergy or intolerance: to a drug, class or substance from the list (so the safety checks can
    match it), or written as free text (matched by its words, and flagged as such)."""
    require(actor=actor, action=Action.RECORD_CONSULTATION, patient=patient)
    assert actor.user is not None
    substance, text = substance.strip().lower(), text.strip()
    if substance and substance not in _ALLERGY_DISPLAY:
        raise Invalid(
            "Choose the substance from the list, or write it as free text.",
            fields={"substance": "Choose the substance from the list."},
        )
    if not substance and not text:
        raise Invalid(
            "Say what the patient is allergic to.", fields={"substance": "Say what the patient is allergic to."}
        )
    if severity not in AllergySeverity.values:
        raise Invalid("Choose how severe the reaction is.", fields={"severity": "Choose mild, moderate or severe."})
    allergy = Allergy(
        patient=patient,
        substance=substance or text.lower()[:100],
        display=_ALLERGY_DISPLAY[substance] if substance else text[:200],
        coded=bool(substance),
        reaction=reaction.strip()[:200],
        severity=severity,
        recorded_by=actor.user.clinician,
        recorded_at=clock.now(),
    )
    full_clean_or_refuse(allergy)
    allergy.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.ALLERGY,
        object_id=str(allergy.public_id),
        patient_id=patient.pk,
        detail={"substance": allergy.substance, "coded": allergy.coded, "severity": severity},
    )
    return allergy
