"""FHIR for referrals: ServiceRequest (the referral), Task (the hospital's work on it), DocumentReference
(its letters and attachments), and the two messages one Carebridge sends another.

Reading. `ServiceRequest/{id}` and `Task/{id}` share the referral's id (one Task per referral). Both are
read through referrals.selectors, so they answer 404, audited, to anyone who may not see the patient,
and are cut to what the viewer may see: reception gets the administrative facts (UBRN, status, priority,
dates, who referred to whom) and none of the clinical content (reasonCode, note, orderDetail,
supportingInfo; Task.statusReason and the outcome). A patient reads their own referrals as the selector
cuts them (the reason and summary, no documents). A connected system reads nothing: every GET it makes
answers as to someone without access (views.py).

Making a referral (`POST ServiceRequest` with a token acting as a clinician at a GP surgery):
subject Patient/<id>; performer Organization/<hospital id> (and optionally Practitioner/<consultant id>);
code.text the hospital service (a speciality it offers); priority routine | urgent, with the e-RS
priority (ROUTINE | URGENT | TWO_WEEK_WAIT in systems.ERS_PRIORITY) in the extension
systems.ERS_PRIORITY_EXTENSION (valueCoding), which decides when present (two-week wait has no
ServiceRequest.priority of its own); reasonCode[0].text; note[].text the clinical summary;
orderDetail[].text one per investigation; attachments as contained DocumentReferences
(content[0].attachment.data base64, title the file name) referenced from supportingInfo as "#<id>";
optionally encounter Encounter/<consultation id>. The requester is the clinician the token acts as
(a requester in the body is ignored). referrals.services.referral_make decides the rest (422 with the
expression of what it refused). 201, Location ServiceRequest/<id>.

Updating the Task (`PUT`/`PATCH Task/{id}`, a doctor at the receiving hospital), by its status:
  accepted                                         -> triage: accept
  rejected + statusReason.text                     -> triage: reject, with the reason
  completed + businessStatus "returned to referrer with advice" + statusReason.text
                                                   -> triage: return to the GP with advice
  on-hold (businessStatus "more information requested") + statusReason.text
                                                   -> triage: ask for more information
  completed + output outcome (valueString) and clinic-letter (valueString, the letter's text)
                                                   -> the outcome (the clinic letter PDF is made here)
At triage the priority may change: input[] with type.coding REFERRAL_TASK_PARAMETER|priority
(valueCoding in ERS_PRIORITY, or valueCode routine | urgent | two_week_wait) and |priority-comment
(valueString, required with a change); |consultant (valueReference Practitioner/<id>) names the
consultant on acceptance. After triage the priority does not change. Booking is not a Task update: it
needs a slot, and lives in the REST API and on the referral's page. focus, for and owner, when sent,
must be the Task's own; everything else outside status, businessStatus, statusReason, input and
output is the referral's and ignored.

--- The wire format between two Carebridges (the contract: both sides run this module) -------------

The referring surgery's Carebridge -> the hospital's: `POST {base}/ServiceRequest` (built by
service_request_for_delivery), with the token the hospital's Carebridge issued for the surgery
(`carebridge api-token --system SURGERY`). The receiver has its own ids, so nothing is referenced by
id: everything is contained or named by identifier.
  meta.versionId       referral.version (the referrer's version: made 1, +1 each time information is added)
  identifier           [{system: https://fhir.nhs.uk/Id/UBRN, value: 12 digits}]
  status, intent       active | on-hold | ...; order (the receiver keeps its own status; not read)
  category, priority   as above; extension ERS_PRIORITY_EXTENSION valueCoding (read; priority if absent)
  code.text            the speciality, as the receiving hospital offers it
  subject              {reference: "#patient"}: contained Patient with identifier NHS number
                       (https://fhir.nhs.uk/Id/nhs-number) carrying the UK Core NHS number verification
                       extension (01 verified, 02 not traced), name[0].family/given[0], birthDate, gender,
                       telecom phone/email, address[0].line[0]/postalCode
  authoredOn           the referral date (YYYY-MM-DD)
  requester            {reference: "#requester"}: contained PractitionerRole with
                       practitioner {identifier: GMC (https://fhir.hl7.org.uk/Id/gmc-number) or NMC
                       (.../nmc-number) number, display: the referrer's name} and
                       organization {identifier: ODS code (https://fhir.nhs.uk/Id/ods-organization-code) or
                       coursework ID (https://fhir.carebridge.example/Id/facility), display}
  performer            [{type: Organization, identifier: ODS code or coursework ID, display},
                        {type: Practitioner, identifier: GMC/NMC number, display} (a named consultant)]
  reasonCode[0].text, note[].text, orderDetail[].text   reason, clinical summary, investigations
  supportingInfo       [{reference: "#doc-N", display: file name}]: contained DocumentReferences,
                       type.coding urn:carebridge:referral-document|letter or |attachment,
                       content[0].attachment {contentType, data (base64), title (file name), size}
The hospital's Carebridge matches the patient by NHS number (or registers them at the referring
surgery), and answers 201 (new) or 200 (this UBRN was here already: a newer version updates it, an
older or equal one changes nothing), with the ServiceRequest as a non-clinical viewer sees it (no
clinical content comes back). 403: the token's system is not the referring organisation's. 422 with
expression: an unknown ODS code or coursework ID, a missing UBRN or NHS number, a file that is not a
PDF, PNG or JPEG. 400: not JSON or not a valid R4 ServiceRequest. Bodies up to 32 MB are accepted
(core.middleware.LARGE_BODY_PATHS); larger ones answer 413.

The hospital's Carebridge -> the surgery's: `POST {base}/Task` (built by task_for_delivery), with the
token the surgery's Carebridge issued for the hospital.
  meta.versionId       referral.task_version (the hospital's work version: each triage, booking, outcome +1)
  status, businessStatus.text, statusReason.text   as Referral.task_status / task_business_status /
                       status_reason (the advice, the rejection reason, the information asked for)
  intent               order
  focus                {type: ServiceRequest, identifier: {system: UBRN, value}} (the only key read)
  for                  {type: Patient, identifier: NHS number}
  requester, owner     {type: Organization, identifier: ODS code or coursework ID, display}: the
                       referring surgery and the receiving hospital
  authoredOn, lastModified   when the referral was made here, and last changed
  executionPeriod.start      the appointment, once booked
  output               [{type.coding REFERRAL_TASK_PARAMETER|outcome, valueString},
                        {type.coding REFERRAL_TASK_PARAMETER|clinic-letter, valueAttachment {contentType
                        application/pdf, data, title}}] once seen
The surgery's Carebridge answers 200 with the Task as a non-clinical viewer sees it; an older or equal
version changes nothing and still answers 200. 404: no referral with that UBRN was sent from there.
403: the token's system is not the receiving hospital's.

The two builders read the database directly, with no actor: the delivery worker sends on the
organisation's behalf, after the service that queued the message checked who acted. Nothing else here
reads referrals without the selectors.
"""

import base64
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import HttpResponse
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest as FhirServiceRequest
from fhir.resources.R4B.task import Task as FhirTask

from carebridge.access.rules import PatientAccess, viewer_of, visible_patients
from carebridge.access.selectors import patient_record_for
from carebridge.accounts.models import User
from carebridge.audit.models import AuditObject
from carebridge.clinical.codes import SNOMED_CT
from carebridge.clinical.selectors import consultation_named
from carebridge.core import clock
from carebridge.core.roles import Role, role_of
from carebridge.delivery.remote import FhirRequest
from carebridge.fhir import resources, systems
from carebridge.fhir.clinical import _created, _json, _model, _patched, _put_body, _referenced, _words
from carebridge.fhir.interactions import (
    _COUNT,
    Call,
    ResourceSupport,
    SearchParam,
    _alternatives,
    _body,
    _bundle_response,
    _id_filter,
)
from carebridge.fhir.outcomes import bad_request, fhir_response, unprocessable
from carebridge.fhir.search import reference_id, refuse_foreign_references, token
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.referrals import services
from carebridge.referrals.attachments import Upload
from carebridge.referrals.models import (
    DocumentKind,
    Referral,
    ReferralDocument,
    ReferralPriority,
    ReferralStatus,
    status_for_task,
)
from carebridge.referrals.selectors import (
    referral_disclosed,
    referral_document_for,
    referral_documents,
    referral_for,
)

# Where in each resource the inputs a service names in a refusal (core.errors.Invalid.fields) came
# from: (resource type, create?) -> {field: FHIRPath}. ServiceRequest create covers both callers
# (referral_make for a clinician, referral_receive for a connected system).
FIELD_PATHS: dict[tuple[str, bool], dict[str, str]] = {
    ("ServiceRequest", True): {
        "receiving_facility": "ServiceRequest.performer",
        "receiving_clinician": "ServiceRequest.performer",
        "performer": "ServiceRequest.performer",
        "speciality": "ServiceRequest.code",
        "priority": "ServiceRequest.priority",
        "reason": "ServiceRequest.reasonCode",
        "clinical_summary": "ServiceRequest.note",
        "investigations": "ServiceRequest.orderDetail",
        "attachments": "ServiceRequest.supportingInfo",
        "consultation": "ServiceRequest.encounter",
        "requester": "ServiceRequest.requester",
        "identifier": "ServiceRequest.identifier",
        "patient": "ServiceRequest.subject",
    },
    ("Task", False): {
        "decision": "Task.status",
        "text": "Task.statusReason",
        "priority": "Task.input",
        "comment": "Task.input",
        "consultant": "Task.input",
        "outcome": "Task.output",
        "clinic_letter": "Task.output",
    },
    ("Task", True): {"status": "Task.status", "attachments": "Task.output"},
}

_RELATED = (
    "patient__registered_surgery",
    "referring_clinician__workplace",
    "receiving_clinician",
    "referring_facility",
    "receiving_facility",
    "appointment",
)
_ERS_WORDS = {"ROUTINE": "Routine", "URGENT": "Urgent", "TWO_WEEK_WAIT": "Two Week Wait"}
_ERS_TO_PRIORITY = {
    "ROUTINE": ReferralPriority.ROUTINE,
    "URGENT": ReferralPriority.URGENT,
    "TWO_WEEK_WAIT": ReferralPriority.TWO_WEEK_WAIT,
}
_KIND_WORDS = {kind.value: kind.label for kind in DocumentKind}
# Contained ids in the delivered ServiceRequest.
_PATIENT_ID = "patient"
_REQUESTER_ID = "requester"


def _referrals() -> QuerySet[Referral]:
    return Referral.objects.select_related(*_RELATED)


def _london(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(clock.LONDON)


def _b64(content: bytes) -> str:
    return base64.b64encode(bytes(content)).decode("ascii")


def _sees_documents(user: User | None, access: PatientAccess | None = None) -> bool:
    """Letters and attachments: clinicians who may see the record clinically (not reception, not the
    patient, as referrals.selectors.referral_documents decides)."""
    if access is not None:
        return access.sees_clinical and access.role != Role.PATIENT
    return viewer_of(user).sees_clinical and role_of(user) != Role.PATIENT


# --- Building: shared pieces ---------------------------------------------------------------------------


def _identifiers(referral: Referral) -> list[dict] | None:
    found = []
    if referral.ubrn:
        found.append({"system": systems.UBRN, "value": referral.ubrn})
    if referral.source_id:
        found.append({"system": systems.CAREBRIDGE_REFERRAL_ID, "value": referral.source_id})
    return found or None


def _fhir_priority(referral: Referral) -> str:
    return "urgent" if referral.priority in (ReferralPriority.URGENT, ReferralPriority.TWO_WEEK_WAIT) else "routine"


def _ers_extension(referral: Referral) -> dict:
    code = referral.ers_priority
    return {
        "url": systems.ERS_PRIORITY_EXTENSION,
        "valueCoding": {"system": systems.ERS_PRIORITY, "code": code, "display": _ERS_WORDS[code]},
    }


def _category() -> list[dict]:
    return [{"coding": [{"system": SNOMED_CT, "code": systems.PATIENT_REFERRAL, "display": "Patient referral"}]}]


def _organisation(facility: Facility, *, by_identifier: bool) -> dict:
    if by_identifier:
        identifier = resources.organization_identifier(facility)
        return {"type": "Organization", "identifier": identifier, "display": facility.name}
    return resources.reference("Organization", facility.public_id, facility.name)


def _registration_identifier(number: str) -> dict:
    return {"system": systems.NMC_NUMBER if number.startswith("N") else systems.GMC_NUMBER, "value": number}


def _practitioner(clinician: Clinician, *, by_identifier: bool) -> dict:
    if by_identifier:
        return {
            "type": "Practitioner",
            "identifier": resources.practitioner_identifier(clinician),
            "display": clinician.display_name,
        }
    return resources.reference("Practitioner", clinician.public_id, clinician.display_name)


def _requester_role(referral: Referral, *, by_identifier: bool) -> dict:
    """Who referred, and from where: one PractitionerRole, contained (ServiceRequest.requester is one
    reference, and both the person and their organisation matter to the receiver)."""
    clinician = referral.referring_clinician
    if clinician is not None:
        practitioner = _practitioner(clinician, by_identifier=by_identifier)
    else:
        practitioner = {"display": referral.referrer_name}
        if referral.referrer_code:
            practitioner |= {"type": "Practitioner", "identifier": _registration_identifier(referral.referrer_code)}
    return {
        "resourceType": "PractitionerRole",
        "id": _REQUESTER_ID,
        "practitioner": practitioner,
        "organization": _organisation(referral.referring_facility, by_identifier=by_identifier),
    }


def _performers(referral: Referral, *, by_identifier: bool) -> list[dict]:
    found = [_organisation(referral.receiving_facility, by_identifier=by_identifier)]
    if referral.receiving_clinician is not None:
        found.append(_practitioner(referral.receiving_clinician, by_identifier=by_identifier))
    return found


def _document_type(kind: str) -> dict:
    words = _KIND_WORDS.get(kind, kind)
    return {"coding": [{"system": systems.REFERRAL_DOCUMENT_KIND, "code": kind, "display": words}], "text": words}


def _document_json(
    document: ReferralDocument, *, resource_id: str, subject: dict, related: dict | None, with_data: bool
) -> dict:
    attachment: dict[str, Any] = {
        "contentType": document.content_type,
        "title": document.filename,
        "size": document.size,
        "creation": _london(document.created_at),
    }
    if with_data:
        attachment["data"] = _b64(document.content)
    found: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": resource_id,
        "status": "current",
        "type": _document_type(document.kind),
        "subject": subject,
        "date": _london(document.created_at),
        "description": document.filename,
        "content": [{"attachment": attachment}],
    }
    if related is not None:
        found["context"] = {"related": [related]}
    return found


def _service_request_common(referral: Referral) -> dict[str, Any]:
    """What both forms of the ServiceRequest say the same way. Empty clinical fields (cut for a
    non-clinical viewer by referral_disclosed, or never written) are left out."""
    found: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "meta": {"versionId": str(referral.version), "lastUpdated": _london(referral.updated_at)},
        "extension": [_ers_extension(referral)],
        "identifier": _identifiers(referral),
        "status": referral.fhir_status,
        "intent": "order",
        "category": _category(),
        "priority": _fhir_priority(referral),
        "code": {"text": referral.speciality} if referral.speciality else None,
        "authoredOn": referral.referral_date.isoformat(),
        "requester": {"reference": f"#{_REQUESTER_ID}"},
        "reasonCode": [{"text": referral.reason}] if referral.reason else None,
        "note": [{"text": referral.clinical_summary}] if referral.clinical_summary else None,
        "orderDetail": [{"text": item} for item in referral.requested_investigations or []] or None,
    }
    return found


# --- ServiceRequest and Task as this server shows them -----------------------------------------------------


def service_request_resource(referral: Referral, documents: Sequence[ReferralDocument] = ()) -> FhirServiceRequest:
    """The referral for a viewer: `referral` as referral_disclosed cut it, and the documents they may see."""
    found = _service_request_common(referral)
    patient = referral.patient
    found |= {
        "id": str(referral.public_id),
        "contained": [_requester_role(referral, by_identifier=False)],
        "subject": resources.reference("Patient", patient.public_id, patient.full_name),
        "performer": _performers(referral, by_identifier=False),
        "supportingInfo": [
            resources.reference("DocumentReference", document.public_id, document.filename) for document in documents
        ]
        or None,
    }
    return FhirServiceRequest.model_validate(found)


def _task_output(code: str, words: str, **value: Any) -> dict:
    return {
        "type": {"coding": [{"system": systems.REFERRAL_TASK_PARAMETER, "code": code, "display": words}]},
        **value,
    }


def _outputs(referral: Referral, documents: Sequence[ReferralDocument]) -> list[dict] | None:
    found = []
    if referral.outcome:
        found.append(_task_output("outcome", "Outcome", valueString=referral.outcome))
    for document in documents:
        if document.kind == DocumentKind.CLINIC_LETTER:
            found.append(
                _task_output(
                    "clinic-letter",
                    "Clinic letter",
                    valueAttachment={
                        "contentType": document.content_type,
                        "data": _b64(document.content),
                        "title": document.filename,
                        "size": document.size,
                    },
                )
            )
    return found or None


def _task_common(referral: Referral, documents: Sequence[ReferralDocument]) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "meta": {"versionId": str(referral.task_version), "lastUpdated": _london(referral.updated_at)},
        "status": referral.task_status,
        "businessStatus": {"text": referral.task_business_status},
        "statusReason": {"text": referral.status_reason} if referral.status_reason else None,
        "intent": "order",
        "authoredOn": _london(referral.created_at),
        "lastModified": _london(referral.updated_at),
        "executionPeriod": {"start": _london(referral.appointment_at)} if referral.appointment_at else None,
        "output": _outputs(referral, documents),
    }


def task_resource(referral: Referral, documents: Sequence[ReferralDocument] = ()) -> FhirTask:
    """The hospital's work on the referral, for a viewer (cut as for service_request_resource)."""
    patient = referral.patient
    focus: dict[str, Any] = {"reference": f"ServiceRequest/{referral.public_id}"}
    if referral.ubrn:
        focus["identifier"] = {"system": systems.UBRN, "value": referral.ubrn}
    found = _task_common(referral, documents) | {
        "id": str(referral.public_id),
        "focus": focus,
        "for": resources.reference("Patient", patient.public_id, patient.full_name),
        "requester": _organisation(referral.referring_facility, by_identifier=False),
        "owner": _organisation(referral.receiving_facility, by_identifier=False),
    }
    return FhirTask.model_validate(found)


def document_reference_resource(document: ReferralDocument, referral: Referral, *, with_data: bool) -> Resource:
    patient = referral.patient
    return FhirDocumentReference.model_validate(
        _document_json(
            document,
            resource_id=str(document.public_id),
            subject=resources.reference("Patient", patient.public_id, patient.full_name),
            related=resources.reference("ServiceRequest", referral.public_id),
            with_data=with_data,
        )
    )


def _clinic_letters(referral: Referral, shown: bool) -> list[ReferralDocument]:
    return list(referral.documents.filter(kind=DocumentKind.CLINIC_LETTER)) if shown else []


# --- The delivery payloads (the outbox's builders) ---------------------------------------------------------


def _nhs_number_identifier(patient: Patient) -> dict:
    return {"system": systems.NHS_NUMBER_SYSTEM, "value": patient.nhs_number}


def _delivered_patient(patient: Patient) -> dict:
    """The patient as the receiver needs them to match or register: demographics and the NHS number with
    its verification status; no local ids (the receiver has its own)."""
    found = _json(resources.patient_resource(patient))
    found["id"] = _PATIENT_ID
    found["identifier"] = [
        identifier
        for identifier in found.get("identifier", [])
        if identifier.get("system") == systems.NHS_NUMBER_SYSTEM
    ]
    surgery = patient.registered_surgery
    found["generalPractitioner"] = [_organisation(surgery, by_identifier=True)]
    return found


def service_request_for_delivery(referral_public_id: str) -> FhirRequest | None:
    """The referral as it is now, to POST to the receiving hospital's Carebridge (see the module docstring).

    Reads the database directly, with no actor: the worker sends on the referring organisation's behalf
    what referral_make or referral_add_information queued after checking who acted. None when there is
    nothing to send (the referral is gone, or has no UBRN)."""
    try:
        referral = _referrals().filter(public_id=uuid.UUID(str(referral_public_id))).first()
    except ValueError:
        return None
    if referral is None or not referral.ubrn:
        return None
    documents = list(referral.documents.filter(kind__in=(DocumentKind.LETTER, DocumentKind.ATTACHMENT)))
    subject = {"reference": f"#{_PATIENT_ID}"}
    contained = [_delivered_patient(referral.patient), _requester_role(referral, by_identifier=True)]
    supporting = []
    for number, document in enumerate(documents, start=1):
        contained.append(
            _document_json(document, resource_id=f"doc-{number}", subject=subject, related=None, with_data=True)
        )
        supporting.append({"reference": f"#doc-{number}", "display": document.filename})
    body = _service_request_common(referral) | {
        "contained": contained,
        "subject": subject,
        "performer": _performers(referral, by_identifier=True),
        "supportingInfo": supporting or None,
    }
    model = FhirServiceRequest.model_validate(body)
    return FhirRequest(method="POST", path="ServiceRequest", body=_json(model))


def task_for_delivery(referral_public_id: str) -> FhirRequest | None:
    """The hospital's progress on the referral as it is now, to POST to the referring surgery's
    Carebridge. Reads the database directly, with no actor, as service_request_for_delivery does."""
    try:
        referral = _referrals().filter(public_id=uuid.UUID(str(referral_public_id))).first()
    except ValueError:
        return None
    if referral is None or not referral.ubrn:
        return None
    found = _task_common(referral, _clinic_letters(referral, shown=True)) | {
        "focus": {"type": "ServiceRequest", "identifier": {"system": systems.UBRN, "value": referral.ubrn}},
        "for": {"type": "Patient", "identifier": _nhs_number_identifier(referral.patient)},
        "requester": _organisation(referral.referring_facility, by_identifier=True),
        "owner": _organisation(referral.receiving_facility, by_identifier=True),
    }
    model = FhirTask.model_validate(found)
    return FhirRequest(method="POST", path="Task", body=_json(model))


# --- Reading ------------------------------------------------------------------------------------------------


def service_request_read(call: Call, resource_id: str) -> HttpResponse:
    referral, access = referral_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(service_request_resource(referral, referral_documents(referral, access)))


def task_read(call: Call, resource_id: str) -> HttpResponse:
    referral, access = referral_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(task_resource(referral, _clinic_letters(referral, _sees_documents(call.user, access))))


def document_reference_read(call: Call, resource_id: str) -> HttpResponse:
    document, referral, _ = referral_document_for(actor=call.actor, public_id=resource_id)
    return fhir_response(document_reference_resource(document, referral, with_data=True))


# --- Searching ------------------------------------------------------------------------------------------

_SERVICE_REQUEST_STATUSES = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")
_TASK_STATUSES = (
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
)


def _with_status(status: str, *, task: bool) -> list[str]:
    """The referral statuses shown with this ServiceRequest or Task status (none for those never used)."""
    shown = [(value, Referral(status=value)) for value in ReferralStatus.values]
    if task:
        return [value for value, referral in shown if referral.task_status == status]
    return [value for value, referral in shown if referral.fhir_status == status]


def _status_filter(call: Call, *, task: bool) -> Q:
    known = _TASK_STATUSES if task else _SERVICE_REQUEST_STATUSES
    name = "Task" if task else "ServiceRequest"
    condition = Q()
    for alternatives in _alternatives(call, "status"):
        either: list[str] = []
        for status in alternatives:
            if status not in known:
                raise bad_request(
                    f"status={status}: a {name}'s status is one of {', '.join(known)}.", expression=["status"]
                )
            either += _with_status(status, task=task)
        condition &= Q(status__in=either)
    return condition


def _party_filter(call: Call, name: str, clinician_field: str, facility_field: str) -> Q:
    """A reference parameter naming a Practitioner or an Organization."""
    condition = Q()
    for alternatives in _alternatives(call, name):
        either = Q(pk__in=[])
        for value in alternatives:
            if (found := reference_id(value, "Practitioner", base_url=call.base_url)) is not None:
                either |= Q(**{f"{clinician_field}__public_id": found})
            if (found := reference_id(value, "Organization", base_url=call.base_url)) is not None:
                either |= Q(**{f"{facility_field}__public_id": found})
        condition &= either
    return condition


def _identifier_filter(call: Call) -> Q:
    condition = Q()
    for alternatives in _alternatives(call, "identifier"):
        either = Q(pk__in=[])
        for value in alternatives:
            system, code = token(value)
            if system in (None, systems.UBRN):
                either |= Q(ubrn=code.strip())
            if system in (None, systems.CAREBRIDGE_REFERRAL_ID):
                either |= Q(source_id=code.strip()) & ~Q(source_id="")
        condition &= either
    return condition


def _visible_referrals(call: Call) -> QuerySet[Referral]:
    return _referrals().filter(patient__in=visible_patients(Patient.objects.all(), call.user))


def service_request_search(call: Call) -> HttpResponse:
    found = _visible_referrals(call).filter(
        _id_filter(call, "patient", "patient__public_id", "Patient"),
        _status_filter(call, task=False),
        _party_filter(call, "requester", "referring_clinician", "referring_facility"),
        _party_filter(call, "performer", "receiving_clinician", "receiving_facility"),
        _identifier_filter(call),
        _id_filter(call, "_id", "public_id", "ServiceRequest"),
    )
    viewer = viewer_of(call.user)
    shown = _sees_documents(call.user)

    def build(referral: Referral) -> Resource:
        documents = list(referral.documents.defer("content")) if shown else []
        return service_request_resource(referral_disclosed(referral, viewer), documents)

    return _bundle_response(call, found.order_by("-referral_date", "-pk"), build, audit_as=AuditObject.REFERRAL)


def task_search(call: Call) -> HttpResponse:
    found = _visible_referrals(call).filter(
        _id_filter(call, "focus", "public_id", "ServiceRequest"),
        _id_filter(call, "patient", "patient__public_id", "Patient"),
        _id_filter(call, "owner", "receiving_facility__public_id", "Organization"),
        _status_filter(call, task=True),
        _id_filter(call, "_id", "public_id", "Task"),
    )
    viewer = viewer_of(call.user)
    shown = _sees_documents(call.user)

    def build(referral: Referral) -> Resource:
        return task_resource(referral_disclosed(referral, viewer), _clinic_letters(referral, shown))

    return _bundle_response(call, found.order_by("-referral_date", "-pk"), build, audit_as=AuditObject.REFERRAL)


def document_reference_search(call: Call) -> HttpResponse:
    """A referral's letters and attachments, without their content (read each for it)."""
    found = ReferralDocument.objects.none()
    if _sees_documents(call.user):
        found = (
            ReferralDocument.objects.defer("content")
            .select_related("referral__patient")
            .annotate(patient_id=F("referral__patient_id"))
            .filter(referral__patient__in=visible_patients(Patient.objects.all(), call.user))
        )
    found = found.filter(
        _id_filter(call, "related", "referral__public_id", "ServiceRequest"),
        _id_filter(call, "patient", "referral__patient__public_id", "Patient"),
        _id_filter(call, "_id", "public_id", "DocumentReference"),
    )
    return _bundle_response(
        call,
        found.order_by("referral_id", "created_at", "pk"),
        lambda document: document_reference_resource(document, document.referral, with_data=False),
        audit_as=AuditObject.REFERRAL,
    )


# --- Parsing: shared pieces ------------------------------------------------------------------------------


def _contained(model: FhirServiceRequest | FhirTask) -> dict[str, Resource]:
    return {resource.id: resource for resource in model.contained or [] if resource.id}


def _local(ref: Reference | None, contained: dict[str, Resource], resource_type: str, path: str) -> Any:
    """The contained resource `ref` names ("#id"), which must be a `resource_type`; 422 otherwise."""
    target = (ref.reference or "").strip() if ref is not None else ""
    found = contained.get(target[1:]) if target.startswith("#") else None
    if found is None or found.get_resource_type() != resource_type:
        raise unprocessable(
            f'Send the {resource_type} contained in the resource, referenced as "#<its id>".', expression=[path]
        )
    return found


def _version(model: FhirServiceRequest | FhirTask, path: str) -> int:
    raw = model.meta.versionId if model.meta is not None else None
    try:
        version = int(str(raw))
    except ValueError:
        version = 0
    if version < 1:
        raise unprocessable("Give the message's version as meta.versionId (a whole number from 1).", expression=[path])
    return version


def _identifier(identifiers: Sequence[Identifier] | Identifier | None, *wanted: str) -> str:
    if identifiers is None:
        return ""
    for identifier in identifiers if isinstance(identifiers, Sequence) else [identifiers]:
        value = (identifier.value or "").strip()
        if identifier.system in wanted and value:
            return value
    return ""


_ORGANISATION_SYSTEMS = (systems.ODS_ORGANISATION_CODE, systems.CAREBRIDGE_FACILITY_ID)
_REGISTRATION_SYSTEMS = (systems.GMC_NUMBER, systems.NMC_NUMBER)


def _priority(model: FhirServiceRequest) -> str:
    """The referral priority: the e-RS coding in the extension, else ServiceRequest.priority."""
    for extension in model.extension or []:
        if extension.url == systems.ERS_PRIORITY_EXTENSION and extension.valueCoding is not None:
            code = extension.valueCoding.code or ""
            if code not in _ERS_TO_PRIORITY:
                raise unprocessable(
                    f"{code!r} is not an e-RS priority: ROUTINE, URGENT or TWO_WEEK_WAIT.",
                    expression=["ServiceRequest.extension"],
                )
            return _ERS_TO_PRIORITY[code]
    if model.priority in ("routine", "urgent"):
        return model.priority
    raise unprocessable(
        "Give the priority: routine or urgent, and for a two-week wait the e-RS priority TWO_WEEK_WAIT "
        f"(extension {systems.ERS_PRIORITY_EXTENSION}, valueCoding in {systems.ERS_PRIORITY}).",
        expression=["ServiceRequest.priority"],
    )


def _summary(model: FhirServiceRequest) -> str:
    return "\n\n".join(note.text.strip() for note in model.note or [] if note.text and note.text.strip())


def _investigations(model: FhirServiceRequest) -> list[str]:
    return [_words(detail) for detail in model.orderDetail or [] if _words(detail)]


def _reason(model: FhirServiceRequest) -> str:
    return next((_words(concept) for concept in model.reasonCode or [] if _words(concept)), "")


def _attached(document: FhirDocumentReference, number: int, path: str) -> tuple[str, bytes]:
    """(file name, bytes) of a contained DocumentReference's first attachment."""
    attachment = document.content[0].attachment if document.content else None
    if attachment is None or not attachment.data:
        raise unprocessable(
            f"DocumentReference {document.id}: put the file in content[0].attachment.data (base64).",
            expression=[path],
        )
    return (attachment.title or document.description or f"attachment-{number}").strip(), bytes(attachment.data)


def _documents(model: FhirServiceRequest) -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes) of each contained DocumentReference supportingInfo references."""
    contained = _contained(model)
    found = []
    for number, ref in enumerate(model.supportingInfo or [], start=1):
        document = _local(ref, contained, "DocumentReference", "ServiceRequest.supportingInfo")
        kind = next(
            (
                coding.code
                for coding in (document.type.coding or [] if document.type else [])
                if coding.system == systems.REFERRAL_DOCUMENT_KIND
            ),
            DocumentKind.ATTACHMENT,
        )
        filename, content = _attached(document, number, "ServiceRequest.supportingInfo")
        if kind not in (DocumentKind.LETTER, DocumentKind.ATTACHMENT):
            kind = DocumentKind.ATTACHMENT
        found.append((kind, filename, content))
    return found


def _day(value: dt.date | dt.datetime | str | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.LONDON).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- Making a referral, and receiving one ---------------------------------------------------------------


def _named_type(target: str) -> str:
    parts = target.strip().rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def _performer_facility(model: FhirServiceRequest) -> tuple[Facility, Clinician | None]:
    """The hospital and the named consultant a clinician's ServiceRequest names, by id."""
    facility: Facility | None = None
    clinician: Clinician | None = None
    for ref in model.performer or []:
        target = ref.reference or ""
        kind = _named_type(target)
        if kind not in ("Organization", "Practitioner"):
            continue
        found = reference_id(target, kind)
        if kind == "Organization":
            facility = Facility.objects.filter(public_id=found).first() if found else None
            missing = facility is None
        else:
            clinician = Clinician.objects.filter(public_id=found).first() if found else None
            missing = clinician is None
        if missing:
            raise unprocessable(f"{target} does not exist.", code="not-found", expression=["ServiceRequest.performer"])
    if facility is None:
        raise unprocessable(
            "Name the hospital as a performer: Organization/<id> (and the consultant as Practitioner/<id>, if any).",
            expression=["ServiceRequest.performer"],
        )
    return facility, clinician


def _make(call: Call, model: FhirServiceRequest) -> HttpResponse:
    refuse_foreign_references(model, call.base_url)
    if model.intent != "order" or model.status != "active":
        raise unprocessable(
            "A referral is made with status active and intent order.",
            expression=["ServiceRequest.status", "ServiceRequest.intent"],
        )
    patient_id = _referenced(model.subject, "Patient", "ServiceRequest.subject")
    access = patient_record_for(actor=call.actor, public_id=patient_id, purpose="referral")
    facility, clinician = _performer_facility(model)
    consultation = None
    if model.encounter is not None:
        consultation = consultation_named(access.patient, reference_id(model.encounter.reference or "", "Encounter"))
        if consultation is None:
            raise unprocessable(
                "The encounter is not one of this patient's consultations.", expression=["ServiceRequest.encounter"]
            )
    attachments = [Upload(filename=name, content=content) for _, name, content in _documents(model)]
    referral = services.referral_make(
        actor=call.actor,
        patient=access.patient,
        receiving_facility=facility,
        receiving_clinician=clinician,
        speciality=_words(model.code),
        priority=_priority(model),
        reason=_reason(model),
        clinical_summary=_summary(model),
        investigations=_investigations(model),
        attachments=attachments,
        consultation=consultation,
    )
    shown = referral_disclosed(_referrals().get(pk=referral.pk), access)
    return _created(call, service_request_resource(shown, referral_documents(shown, access)))


def _incoming_patient(model: FhirServiceRequest) -> services.IncomingPatient:
    path = "ServiceRequest.subject"
    patient = _local(model.subject, _contained(model), "Patient", path)
    number, verified = "", False
    for identifier in patient.identifier or []:
        if identifier.system == systems.NHS_NUMBER_SYSTEM and identifier.value:
            number = identifier.value
            for extension in identifier.extension or []:
                if extension.url == systems.NHS_NUMBER_VERIFICATION_EXTENSION and extension.valueCodeableConcept:
                    codes = {coding.code for coding in extension.valueCodeableConcept.coding or []}
                    verified = "01" in codes
    if patient.birthDate is None:
        raise unprocessable("The contained Patient needs a birthDate.", expression=[path])
    name = (patient.name or [None])[0]
    phone = next((point.value for point in patient.telecom or [] if point.system == "phone" and point.value), "")
    email = next((point.value for point in patient.telecom or [] if point.system == "email" and point.value), "")
    address = (patient.address or [None])[0]
    return services.IncomingPatient(
        nhs_number=number,
        nhs_number_verified=verified,
        first_name=(name.given or [""])[0] if name is not None else "",
        last_name=(name.family or "") if name is not None else "",
        date_of_birth=_day(patient.birthDate),  # type: ignore[arg-type]
        gender=patient.gender or "unknown",
        phone_number=phone,
        email=email,
        address=(address.line or [""])[0] if address is not None else "",
        postcode=(address.postalCode or "") if address is not None else "",
    )


def _incoming_referral(model: FhirServiceRequest) -> services.IncomingReferral:
    role = _local(model.requester, _contained(model), "PractitionerRole", "ServiceRequest.requester")
    referring_code = _identifier(role.organization.identifier if role.organization else None, *_ORGANISATION_SYSTEMS)
    if not referring_code:
        raise unprocessable(
            "Name the referring organisation in the requester PractitionerRole's organization.identifier "
            "(its ODS code or coursework ID).",
            expression=["ServiceRequest.requester"],
        )
    referrer = role.practitioner
    receiving_code = consultant_code = ""
    for ref in model.performer or []:
        if ref.type == "Practitioner" or _identifier(ref.identifier, *_REGISTRATION_SYSTEMS):
            consultant_code = consultant_code or _identifier(ref.identifier, *_REGISTRATION_SYSTEMS)
        else:
            receiving_code = receiving_code or _identifier(ref.identifier, *_ORGANISATION_SYSTEMS)
    if not receiving_code:
        raise unprocessable(
            "Name the receiving hospital as a performer by its ODS code or coursework ID (identifier).",
            expression=["ServiceRequest.performer"],
        )
    return services.IncomingReferral(
        ubrn=_identifier(model.identifier, systems.UBRN),
        version=_version(model, "ServiceRequest.meta.versionId"),
        referring_facility_code=referring_code,
        receiving_facility_code=receiving_code,
        speciality=_words(model.code),
        priority=_priority(model),
        reason=_reason(model),
        clinical_summary=_summary(model),
        investigations=_investigations(model),
        referral_date=_day(model.authoredOn) or clock.today(),
        referrer_name=(referrer.display or "").strip() if referrer is not None else "",
        referrer_code=_identifier(referrer.identifier, *_REGISTRATION_SYSTEMS) if referrer is not None else "",
        patient=_incoming_patient(model),
        receiving_clinician_code=consultant_code,
        documents=[
            services.IncomingDocument(kind=DocumentKind(kind), filename=name, content=content)
            for kind, name, content in _documents(model)
        ],
    )


def _receive(call: Call, model: FhirServiceRequest) -> HttpResponse:
    """A connected system delivers a referral: 201 when new here, 200 when its UBRN was here already."""
    referral, created = services.referral_receive(actor=call.actor, incoming=_incoming_referral(model))
    # The sender gets back what a non-clinical viewer would see: it already knows the rest.
    shown = service_request_resource(referral_disclosed(_referrals().get(pk=referral.pk), viewer_of(call.user)))
    if created:
        return _created(call, shown)
    return fhir_response(shown)


def service_request_create(call: Call) -> HttpResponse:
    model = _model(FhirServiceRequest, _body(call))
    if role_of(call.user) == Role.CONNECTED_SYSTEM:
        return _receive(call, model)
    return _make(call, model)


# --- The Task: the hospital's work, and another Carebridge's report of it ----------------------------------


def _parameter(item: Any) -> str:
    concept = item.type
    for coding in concept.coding or [] if concept is not None else []:
        if coding.system == systems.REFERRAL_TASK_PARAMETER and coding.code:
            return coding.code
    return ""


def _outputs_of(model: FhirTask) -> tuple[str, str, list[tuple[str, bytes]]]:
    """(outcome, clinic letter text, clinic letter files) from Task.output."""
    outcome = letter_text = ""
    files: list[tuple[str, bytes]] = []
    for item in model.output or []:
        name = _parameter(item)
        if name == "outcome" and item.valueString:
            outcome = item.valueString.strip()
        elif name == "clinic-letter":
            if item.valueString:
                letter_text = item.valueString.strip()
            elif item.valueAttachment is not None:
                attachment = item.valueAttachment
                if attachment.data is not None:
                    files.append((attachment.title or "clinic-letter.pdf", bytes(attachment.data)))
    return outcome, letter_text, files


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=clock.LONDON)
    return None


def task_create(call: Call) -> HttpResponse:
    """Another Carebridge (the receiving hospital's) reports its progress on a referral sent from here."""
    model = _model(FhirTask, _body(call))
    ubrn = ""
    if model.focus is not None:
        ubrn = _identifier(model.focus.identifier, systems.UBRN)
    if not ubrn:
        raise unprocessable(
            f"Name the referral in focus.identifier (system {systems.UBRN}).", expression=["Task.focus"]
        )
    outcome, _, files = _outputs_of(model)
    update = services.IncomingStatus(
        ubrn=ubrn,
        task_version=_version(model, "Task.meta.versionId"),
        task_status=model.status or "",
        business_status=_words(model.businessStatus),
        status_reason=_words(model.statusReason),
        outcome=outcome,
        appointment_at=_instant(model.executionPeriod.start) if model.executionPeriod is not None else None,
        documents=[
            services.IncomingDocument(kind=DocumentKind.CLINIC_LETTER, filename=name, content=content)
            for name, content in files
        ],
    )
    referral = services.referral_status_receive(actor=call.actor, update=update)
    shown = referral_disclosed(_referrals().get(pk=referral.pk), viewer_of(call.user))
    return fhir_response(task_resource(shown))


def _inputs(model: FhirTask) -> tuple[str | None, str, Clinician | None]:
    """(new priority, its comment, the consultant) from Task.input."""
    priority: str | None = None
    comment = ""
    consultant: Clinician | None = None
    for item in model.input or []:
        name = _parameter(item)
        if name == "priority":
            code = item.valueCoding.code if item.valueCoding is not None else (item.valueCode or item.valueString or "")
            priority = _ERS_TO_PRIORITY.get(code or "", code or "")
            if priority not in ReferralPriority.values:
                raise unprocessable(
                    "Give the priority as an e-RS code (ROUTINE, URGENT, TWO_WEEK_WAIT) or as routine, urgent "
                    "or two_week_wait.",
                    expression=["Task.input"],
                )
        elif name == "priority-comment":
            comment = (item.valueString or "").strip()
        elif name == "consultant":
            found = reference_id(item.valueReference.reference or "", "Practitioner") if item.valueReference else None
            consultant = Clinician.objects.filter(public_id=found).first() if found else None
            if consultant is None:
                raise unprocessable(
                    "Name the consultant as valueReference Practitioner/<id>.", expression=["Task.input"]
                )
    return priority, comment, consultant


def _refuse_other_targets(model: FhirTask, referral: Referral) -> None:
    wrong = []
    if model.focus is not None and model.focus.reference:
        if reference_id(model.focus.reference, "ServiceRequest") != referral.public_id:
            wrong.append("Task.focus")
    if model.for_fhir is not None and model.for_fhir.reference:
        if reference_id(model.for_fhir.reference, "Patient") != referral.patient.public_id:
            wrong.append("Task.for")
    if model.owner is not None and model.owner.reference:
        if reference_id(model.owner.reference, "Organization") != referral.receiving_facility.public_id:
            wrong.append("Task.owner")
    if wrong:
        raise unprocessable(
            "A Task stays with its referral, patient and hospital: " + ", ".join(wrong) + " cannot change.",
            expression=wrong,
        )


_TRIAGE_FOR = {
    ReferralStatus.PENDING: services.TriageDecision.ACCEPT,
    ReferralStatus.REJECTED: services.TriageDecision.REJECT,
    ReferralStatus.RETURNED: services.TriageDecision.RETURN_WITH_ADVICE,
    ReferralStatus.INFO_REQUESTED: services.TriageDecision.REQUEST_INFORMATION,
}


def _apply_task(call: Call, referral: Referral, access: PatientAccess, model: FhirTask) -> HttpResponse:
    """Carry out what a PUT or PATCH of the Task asks for, through the one service that does it."""
    refuse_foreign_references(model, call.base_url)
    _refuse_other_targets(model, referral)
    business = _words(model.businessStatus)
    wanted = status_for_task(model.status or "", business)
    priority, comment, consultant = _inputs(model)
    unchanged = wanted == referral.status and priority in (None, referral.priority)
    if unchanged:
        return fhir_response(task_resource(referral, _clinic_letters(referral, _sees_documents(call.user, access))))
    if wanted in _TRIAGE_FOR:
        changed = services.referral_triage(
            actor=call.actor,
            referral=referral,
            decision=_TRIAGE_FOR[wanted],
            text=_words(model.statusReason),
            priority=priority,
            comment=comment,
            consultant=consultant,
        )
    elif priority not in (None, referral.priority):
        raise unprocessable(
            "The priority changes at triage only: send it (Task.input priority) with the triage status.",
            expression=["Task.input"],
        )
    elif wanted == ReferralStatus.COMPLETED:
        outcome, letter_text, _ = _outputs_of(model)
        changed = services.referral_record_outcome(
            actor=call.actor, referral=referral, outcome=outcome, clinic_letter=letter_text
        )
    elif wanted == ReferralStatus.IN_PROGRESS:
        raise unprocessable(
            "Booking needs a slot: book the referral's appointment through the REST API or the referral's page.",
            expression=["Task.status"],
        )
    else:
        raise unprocessable(
            f"A Task cannot be set to {model.status}"
            + (f" ({business})" if business else "")
            + ": accepted, rejected, on-hold (more information requested), or completed (seen, or returned to "
            "referrer with advice).",
            expression=["Task.status"],
        )
    shown = referral_disclosed(_referrals().get(pk=changed.pk), access)
    return fhir_response(task_resource(shown, _clinic_letters(shown, _sees_documents(call.user, access))))


def task_update(call: Call, resource_id: str) -> HttpResponse:
    referral, access = referral_for(actor=call.actor, public_id=resource_id, purpose="fhir update")
    data = _put_body(call, resource_id, "Task")
    return _apply_task(call, referral, access, _model(FhirTask, data))


def task_patch(call: Call, resource_id: str) -> HttpResponse:
    referral, access = referral_for(actor=call.actor, public_id=resource_id, purpose="fhir update")
    current = _json(task_resource(referral, _clinic_letters(referral, _sees_documents(call.user, access))))
    patched = _patched(call, current, resource_id, "Task")
    return _apply_task(call, referral, access, _model(FhirTask, patched))


# --- The resource types ---------------------------------------------------------------------------------


def _params(*triples: tuple[str, str, str]) -> tuple[SearchParam, ...]:
    return tuple(SearchParam(*triple) for triple in triples)


_CUT = (
    "404 to anyone who may not see the patient; reception sees the administrative facts only, without the "
    "clinical content. A connected system delivers only: it reads nothing."
)

REFERRALS: dict[str, ResourceSupport] = {
    "ServiceRequest": ResourceSupport(
        read=service_request_read,
        search=service_request_search,
        create=service_request_create,
        documentation=(
            f"Referrals (id shared with their Task). {_CUT} Create (clinicians at GP surgeries): subject "
            "Patient/<id>, performer Organization/<hospital id> (+ Practitioner/<consultant id>), code.text the "
            "hospital service, priority routine | urgent with the e-RS priority (ROUTINE | URGENT | TWO_WEEK_WAIT "
            f"in {systems.ERS_PRIORITY}) as extension {systems.ERS_PRIORITY_EXTENSION} valueCoding, reasonCode "
            "text, note text (clinical summary), orderDetail text (one per investigation), attachments as "
            "contained DocumentReferences (attachment.data) referenced from supportingInfo as #<id>. A connected "
            "system's token delivers a referral from another Carebridge here (contained Patient and documents, "
            "parties by ODS code or coursework ID and GMC/NMC number, UBRN identifier, meta.versionId): 201 new, "
            "200 already here."
        ),
        search_params=_params(
            ("patient", "reference", "Patient/<id>"),
            ("status", "token", "active | on-hold | completed | revoked (comma for either)"),
            ("requester", "reference", "Practitioner/<id> (the referrer) or Organization/<id> (the surgery)"),
            ("performer", "reference", "Organization/<id> (the hospital) or Practitioner/<id> (the consultant)"),
            ("identifier", "token", f"{systems.UBRN}|<12 digits>, or {systems.CAREBRIDGE_REFERRAL_ID}|<source ID>"),
            ("_id", "token", "The ServiceRequest id"),
            _COUNT,
        ),
    ),
    "Task": ResourceSupport(
        read=task_read,
        search=task_search,
        create=task_create,
        update=task_update,
        patch=task_patch,
        documentation=(
            f"The hospital's work on a referral: one Task per ServiceRequest, with its id. {_CUT} PUT or PATCH "
            "(doctors at the receiving hospital): status accepted (triage), rejected + statusReason, on-hold + "
            "statusReason (more information requested), completed + businessStatus 'returned to referrer with "
            "advice' + statusReason, completed + output outcome and clinic-letter (valueString; coded in "
            f"{systems.REFERRAL_TASK_PARAMETER}). At triage input priority (e-RS valueCoding) with "
            "priority-comment changes the priority, and input consultant (Practitioner/<id>) names the "
            "consultant. Booking needs a slot: it is done in the REST API and on the referral's page, not here. "
            "Create: only a connected system, the receiving hospital's Carebridge reporting progress "
            "(focus.identifier the UBRN, meta.versionId): 200, older versions change nothing."
        ),
        search_params=_params(
            ("focus", "reference", "ServiceRequest/<id>"),
            ("patient", "reference", "Patient/<id>"),
            ("owner", "reference", "Organization/<id> (the receiving hospital)"),
            (
                "status",
                "token",
                "received | accepted | rejected | in-progress | on-hold | completed (comma for either)",
            ),
            ("_id", "token", "The Task id (the referral's)"),
            _COUNT,
        ),
    ),
    "DocumentReference": ResourceSupport(
        read=document_reference_read,
        search=document_reference_search,
        documentation=(
            "A referral's letters, attachments and clinic letter (type coded in "
            f"{systems.REFERRAL_DOCUMENT_KIND}). Clinicians who may see the record only; the content "
            "(attachment.data) comes with a read, not in searches."
        ),
        search_params=_params(
            ("related", "reference", "ServiceRequest/<id>"),
            ("patient", "reference", "Patient/<id>"),
            ("_id", "token", "The DocumentReference id"),
            _COUNT,
        ),
    ),
}


def register_delivery_payloads() -> None:
    """Tell the delivery outbox how to say a referral and its progress in FHIR (FhirConfig.ready)."""
    from carebridge.delivery.remote import register_payload

    register_payload(services.SERVICE_REQUEST_PAYLOAD, service_request_for_delivery)
    register_payload(services.TASK_PAYLOAD, task_for_delivery)
