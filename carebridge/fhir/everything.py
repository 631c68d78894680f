"""Patient/$everything: a patient's whole record as one searchset Bundle (FHIR R4 Patient-everything).

For the clinicians who may see the patient's clinical record and for the patient themself
(access.rules: Action.EXPORT_RECORD); the read is audited as any patient read, and a refusal too. The
resources are this server's own (the builders in resources.py and referrals.py), so each entry is
exactly what its own read would answer to a clinician: Patient, Appointment, Encounter, Condition,
AllergyIntolerance, MedicationRequest, ServiceRequest and Task (one each per referral) and
DocumentReference (a referral's letters and attachments, listed without their content: read each for it).
Practitioners and organisations are referenced, not included. One page holds everything (no paging).
"""

import uuid

from django.http import HttpResponse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from carebridge.access.rules import Action, PatientAccess
from carebridge.access.selectors import patient_record_for, require_permitted
from carebridge.audit.models import AuditObject
from carebridge.core import clock
from carebridge.fhir import resources
from carebridge.fhir.interactions import Call
from carebridge.fhir.outcomes import fhir_response
from carebridge.fhir.referrals import document_reference_resource, service_request_resource, task_resource
from carebridge.referrals.selectors import referral_disclosed
from carebridge.subject_access.contents import WholeRecord, whole_record


def everything_resources(record: WholeRecord, access: PatientAccess) -> list[Resource]:
    found: list[Resource] = [resources.patient_resource(record.patient)]
    found += [resources.appointment_resource(appointment) for appointment in record.appointments]
    found += [resources.encounter_resource(consultation) for consultation in record.consultations]
    found += [resources.condition_resource(condition) for condition in record.conditions]
    found += [resources.allergy_resource(allergy) for allergy in record.allergies]
    found += [resources.medication_request_resource(prescription) for prescription in record.prescriptions]
    for referral in record.referrals:
        documents = list(referral.documents.all())
        # Cut as every read of a referral is (the hospital's internal notes are not the patient's to read
        # here); neither resource carries those notes, so nothing a clinician would see is lost.
        referral = referral_disclosed(referral, access)
        found.append(service_request_resource(referral, documents))
        found.append(task_resource(referral))
        found += [document_reference_resource(document, referral, with_data=False) for document in documents]
    return found


def patient_everything(call: Call, resource_id: str) -> HttpResponse:
    access = patient_record_for(actor=call.actor, public_id=resource_id, purpose="fhir $everything")
    require_permitted(call.actor, access, Action.EXPORT_RECORD, AuditObject.PATIENT, operation="fhir $everything")
    entries = everything_resources(whole_record(access.patient), access)
    self_url = call.request.build_absolute_uri(call.request.path)
    bundle = Bundle(
        id=str(uuid.uuid4()),
        meta={"lastUpdated": clock.now()},
        type="searchset",
        total=len(entries),
        link=[{"relation": "self", "url": self_url}],
        entry=[
            {
                "fullUrl": f"{call.base_url}{resource.get_resource_type()}/{resource.id}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in entries
        ],
    )
    return fhir_response(bundle)
