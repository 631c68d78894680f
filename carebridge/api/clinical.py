"""The REST API's clinical record and prescribing: consultations, problems, allergies, prescriptions and
repeat requests (mounted on the API in api.py, tags "clinical" and "prescriptions").

As the appointment endpoints: fetch through the selectors (clinical.selectors, prescribing.selectors),
which answer 404, audited, for anything missing or not visible, and for clinical content to anyone who
may not see it (reception sees the patient, never their consultations or medicines); then one service,
which decides who may act (403) and what is allowed (422). A prescription the safety checks stop is 422
with code "safety-warning" and the warnings; send it again with `overrides` {kind: reason} to go ahead.
"""

import uuid

from django.http import HttpRequest
from ninja import Router, Status

from carebridge.access.selectors import patient_record_for
from carebridge.api import schemas
from carebridge.api.auth import actor_for
from carebridge.clinical import services as clinical_services
from carebridge.clinical.models import Allergy, Condition, Consultation
from carebridge.clinical.selectors import (
    clinical_access_for,
    clinical_record,
    condition_for,
    condition_named,
    consultation_for,
    consultation_named,
)
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid
from carebridge.organisations.models import Clinician
from carebridge.prescribing import services as prescribing
from carebridge.prescribing.models import Prescription, RepeatRequest, format_quantity
from carebridge.prescribing.selectors import (
    prescription_for,
    prescription_shown_whole,
    prescriptions_of,
    repeat_queue_for,
    repeat_request_for,
)
from carebridge.scheduling.selectors import appointment_for

router = Router()

NOT_FOUND = {404: schemas.Error}
REFUSALS = {403: schemas.Error, 404: schemas.Error, 422: schemas.Refusal}


def _actor(request: HttpRequest) -> Actor:
    return actor_for(request, request.auth, "api")


# --- Shapes ---------------------------------------------------------------------------------------


def _named(public_id: uuid.UUID, name: str) -> dict:
    return {"id": public_id, "name": name}


def _clinician(clinician: Clinician) -> dict:
    return _named(clinician.public_id, clinician.display_name)


def _condition_out(condition: Condition) -> dict:
    return {
        "id": condition.public_id,
        "code": condition.code,
        "display": condition.display,
        "coded": condition.coded,
        "status": condition.status,
        "recorded_at": condition.recorded_at,
        "recorded_by": _clinician(condition.recorded_by),
        "resolved_at": condition.resolved_at,
    }


def _allergy_out(allergy: Allergy) -> dict:
    return {
        "id": allergy.public_id,
        "substance": allergy.substance,
        "display": allergy.display,
        "coded": allergy.coded,
        "reaction": allergy.reaction,
        "severity": allergy.severity,
        "recorded_at": allergy.recorded_at,
        "recorded_by": _clinician(allergy.recorded_by),
    }


def _consultation_out(consultation: Consultation) -> dict:
    patient = consultation.patient
    return {
        "id": consultation.public_id,
        "patient": _named(patient.public_id, patient.full_name),
        "clinician": _clinician(consultation.clinician),
        "facility": _named(consultation.facility.public_id, consultation.facility.name),
        "appointment": consultation.appointment.public_id if consultation.appointment_id else None,
        "started_at": consultation.started_at,
        "symptoms": consultation.symptoms,
        "findings": consultation.findings,
        "assessment": consultation.assessment,
        "plan": consultation.plan,
        "condition": _condition_out(consultation.condition) if consultation.condition_id else None,
    }


def _prescription_out(prescription: Prescription) -> dict:
    patient = prescription.patient
    return {
        "id": prescription.public_id,
        "patient": _named(patient.public_id, patient.full_name),
        "prescriber": _clinician(prescription.prescriber),
        "prescribed_on": prescription.prescribed_on,
        "medicine": prescription.medication_name,
        "medicine_key": prescription.medicine_key,
        "dose_value": format_quantity(prescription.dose_value),
        "dose_unit": prescription.dose_unit,
        "frequency": prescription.frequency,
        "duration_days": prescription.duration_days,
        "quantity_value": format_quantity(prescription.quantity_value),
        "quantity_unit": prescription.quantity_unit,
        "instructions": prescription.instructions,
        "pharmacy": prescription.pharmacy_name,
        "status": prescription.status,
        "collection_date": prescription.collection_date,
        "cancellation_reason": prescription.cancellation_reason,
        "condition": (
            _named(prescription.condition.public_id, prescription.condition.display)
            if prescription.condition_id
            else None
        ),
        "consultation": prescription.consultation.public_id if prescription.consultation_id else None,
        "course": prescription.course,
        "issues_allowed": prescription.issues_allowed,
        "issue_number": prescription.issue_number,
        "review_date": prescription.review_date,
        "previous": prescription.previous.public_id if prescription.previous_id else None,
        "overrides": [
            {
                "kind": override.kind,
                "message": override.message,
                "reason": override.reason,
                "overridden_by": _clinician(override.overridden_by),
                "overridden_at": override.overridden_at,
            }
            for override in prescription.overrides.all()
        ],
    }


def _repeat_request_out(request: RepeatRequest) -> dict:
    patient = request.patient
    return {
        "id": request.public_id,
        "prescription": request.prescription.public_id,
        "medicine": request.prescription.medication_name,
        "patient": _named(patient.public_id, patient.full_name),
        "surgery": _named(request.surgery.public_id, request.surgery.name),
        "note": request.note,
        "requested_at": request.requested_at,
        "status": request.status,
        "refusal_reason": request.refusal_reason,
        "decided_by": _clinician(request.decided_by) if request.decided_by_id else None,
        "decided_at": request.decided_at,
        "issued": request.issued.public_id if request.issued_id else None,
    }


# Services hand back the row they wrote or locked, without its relations: one query to show it whole.


def _repeat_request_reloaded(request: RepeatRequest) -> RepeatRequest:
    return RepeatRequest.objects.select_related("patient", "prescription", "surgery", "decided_by", "issued").get(
        pk=request.pk
    )


# --- Consultations, problems and allergies ---------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/consultations",
    response={200: list[schemas.ConsultationOut], **NOT_FOUND},
    tags=["clinical"],
    summary="A patient's consultations, newest first (clinical: 404 to non-clinical staff)",
)
def consultations(request: HttpRequest, patient_id: str):
    access = clinical_access_for(actor=_actor(request), public_id=patient_id, purpose="api consultations")
    record = clinical_record(access, consultations=100)
    assert record is not None
    return [_consultation_out(consultation) for consultation in record.consultations]


@router.post(
    "/patients/{patient_id}/consultations",
    response={201: schemas.ConsultationOut, **REFUSALS},
    tags=["clinical"],
    summary="Record a consultation (clinicians)",
)
def consultation_record(request: HttpRequest, patient_id: str, payload: schemas.ConsultationIn):
    """The patient's account, findings, assessment, plan, and the condition treated (coded from the list,
    or in words), which joins the problem list. 403 for anyone but a clinician who may see the patient."""
    actor = _actor(request)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="consultation")
    appointment = None
    if payload.appointment is not None:
        appointment, _ = appointment_for(actor=actor, public_id=payload.appointment, purpose="consultation")
    recorded = clinical_services.consultation_record(
        actor=actor,
        patient=access.patient,
        symptoms=payload.symptoms,
        findings=payload.findings,
        assessment=payload.assessment,
        plan=payload.plan,
        condition_code=payload.condition_code,
        condition_text=payload.condition_text,
        appointment=appointment,
    )
    recorded = Consultation.objects.select_related(
        "patient", "clinician", "facility", "appointment", "condition__recorded_by"
    ).get(pk=recorded.pk)
    return Status(201, _consultation_out(recorded))


@router.get(
    "/consultations/{consultation_id}",
    response={200: schemas.ConsultationOut, **NOT_FOUND},
    tags=["clinical"],
    summary="One consultation",
)
def consultation(request: HttpRequest, consultation_id: str):
    found, _ = consultation_for(actor=_actor(request), public_id=consultation_id, purpose="api")
    return _consultation_out(found)


@router.get(
    "/patients/{patient_id}/allergies",
    response={200: list[schemas.AllergyOut], **NOT_FOUND},
    tags=["clinical"],
    summary="A patient's allergies and intolerances",
)
def allergies(request: HttpRequest, patient_id: str):
    access = clinical_access_for(actor=_actor(request), public_id=patient_id, purpose="api allergies")
    record = clinical_record(access, consultations=0)
    assert record is not None
    return [_allergy_out(allergy) for allergy in record.allergies]


@router.post(
    "/patients/{patient_id}/allergies",
    response={201: schemas.AllergyOut, **REFUSALS},
    tags=["clinical"],
    summary="Record an allergy or intolerance (clinicians)",
)
def allergy_record(request: HttpRequest, patient_id: str, payload: schemas.AllergyIn):
    """A substance from the list (a medicine, class or substance the safety checks match), or in words."""
    actor = _actor(request)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="allergy")
    recorded = clinical_services.allergy_record(
        actor=actor,
        patient=access.patient,
        substance=payload.substance,
        text=payload.text,
        reaction=payload.reaction,
        severity=payload.severity,
    )
    return Status(201, _allergy_out(Allergy.objects.select_related("recorded_by").get(pk=recorded.pk)))


@router.get(
    "/patients/{patient_id}/conditions",
    response={200: list[schemas.ConditionOut], **NOT_FOUND},
    tags=["clinical"],
    summary="A patient's problem list: active, then resolved",
)
def conditions(request: HttpRequest, patient_id: str):
    access = clinical_access_for(actor=_actor(request), public_id=patient_id, purpose="api problems")
    record = clinical_record(access, consultations=0)
    assert record is not None
    return [_condition_out(condition) for condition in record.active_problems + record.resolved_problems]


@router.post(
    "/patients/{patient_id}/conditions",
    response={201: schemas.ConditionOut, **REFUSALS},
    tags=["clinical"],
    summary="Add a problem (clinicians): coded, or in words",
)
def condition_record(request: HttpRequest, patient_id: str, payload: schemas.ConditionIn):
    """A coded condition already active on the list is answered with that entry, not added twice."""
    actor = _actor(request)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="problem")
    recorded = clinical_services.condition_record(
        actor=actor, patient=access.patient, code=payload.code, text=payload.text
    )
    return Status(201, _condition_out(Condition.objects.select_related("recorded_by").get(pk=recorded.pk)))


@router.post(
    "/conditions/{condition_id}/resolve",
    response={200: schemas.ConditionOut, **REFUSALS},
    tags=["clinical"],
    summary="Mark a problem resolved (clinicians)",
)
def condition_resolve(request: HttpRequest, condition_id: str):
    actor = _actor(request)
    found, _ = condition_for(actor=actor, public_id=condition_id, purpose="api resolve")
    resolved = clinical_services.condition_resolve(actor=actor, condition=found)
    return _condition_out(Condition.objects.select_related("recorded_by").get(pk=resolved.pk))


# --- Prescriptions ---------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/prescriptions",
    response={200: list[schemas.PrescriptionOut], **NOT_FOUND},
    tags=["prescriptions"],
    summary="A patient's prescriptions, newest first, with any safety overrides",
)
def prescriptions(request: HttpRequest, patient_id: str):
    access = clinical_access_for(actor=_actor(request), public_id=patient_id, purpose="api prescriptions")
    found = prescriptions_of(access)
    assert found is not None
    return [_prescription_out(prescription) for prescription in found]


@router.get(
    "/prescriptions/{prescription_id}",
    response={200: schemas.PrescriptionOut, **NOT_FOUND},
    tags=["prescriptions"],
    summary="One prescription",
)
def prescription(request: HttpRequest, prescription_id: str):
    found, _ = prescription_for(actor=_actor(request), public_id=prescription_id, purpose="api")
    return _prescription_out(found)


@router.post(
    "/prescriptions",
    response={201: schemas.PrescriptionOut, **REFUSALS},
    tags=["prescriptions"],
    summary="Prescribe, after the safety checks (doctors and prescribing nurses)",
)
def prescribe(request: HttpRequest, payload: schemas.PrescriptionIn):
    """201 with the prescription. 422 with code `safety-warning` and `warnings` [{kind, message}] when the
    checks stop it: send it again with `overrides` {kind: reason} for each warning to go ahead (the reasons
    are kept on the prescription). 422 with code `invalid` for anything else the rules refuse (no
    condition, an impossible dose or duration); 403 for someone who may see the patient but not prescribe."""
    actor = _actor(request)
    access = patient_record_for(actor=actor, public_id=payload.patient, purpose="prescribing")
    patient = access.patient
    consultation = consultation_named(patient, payload.consultation)
    if payload.consultation is not None and consultation is None:
        raise Invalid(
            "That consultation is not one of this patient's.",
            fields={"consultation": "Choose one of the patient's consultations."},
        )
    issued = prescribing.prescription_issue(
        actor=actor,
        patient=patient,
        # Handed to the service unseen: it checks who is asking before it looks at the problem.
        condition=condition_named(patient, payload.condition),
        order=prescribing.Order(
            medicine=payload.medicine,
            dose_value=payload.dose_value,
            dose_unit=payload.dose_unit,
            frequency=payload.frequency,
            duration_days=payload.duration_days,
            quantity_value=payload.quantity_value,
            quantity_unit=payload.quantity_unit,
            instructions=payload.instructions,
        ),
        pharmacy=payload.pharmacy,
        course=payload.course,
        issues_allowed=payload.issues_allowed,
        review_date=payload.review_date,
        consultation=consultation,
        overrides=payload.overrides,
    )
    return Status(201, _prescription_out(prescription_shown_whole(issued)))


@router.post(
    "/prescriptions/{prescription_id}/cancel",
    response={200: schemas.PrescriptionOut, **REFUSALS},
    tags=["prescriptions"],
    summary="Cancel, with a reason, before it is dispensed (clinicians at the prescribing surgery)",
)
def prescription_cancel(request: HttpRequest, prescription_id: str, payload: schemas.ReasonIn):
    actor = _actor(request)
    found, _ = prescription_for(actor=actor, public_id=prescription_id, purpose="api cancel")
    cancelled = prescribing.prescription_cancel(actor=actor, prescription=found, reason=payload.reason)
    return _prescription_out(prescription_shown_whole(cancelled))


@router.post(
    "/prescriptions/{prescription_id}/supply",
    response={200: schemas.PrescriptionOut, **REFUSALS},
    tags=["prescriptions"],
    summary="Record it dispensed or collected, on a day (clinicians at the prescribing surgery)",
)
def prescription_supply(request: HttpRequest, prescription_id: str, payload: schemas.SupplyIn):
    actor = _actor(request)
    found, _ = prescription_for(actor=actor, public_id=prescription_id, purpose="api supply")
    supplied = prescribing.prescription_record_supply(
        actor=actor, prescription=found, status=payload.status, on=payload.on
    )
    return _prescription_out(prescription_shown_whole(supplied))


@router.post(
    "/prescriptions/{prescription_id}/reissue",
    response={201: schemas.PrescriptionOut, **REFUSALS},
    tags=["prescriptions"],
    summary="Issue the next supply of a repeat (the checks run again)",
)
def prescription_reissue(request: HttpRequest, prescription_id: str, payload: schemas.OverridesIn):
    actor = _actor(request)
    found, _ = prescription_for(actor=actor, public_id=prescription_id, purpose="api reissue")
    issued = prescribing.prescription_reissue(actor=actor, prescription=found, overrides=payload.overrides)
    return Status(201, _prescription_out(prescription_shown_whole(issued)))


# --- Repeat requests ---------------------------------------------------------------------------------------


@router.post(
    "/prescriptions/{prescription_id}/repeat-requests",
    response={201: schemas.RepeatRequestOut, **REFUSALS},
    tags=["prescriptions"],
    summary="The patient asks for the next issue of a repeat",
)
def repeat_request(request: HttpRequest, prescription_id: str, payload: schemas.RepeatRequestIn):
    """It waits in the patient's surgery's queue until a prescriber there approves or refuses it."""
    actor = _actor(request)
    found, _ = prescription_for(actor=actor, public_id=prescription_id, purpose="api repeat request")
    asked = prescribing.repeat_request_create(actor=actor, prescription=found, note=payload.note)
    return Status(201, _repeat_request_out(_repeat_request_reloaded(asked)))


@router.get(
    "/repeat-requests",
    response=list[schemas.RepeatRequestOut],
    tags=["prescriptions"],
    summary="Repeat requests waiting at your surgery, oldest first (prescribers at a GP surgery)",
)
def repeat_requests(request: HttpRequest):
    """The queue of the surgery you prescribe at, for patients you may see; empty for anyone who does not
    work that queue (prescribers at a GP surgery), as the page is not there for them.
    The list is recorded in the audit trail against each patient on it."""
    return [_repeat_request_out(waiting) for waiting in repeat_queue_for(actor=_actor(request))]


@router.post(
    "/repeat-requests/{request_id}/approve",
    response={201: schemas.PrescriptionOut, **REFUSALS},
    tags=["prescriptions"],
    summary="Approve: issue the repeat asked for (prescribers at the patient's surgery)",
)
def repeat_approve(request: HttpRequest, request_id: str, payload: schemas.OverridesIn):
    """201 with the new prescription; the checks run again (422 safety-warning, as for prescribing)."""
    actor = _actor(request)
    found, _ = repeat_request_for(actor=actor, public_id=request_id, purpose="api approve")
    issued = prescribing.repeat_request_approve(actor=actor, request=found, overrides=payload.overrides)
    return Status(201, _prescription_out(prescription_shown_whole(issued)))


@router.post(
    "/repeat-requests/{request_id}/refuse",
    response={200: schemas.RepeatRequestOut, **REFUSALS},
    tags=["prescriptions"],
    summary="Refuse, with a reason the patient will read (prescribers at the patient's surgery)",
)
def repeat_refuse(request: HttpRequest, request_id: str, payload: schemas.ReasonIn):
    actor = _actor(request)
    found, _ = repeat_request_for(actor=actor, public_id=request_id, purpose="api refuse")
    refused = prescribing.repeat_request_refuse(actor=actor, request=found, reason=payload.reason)
    return _repeat_request_out(_repeat_request_reloaded(refused))
