"""FHIR for the clinical record and prescribing: MedicationRequest, Condition, AllergyIntolerance, Encounter.

Clinical content: a record is read through the clinical selectors (clinical.selectors, prescribing.selectors),
which answer 404, audited, to anyone who may not see it, including staff who may see the patient but not
the clinical record. Searches find only records of patients the user may see clinically (an empty Bundle
for reception). Creates fetch the patient through the access layer and call one service, which decides
who may record or prescribe (403) and what is allowed (422).

Prescribing's safety warnings: a MedicationRequest create that trips them answers 422 with one
OperationOutcome issue per warning (code business-rule, details.coding the warning's kind in
systems.SAFETY_WARNING). The prescriber overrides a warning by sending the same MedicationRequest with a
contained DetectedIssue for it (code: the kind, in the same system; mitigation[0].action.text: the reason)
referenced from MedicationRequest.detectedIssue as "#<id>"; that create answers 201.
"""

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import pydantic
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance as FhirAllergyIntolerance
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition as FhirCondition
from fhir.resources.R4B.medicationrequest import MedicationRequest as FhirMedicationRequest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from carebridge.access.rules import viewer_of, visible_patients
from carebridge.access.selectors import patient_record_for
from carebridge.audit.models import AuditObject
from carebridge.clinical import services as clinical_services
from carebridge.clinical.codes import SNOMED_CT
from carebridge.clinical.models import Allergy, AllergySeverity, Condition, ConditionStatus, Consultation
from carebridge.clinical.selectors import (
    allergy_for,
    condition_for,
    condition_named,
    consultation_for,
    consultation_named,
)
from carebridge.core.errors import Invalid
from carebridge.fhir import resources, systems
from carebridge.fhir.interactions import (
    _COUNT,
    JSON_PATCH,
    JSON_TYPES,
    MERGE_PATCH,
    Call,
    ResourceSupport,
    SearchParam,
    _alternatives,
    _body,
    _bundle_response,
    _id_filter,
    _values,
    apply_patch,
)
from carebridge.fhir.outcomes import bad_request, fhir_response, unprocessable
from carebridge.fhir.search import date_filter, reference_id, refuse_foreign_references, token
from carebridge.patients.models import Patient
from carebridge.prescribing import services as prescribing
from carebridge.prescribing.formulary import DMD, MEDICINES
from carebridge.prescribing.models import Course, Prescription
from carebridge.prescribing.safety import SafetyWarning, WarningKind
from carebridge.prescribing.selectors import prescription_for

Model = TypeVar("Model", bound=Resource)

# Where in each resource the inputs a service names in a refusal (core.errors.Invalid.fields) came from,
# for the OperationOutcome's expression: (resource type, create?) -> {field: FHIRPath}.
FIELD_PATHS: dict[tuple[str, bool], dict[str, str]] = {
    ("MedicationRequest", True): {
        "condition": "MedicationRequest.reasonReference",
        "medicine": "MedicationRequest.medicationCodeableConcept",
        "dose_value": "MedicationRequest.dosageInstruction.doseAndRate.doseQuantity",
        "dose_unit": "MedicationRequest.dosageInstruction.doseAndRate.doseQuantity",
        "frequency": "MedicationRequest.dosageInstruction.timing",
        "duration_days": "MedicationRequest.dispenseRequest.expectedSupplyDuration",
        "quantity_value": "MedicationRequest.dispenseRequest.quantity",
        "quantity_unit": "MedicationRequest.dispenseRequest.quantity",
        "course": "MedicationRequest.courseOfTherapyType",
        "issues_allowed": "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed",
        "review_date": "MedicationRequest.extension",
    },
    ("MedicationRequest", False): {"reason": "MedicationRequest.statusReason"},
    ("Condition", True): {"condition_code": "Condition.code"},
    ("AllergyIntolerance", True): {"substance": "AllergyIntolerance.code", "severity": "AllergyIntolerance.reaction"},
}


# --- Shared pieces ------------------------------------------------------------------------------------


def _model(model_class: type[Model], data: Any) -> Model:
    """Validate a body as an R4 resource of `model_class` (400 if it is not one)."""
    name = model_class.get_resource_type()
    if not isinstance(data, dict) or data.get("resourceType") != name:
        raise bad_request(f"The body must be a {name} resource (resourceType {name}).")
    try:
        return model_class.model_validate(data)
    except pydantic.ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False):
            where = ".".join(str(part) for part in problem["loc"])
            problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
        raise bad_request(f"The {name} is not valid FHIR R4: " + "; ".join(problems)) from None


def _json(resource: Resource) -> dict:
    return json.loads(resource.model_dump_json())


def _referenced(ref: Reference | None, resource_type: str, path: str) -> str:
    """The id a reference names, which must be a `resource_type`; 422 otherwise."""
    found = reference_id(ref.reference, resource_type) if ref is not None and ref.reference else None
    if found is None:
        raise unprocessable(f"Name the {resource_type.lower()} as {resource_type}/<id>.", expression=[path])
    return str(found)


def _words(concept: CodeableConcept | None) -> str:
    """A concept in words: its text, else its first coding's display or code."""
    if concept is None:
        return ""
    if concept.text and concept.text.strip():
        return concept.text.strip()
    for coding in concept.coding or []:
        if (coding.display or coding.code or "").strip():
            return (coding.display or coding.code).strip()
    return ""


def _code_in(concept: CodeableConcept | None, *systems_: str) -> str | None:
    for coding in (concept.coding or []) if concept is not None else []:
        if coding.system in systems_ and coding.code:
            return coding.code
    return None


def _clinical_patients(call: Call) -> QuerySet[Patient]:
    """Patients whose clinical record the user may see: none for non-clinical staff."""
    if not viewer_of(call.user).sees_clinical:
        return Patient.objects.none()
    return visible_patients(Patient.objects.all(), call.user)


def _created(call: Call, resource: Resource) -> HttpResponse:
    location = f"{call.base_url}{resource.get_resource_type()}/{resource.id}"
    return fhir_response(resource, status=201, Location=location)


def _patched(call: Call, current: dict, resource_id: str, name: str) -> Any:
    body = _body(call, accepted=(JSON_PATCH, MERGE_PATCH, *JSON_TYPES))
    patched = apply_patch(current, body, content_type=call.request.content_type)
    if not isinstance(patched, dict) or patched.get("id") != resource_id:
        raise bad_request(f"A patch cannot change the {name}'s id.", expression=[f"{name}.id"])
    return patched


def _put_body(call: Call, resource_id: str, name: str) -> Any:
    data = _body(call)
    if not isinstance(data, dict) or data.get("id") != resource_id:
        raise bad_request(f"The {name}'s id must be the id in the URL.", expression=[f"{name}.id"])
    return data


# --- MedicationRequest -------------------------------------------------------------------------------------

_STATUSES = ("active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown")
# Which prescriptions each MedicationRequest.status finds (the statuses Carebridge never uses find none).
_PRESCRIPTIONS_WITH_STATUS = {
    status: [kept for kept, shown in resources.MEDICATION_REQUEST_STATUS.items() if shown == status]
    for status in _STATUSES
}
_DMD_CODES = {medicine.dmd_code: medicine.key for medicine in MEDICINES if medicine.dmd_code}
_MAX_DOSE_DIGITS = 8  # Prescription's decimals: 12 digits, 4 after the point


def safety_outcome(warnings: list[SafetyWarning]) -> OperationOutcome:
    """The 422 for a prescription the checks stopped: one issue per warning, its kind coded."""
    return OperationOutcome(
        issue=[
            {
                "severity": "error",
                "code": "business-rule",
                "details": {
                    "coding": [{"system": systems.SAFETY_WARNING, "code": warning.kind.value}],
                    "text": warning.message,
                },
                "expression": ["MedicationRequest"],
            }
            for warning in warnings
        ]
    )


def _prescriptions() -> QuerySet[Prescription]:
    return Prescription.objects.select_related(
        "patient", "prescriber", "condition", "consultation", "previous"
    ).prefetch_related("overrides__overridden_by")


def _reloaded(prescription: Prescription) -> Prescription:
    # Services hand back the row they locked, without its relations: one query to show it whole.
    return _prescriptions().get(pk=prescription.pk)


def medication_request_read(call: Call, resource_id: str) -> HttpResponse:
    prescription, _ = prescription_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(resources.medication_request_resource(prescription))


def medication_request_search(call: Call) -> HttpResponse:
    found = _prescriptions().filter(patient__in=_clinical_patients(call))
    found = found.filter(_id_filter(call, "patient", "patient__public_id", "Patient"))
    for alternatives in _alternatives(call, "status"):
        either: list[str] = []
        for status in alternatives:
            if status not in _PRESCRIPTIONS_WITH_STATUS:
                raise bad_request(
                    f"status={status}: a MedicationRequest's status is one of {', '.join(_STATUSES)}.",
                    expression=["status"],
                )
            either += _PRESCRIPTIONS_WITH_STATUS[status]
        found = found.filter(status__in=either)
    for value in _values(call, "authoredon"):
        found = found.filter(date_filter("prescribed_on", value, parameter="authoredon", date_only=True))
    found = found.filter(_id_filter(call, "_id", "public_id", "MedicationRequest"))
    return _bundle_response(
        call,
        found.order_by("-prescribed_on", "-pk"),
        resources.medication_request_resource,
        audit_as=AuditObject.PRESCRIPTION,
    )


def _decimal(value: Decimal | None, field: str, words: str) -> Decimal | None:
    """A quantity as the prescription keeps it (at most 4 places), or a refusal naming the input."""
    if value is None:
        return None
    try:
        exact = Decimal(value)
        if exact != exact.quantize(Decimal("0.0001")) or abs(exact) >= 10**_MAX_DOSE_DIGITS:
            raise InvalidOperation
    except InvalidOperation:
        raise Invalid(f"Give the {words} with at most 4 decimal places.", fields={field: words}) from None
    return exact


def _medicine(model: FhirMedicationRequest) -> str:
    if model.medicationReference is not None:
        raise unprocessable(
            "Name the medicine in medicationCodeableConcept (its text, or a dm+d coding); "
            "medicationReference is not supported.",
            expression=["MedicationRequest.medication"],
        )
    concept = model.medicationCodeableConcept
    code = _code_in(concept, DMD)
    if code in _DMD_CODES:
        return _DMD_CODES[code]
    return _words(concept)


def _frequency(dosage) -> str:
    if dosage is None:
        return ""
    timing = dosage.timing
    if timing is not None:
        if named := _words(timing.code):
            return named
        if timing.repeat is not None:
            return resources.frequency_from_timing(_json(timing.repeat)) or ""
    return resources.AS_REQUIRED if dosage.asNeededBoolean else ""


def _days(duration) -> int:
    if duration is None or duration.value is None:
        return 0  # the service asks for the duration
    per_unit = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}.get(duration.code or duration.unit or "d")
    days = duration.value * per_unit if per_unit else None
    if days is None or days != int(days):
        raise unprocessable(
            "Give expectedSupplyDuration as a whole number of days (code d).",
            expression=["MedicationRequest.dispenseRequest.expectedSupplyDuration"],
        )
    return int(days)


def _review_date(model: FhirMedicationRequest) -> dt.date | None:
    for extension in model.extension or []:
        if extension.url != systems.UKCORE_REPEAT_INFORMATION:
            continue
        for part in extension.extension or []:
            if part.url == "authorisationExpiryDate" and part.valueDateTime is not None:
                value = part.valueDateTime
                return value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])
    return None


def _overrides(model: FhirMedicationRequest) -> dict[str, str]:
    """{warning kind: reason} from the contained DetectedIssues that detectedIssue references."""
    contained = {
        resource.id: resource for resource in model.contained or [] if resource.get_resource_type() == "DetectedIssue"
    }
    kinds = {kind.value for kind in WarningKind}
    overrides: dict[str, str] = {}
    for ref in model.detectedIssue or []:
        target = (ref.reference or "").strip()
        issue = contained.get(target[1:]) if target.startswith("#") else None
        if issue is None:
            raise unprocessable(
                f"detectedIssue {target or '(empty)'}: send each override as a contained DetectedIssue, "
                'referenced as "#<its id>".',
                expression=["MedicationRequest.detectedIssue"],
            )
        kind = _code_in(issue.code, systems.SAFETY_WARNING)
        if kind not in kinds:
            raise unprocessable(
                f"DetectedIssue {issue.id}: its code must name a safety warning in {systems.SAFETY_WARNING} "
                f"({', '.join(sorted(kinds))}).",
                expression=["MedicationRequest.contained"],
            )
        mitigation = (issue.mitigation or [None])[0]
        # No reason is no override: the service then answers with the warning again.
        overrides[kind] = (mitigation.action.text or "").strip() if mitigation and mitigation.action else ""
    return overrides


def medication_request_create(call: Call) -> HttpResponse:
    """Prescribe: prescribing.services.prescription_issue, with the overrides the DetectedIssues carry."""
    model = _model(FhirMedicationRequest, _body(call))
    refuse_foreign_references(model, call.base_url)
    if model.status != "active" or model.intent != "order":
        raise unprocessable(
            f"A prescription is created with status active and intent order, not {model.status} and {model.intent}.",
            expression=["MedicationRequest.status", "MedicationRequest.intent"],
        )
    patient_id = _referenced(model.subject, "Patient", "MedicationRequest.subject")
    overrides = _overrides(model)
    access = patient_record_for(actor=call.actor, public_id=patient_id, purpose="prescribing")
    patient = access.patient
    conditions = [ref for ref in model.reasonReference or [] if reference_id(ref.reference or "", "Condition")]
    # No condition named: the service says that every prescription must name one.
    condition = condition_named(patient, reference_id(conditions[0].reference, "Condition")) if conditions else None
    consultation = None
    if model.encounter is not None:
        consultation = consultation_named(patient, reference_id(model.encounter.reference or "", "Encounter"))
        if consultation is None:
            raise unprocessable(
                "The encounter is not one of this patient's consultations.", expression=["MedicationRequest.encounter"]
            )
    if len(model.dosageInstruction or []) > 1:
        raise unprocessable("Give one dosage instruction.", expression=["MedicationRequest.dosageInstruction"])
    dosage = (model.dosageInstruction or [None])[0]
    dose = None
    if dosage is not None and dosage.doseAndRate:
        dose = dosage.doseAndRate[0].doseQuantity
    dispense = model.dispenseRequest
    quantity = dispense.quantity if dispense is not None else None
    course = _code_in(model.courseOfTherapyType, systems.COURSE_OF_THERAPY, systems.NHS_COURSE_OF_THERAPY)
    if course is None and model.courseOfTherapyType is not None:
        course = _words(model.courseOfTherapyType)  # the service names the courses it knows
    repeats = dispense.numberOfRepeatsAllowed if dispense is not None else None
    performer = dispense.performer if dispense is not None else None
    order = prescribing.Order(
        medicine=_medicine(model),
        dose_value=_decimal(dose.value if dose else None, "dose_value", "dose") or Decimal(0),
        dose_unit=(dose.unit or dose.code or "") if dose else "",
        frequency=_frequency(dosage),
        duration_days=_days(dispense.expectedSupplyDuration if dispense is not None else None),
        quantity_value=_decimal(quantity.value if quantity else None, "quantity_value", "quantity"),
        quantity_unit=(quantity.unit or "") if quantity else "",
        instructions=(dosage.patientInstruction or "") if dosage is not None else "",
    )
    prescription = prescribing.prescription_issue(
        actor=call.actor,
        patient=patient,
        condition=condition,
        order=order,
        pharmacy=performer.display if performer is not None and performer.display else None,
        course=course or Course.ACUTE,
        issues_allowed=repeats + 1 if repeats is not None else 1,
        review_date=_review_date(model),
        consultation=consultation,
        overrides=overrides,
    )
    return _created(call, resources.medication_request_resource(_reloaded(prescription)))


# Everything but these must be as it is: only a cancellation can be made by PUT or PATCH.
_CHANGEABLE = {"status", "statusReason", "meta", "text"}


def _apply_medication_change(call: Call, prescription: Prescription, model: FhirMedicationRequest) -> HttpResponse:
    refuse_foreign_references(model, call.base_url)
    current = _json(resources.medication_request_resource(prescription))
    proposed = _json(model)
    changed = sorted(
        key for key in (set(current) | set(proposed)) - _CHANGEABLE if current.get(key) != proposed.get(key)
    )
    if changed:
        raise unprocessable(
            "Only cancellation is supported (status cancelled, with a statusReason): this changes "
            + ", ".join(changed)
            + ".",
            expression=[f"MedicationRequest.{key}" for key in changed],
        )
    if model.status == current["status"]:
        return fhir_response(resources.medication_request_resource(prescription))
    if model.status != "cancelled":
        raise unprocessable(
            f"Only cancellation is supported (status cancelled, with a statusReason); status {model.status} "
            "cannot be set here. Dispensing and collection are recorded through the REST API.",
            expression=["MedicationRequest.status"],
        )
    cancelled = prescribing.prescription_cancel(
        actor=call.actor, prescription=prescription, reason=_words(model.statusReason)
    )
    return fhir_response(resources.medication_request_resource(_reloaded(cancelled)))


def medication_request_update(call: Call, resource_id: str) -> HttpResponse:
    prescription, _ = prescription_for(actor=call.actor, public_id=resource_id, purpose="fhir update")
    data = _put_body(call, resource_id, "MedicationRequest")
    return _apply_medication_change(call, prescription, _model(FhirMedicationRequest, data))


def medication_request_patch(call: Call, resource_id: str) -> HttpResponse:
    prescription, _ = prescription_for(actor=call.actor, public_id=resource_id, purpose="fhir update")
    current = _json(resources.medication_request_resource(prescription))
    patched = _patched(call, current, resource_id, "MedicationRequest")
    return _apply_medication_change(call, prescription, _model(FhirMedicationRequest, patched))


# --- Condition --------------------------------------------------------------------------------------------


def condition_read(call: Call, resource_id: str) -> HttpResponse:
    condition, _ = condition_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(resources.condition_resource(condition))


# R4's condition-clinical codes; Carebridge records active and resolved, the others find nothing.
_CLINICAL_STATUSES = ("active", "recurrence", "relapse", "inactive", "remission", "resolved")


def condition_search(call: Call) -> HttpResponse:
    found = Condition.objects.select_related("patient", "recorded_by").filter(patient__in=_clinical_patients(call))
    found = found.filter(_id_filter(call, "patient", "patient__public_id", "Patient"))
    for alternatives in _alternatives(call, "clinical-status"):
        statuses = [token(value)[1] for value in alternatives]
        for status in statuses:
            if status not in _CLINICAL_STATUSES:
                raise bad_request(
                    f"clinical-status={status}: a Condition's clinical status is one of "
                    f"{', '.join(_CLINICAL_STATUSES)}.",
                    expression=["clinical-status"],
                )
        found = found.filter(status__in=statuses)
    for alternatives in _alternatives(call, "code"):
        either = Q(pk__in=[])
        for value in alternatives:
            system, code = token(value)
            if system in (None, SNOMED_CT):
                either |= Q(code=code) & ~Q(code="")
        found = found.filter(either)
    found = found.filter(_id_filter(call, "_id", "public_id", "Condition"))
    return _bundle_response(
        call,
        found.order_by("status", "-recorded_at", "pk"),
        resources.condition_resource,
        audit_as=AuditObject.CONDITION,
    )


def condition_create(call: Call) -> HttpResponse:
    """Add a problem: a SNOMED CT coding from the coded list, or code.text for an uncoded one. Active only."""
    model = _model(FhirCondition, _body(call))
    refuse_foreign_references(model, call.base_url)
    status = _code_in(model.clinicalStatus, systems.CONDITION_CLINICAL)
    if model.clinicalStatus is not None and status != ConditionStatus.ACTIVE:
        raise unprocessable(
            "A problem is added as active (clinicalStatus active); resolve it afterwards.",
            expression=["Condition.clinicalStatus"],
        )
    patient_id = _referenced(model.subject, "Patient", "Condition.subject")
    access = patient_record_for(actor=call.actor, public_id=patient_id, purpose="fhir condition")
    code = _code_in(model.code, SNOMED_CT) or ""
    condition = clinical_services.condition_record(
        actor=call.actor, patient=access.patient, code=code, text="" if code else _words(model.code)
    )
    condition = Condition.objects.select_related("patient", "recorded_by").get(pk=condition.pk)
    return _created(call, resources.condition_resource(condition))


# --- AllergyIntolerance -----------------------------------------------------------------------------------


def allergy_read(call: Call, resource_id: str) -> HttpResponse:
    allergy, _ = allergy_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(resources.allergy_resource(allergy))


def allergy_search(call: Call) -> HttpResponse:
    found = Allergy.objects.select_related("patient", "recorded_by").filter(patient__in=_clinical_patients(call))
    found = found.filter(_id_filter(call, "patient", "patient__public_id", "Patient"))
    found = found.filter(_id_filter(call, "_id", "public_id", "AllergyIntolerance"))
    return _bundle_response(
        call, found.order_by("display", "pk"), resources.allergy_resource, audit_as=AuditObject.ALLERGY
    )


def allergy_create(call: Call) -> HttpResponse:
    """Record an allergy: a coding in systems.FORMULARY_VOCABULARY (what the safety checks match), or
    code.text for free text; reaction[0].manifestation[0].text and reaction[0].severity."""
    model = _model(FhirAllergyIntolerance, _body(call))
    refuse_foreign_references(model, call.base_url)
    patient_id = _referenced(model.patient, "Patient", "AllergyIntolerance.patient")
    access = patient_record_for(actor=call.actor, public_id=patient_id, purpose="fhir allergy")
    substance = _code_in(model.code, systems.FORMULARY_VOCABULARY) or ""
    reaction = (model.reaction or [None])[0]
    words = _words(reaction.manifestation[0]) if reaction is not None and reaction.manifestation else ""
    allergy = clinical_services.allergy_record(
        actor=call.actor,
        patient=access.patient,
        substance=substance,
        text="" if substance else _words(model.code),
        reaction="" if words == resources.REACTION_NOT_RECORDED else words,
        severity=(reaction.severity if reaction is not None and reaction.severity else AllergySeverity.MODERATE),
    )
    allergy = Allergy.objects.select_related("patient", "recorded_by").get(pk=allergy.pk)
    return _created(call, resources.allergy_resource(allergy))


# --- Encounter ----------------------------------------------------------------------------------------------


def encounter_read(call: Call, resource_id: str) -> HttpResponse:
    consultation, _ = consultation_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(resources.encounter_resource(consultation))


def encounter_search(call: Call) -> HttpResponse:
    found = Consultation.objects.select_related("patient", "clinician", "facility", "condition", "appointment").filter(
        patient__in=_clinical_patients(call)
    )
    found = found.filter(_id_filter(call, "patient", "patient__public_id", "Patient"))
    for value in _values(call, "date"):
        found = found.filter(date_filter("started_at", value, parameter="date"))
    found = found.filter(_id_filter(call, "_id", "public_id", "Encounter"))
    return _bundle_response(
        call, found.order_by("-started_at", "pk"), resources.encounter_resource, audit_as=AuditObject.CONSULTATION
    )


# --- The resource types -------------------------------------------------------------------------------------


def _params(*triples: tuple[str, str, str]) -> tuple[SearchParam, ...]:
    return tuple(SearchParam(*triple) for triple in triples)


_CLINICAL_ONLY = "Clinical content: 404 to anyone who may not see the patient's clinical record, reception included."

CLINICAL: dict[str, ResourceSupport] = {
    "MedicationRequest": ResourceSupport(
        read=medication_request_read,
        search=medication_request_search,
        create=medication_request_create,
        update=medication_request_update,
        patch=medication_request_patch,
        documentation=(
            f"Prescriptions. {_CLINICAL_ONLY} Create prescribes (doctors and prescribing nurses; 403 otherwise): "
            "subject, reasonReference Condition/<id> (required), medicationCodeableConcept, one dosageInstruction, "
            "dispenseRequest. A safety warning answers 422, one issue per warning, its kind coded in "
            f"{systems.SAFETY_WARNING}; override by sending contained DetectedIssues (code: the kind; "
            "mitigation[0].action.text: the reason) referenced from detectedIssue as #<id>. PUT or PATCH cancels "
            "(status cancelled, statusReason.text). Status: issued is active, dispensed and collected are "
            "completed, cancelled is cancelled."
        ),
        search_params=_params(
            ("patient", "reference", "Patient/<id>"),
            ("status", "token", "active | completed | cancelled (comma for either)"),
            ("authoredon", "date", "The day it was prescribed, with eq, ne, gt, ge, lt, le, sa, eb prefixes"),
            ("_id", "token", "The MedicationRequest id"),
            _COUNT,
        ),
    ),
    "Condition": ResourceSupport(
        read=condition_read,
        search=condition_search,
        create=condition_create,
        documentation=(
            f"The problem list. {_CLINICAL_ONLY} Create (clinicians) with subject and code: a SNOMED CT coding "
            "from Carebridge's coded list, or code.text for an uncoded problem; clinicalStatus active."
        ),
        search_params=_params(
            ("patient", "reference", "Patient/<id>"),
            ("clinical-status", "token", "active | resolved"),
            ("code", "token", f"{SNOMED_CT}|<concept id>"),
            ("_id", "token", "The Condition id"),
            _COUNT,
        ),
    ),
    "AllergyIntolerance": ResourceSupport(
        read=allergy_read,
        search=allergy_search,
        create=allergy_create,
        documentation=(
            f"Allergies and intolerances. {_CLINICAL_ONLY} Create (clinicians) with patient and code: a coding "
            f"in {systems.FORMULARY_VOCABULARY} (a medicine, class or substance the safety checks know), or "
            "code.text as free text; reaction[0].manifestation[0].text and reaction[0].severity."
        ),
        search_params=_params(
            ("patient", "reference", "Patient/<id>"), ("_id", "token", "The AllergyIntolerance id"), _COUNT
        ),
    ),
    "Encounter": ResourceSupport(
        read=encounter_read,
        search=encounter_search,
        documentation=(f"Consultations (class AMB). {_CLINICAL_ONLY} The clinician's notes are in the REST API."),
        search_params=_params(
            ("patient", "reference", "Patient/<id>"),
            ("date", "date", "When the consultation started, with prefixes"),
            ("_id", "token", "The Encounter id"),
            _COUNT,
        ),
    ),
}
