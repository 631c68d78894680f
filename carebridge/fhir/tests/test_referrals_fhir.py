"""Referrals through FHIR: ServiceRequest and Task made, read, searched and updated by people; delivered by
another Carebridge's system; the messages one Carebridge sends another, built and read back; every
resource checked against the R4B models, and every refusal audited."""

import base64
import copy
import datetime as dt
import json

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.delivery import remote
from carebridge.delivery.models import OutboundEmail
from carebridge.fhir.referrals import service_request_for_delivery, task_for_delivery
from carebridge.organisations.services import system_account_ensure
from carebridge.patients.models import Patient
from carebridge.referrals.attachments import Upload
from carebridge.referrals.models import DocumentKind, Referral, ReferralDocument, ReferralStatus
from carebridge.referrals.services import (
    SERVICE_REQUEST_PAYLOAD,
    TASK_PAYLOAD,
    TriageDecision,
    referral_book,
    referral_make,
    referral_triage,
)
from carebridge.scheduling.models import Slot
from carebridge.scheduling.services import appointment_check_in, opening_hours_set, session_add
from carebridge.testing.days import BASE_DAY
from carebridge.testing.world import VALID_NHS_NUMBERS

FHIR_JSON = "application/fhir+json"
UBRN = "https://fhir.nhs.uk/Id/UBRN"
ERS = "https://fhir.nhs.uk/CodeSystem/eRS-Priority"
ERS_EXTENSION = "https://fhir.carebridge.example/StructureDefinition/ers-priority"
TASK_PARAMETER = "urn:carebridge:referral-task"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
REASON = "Exertional chest tightness"
SUMMARY = "Three months of tightness on climbing hills, relieved by rest."
INVESTIGATIONS = ["Exercise tolerance test", "Lipid profile"]
NEW_UBRN = "987654321012"


def act(user) -> Actor:
    return Actor(user=user, channel="web", ip_address="127.0.0.1")


def pdf_bytes(size: int = 0) -> bytes:
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%"
    tail = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def post(api: Client, path: str, body) -> object:
    data = body if isinstance(body, str) else json.dumps(body)
    return api.post(f"/fhir/{path}", data, content_type=FHIR_JSON)


def put(api: Client, path: str, body) -> object:
    return api.put(f"/fhir/{path}", json.dumps(body), content_type=FHIR_JSON)


def entries(response) -> list:
    assert response.status_code == 200, response.content
    return [entry.resource for entry in Bundle.model_validate(response.json()).entry or []]


def denials(user, object_type: AuditObject = AuditObject.REFERRAL):
    return AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type=object_type)


def ers_code(resource) -> str:
    [extension] = [item for item in resource.extension or [] if item.url == ERS_EXTENSION]
    assert extension.valueCoding.system == ERS
    return extension.valueCoding.code


def referral_body(world, **changes) -> dict:
    body = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "extension": [{"url": ERS_EXTENSION, "valueCoding": {"system": ERS, "code": "TWO_WEEK_WAIT"}}],
        "code": {"text": "Cardiology"},
        "subject": {"reference": f"Patient/{world.alice.public_id}"},
        "performer": [
            {"reference": f"Organization/{world.hospital.public_id}"},
            {"reference": f"Practitioner/{world.specialist.clinician.public_id}"},
        ],
        "reasonCode": [{"text": REASON}],
        "note": [{"text": SUMMARY}],
        "orderDetail": [{"text": item} for item in INVESTIGATIONS],
        "contained": [
            {
                "resourceType": "DocumentReference",
                "id": "ecg",
                "status": "current",
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "title": "ECG.pdf",
                            "data": base64.b64encode(pdf_bytes()).decode(),
                        }
                    }
                ],
            }
        ],
        "supportingInfo": [{"reference": "#ecg"}],
    }
    body.update(changes)
    return body


def make(world, **overrides) -> Referral:
    arguments = {
        "patient": world.alice,
        "receiving_facility": world.hospital,
        "receiving_clinician": world.specialist.clinician,
        "speciality": "Cardiology",
        "priority": "urgent",
        "reason": REASON,
        "clinical_summary": SUMMARY,
        "investigations": INVESTIGATIONS,
    }
    arguments.update(overrides)
    return referral_make(actor=act(world.gp), **arguments)


def system_of(world, facility):
    return system_account_ensure(actor=Actor.command_line(world.admin), facility=facility)


def delivered_elsewhere(referral: Referral, *, ubrn: str = NEW_UBRN, nhs_number: str | None = None) -> dict:
    """The ServiceRequest the outbox would send for `referral`, as a different referral from another
    Carebridge: the same UBRN cannot arrive twice in one database."""
    request = service_request_for_delivery(str(referral.public_id))
    assert request is not None and (request.method, request.path) == ("POST", "ServiceRequest")
    ServiceRequest.model_validate(request.body)
    body = copy.deepcopy(request.body)
    [identifier] = [item for item in body["identifier"] if item["system"] == UBRN]
    identifier["value"] = ubrn
    if nhs_number is not None:
        [patient] = [item for item in body["contained"] if item["resourceType"] == "Patient"]
        [number] = [item for item in patient["identifier"] if item["system"] == NHS_NUMBER]
        number["value"] = nhs_number
    return body


# --- A GP makes a referral, and people read it ---------------------------------------------------------


def test_a_gp_makes_a_referral_and_reads_and_finds_it(world, api_client_for):
    api = api_client_for(world.gp)
    response = post(api, "ServiceRequest", referral_body(world))
    assert response.status_code == 201, response.content
    created = ServiceRequest.model_validate(response.json())
    referral = Referral.objects.get(public_id=created.id)
    assert response["Location"] == f"http://testserver/fhir/ServiceRequest/{referral.public_id}"
    assert (referral.patient, referral.receiving_facility, referral.receiving_clinician) == (
        world.alice,
        world.hospital,
        world.specialist.clinician,
    )
    assert (referral.priority, referral.speciality, referral.reason) == ("two_week_wait", "Cardiology", REASON)
    assert (referral.clinical_summary, referral.requested_investigations) == (SUMMARY, INVESTIGATIONS)
    [attachment] = ReferralDocument.objects.filter(referral=referral, kind=DocumentKind.ATTACHMENT)
    assert bytes(attachment.content) == pdf_bytes() and attachment.filename == "ECG.pdf"
    # Sent by the same channels as from the page: the hospital's inbox has it.
    assert OutboundEmail.objects.filter(
        recipient="h1@nhs.example", idempotency_key__startswith=f"referral:{referral.public_id}:"
    ).exists()

    read = api.get(f"/fhir/ServiceRequest/{referral.public_id}")
    assert read.status_code == 200, read.content
    shown = ServiceRequest.model_validate(read.json())
    assert [(item.system, item.value) for item in shown.identifier] == [(UBRN, referral.ubrn)]
    assert (shown.status, shown.intent, shown.priority, ers_code(shown)) == (
        "active",
        "order",
        "urgent",
        "TWO_WEEK_WAIT",
    )
    assert shown.category[0].coding[0].code == "3457005"
    assert shown.code.text == "Cardiology" and shown.meta.versionId == "1"
    assert shown.subject.reference == f"Patient/{world.alice.public_id}"
    assert str(shown.authoredOn) == clock.today().isoformat()
    [role] = shown.contained
    assert shown.requester.reference == "#requester" and role.id == "requester"
    assert role.practitioner.reference == f"Practitioner/{world.gp.clinician.public_id}"
    assert role.organization.reference == f"Organization/{world.surgery.public_id}"
    assert [ref.reference for ref in shown.performer] == [
        f"Organization/{world.hospital.public_id}",
        f"Practitioner/{world.specialist.clinician.public_id}",
    ]
    assert [concept.text for concept in shown.reasonCode] == [REASON]
    assert [note.text for note in shown.note] == [SUMMARY]
    assert [detail.text for detail in shown.orderDetail] == INVESTIGATIONS
    documents = ReferralDocument.objects.filter(referral=referral)
    assert {ref.reference for ref in shown.supportingInfo} == {f"DocumentReference/{d.public_id}" for d in documents}

    document = DocumentReference.model_validate(api.get(f"/fhir/DocumentReference/{attachment.public_id}").json())
    assert bytes(document.content[0].attachment.data) == pdf_bytes()
    assert document.context.related[0].reference == f"ServiceRequest/{referral.public_id}"
    listed = entries(api.get(f"/fhir/DocumentReference?related=ServiceRequest/{referral.public_id}"))
    assert len(listed) == 2 and all(item.content[0].attachment.data is None for item in listed)

    for query in (
        f"patient=Patient/{world.alice.public_id}",
        "status=active",
        f"requester=Practitioner/{world.gp.clinician.public_id}",
        f"requester=Organization/{world.surgery.public_id}",
        f"performer=Organization/{world.hospital.public_id}",
        f"identifier={UBRN}|{referral.ubrn}",
        f"identifier={referral.ubrn}",
    ):
        found = entries(api.get(f"/fhir/ServiceRequest?{query}&_id={referral.public_id}"))
        assert [item.id for item in found] == [str(referral.public_id)], query
    assert entries(api.get(f"/fhir/ServiceRequest?status=completed,revoked&_id={referral.public_id}")) == []
    assert entries(api.get(f"/fhir/ServiceRequest?performer=Organization/{world.other_hospital.public_id}")) == []
    assert api.get("/fhir/ServiceRequest?status=sent").status_code == 400
    search_rows = AuditEvent.objects.filter(actor=world.gp, action=AuditAction.SEARCH, object_type=AuditObject.REFERRAL)
    assert search_rows.filter(patient_id=world.alice.pk).exists()


@pytest.mark.parametrize(
    "changes, expression",
    [
        ({"code": {"text": "Neurology"}}, ["ServiceRequest.code"]),
        ({"reasonCode": None}, ["ServiceRequest.reasonCode"]),
        (
            {"code": {"text": "Neurology"}, "reasonCode": [{"text": " "}]},
            ["ServiceRequest.code", "ServiceRequest.reasonCode"],
        ),
        ({"performer": [{"reference": "Organization/S2"}]}, ["ServiceRequest.performer"]),
        ({"performer": []}, ["ServiceRequest.performer"]),
        ({"extension": None, "priority": "asap"}, ["ServiceRequest.priority"]),
        ({"subject": {"reference": "Group/1"}}, ["ServiceRequest.subject"]),
        ({"supportingInfo": [{"reference": "#missing"}]}, ["ServiceRequest.supportingInfo"]),
    ],
)
def test_a_referral_that_cannot_be_made_is_refused_saying_where(world, api_client_for, outcome_of, changes, expression):
    body = {key: value for key, value in referral_body(world, **changes).items() if value is not None}
    response = post(api_client_for(world.gp), "ServiceRequest", body)
    assert response.status_code == 422, response.content
    assert outcome_of(response).expression == expression
    assert Referral.objects.count() == 1  # the world's own


def test_an_executable_renamed_pdf_and_a_hospital_that_does_not_exist_are_refused(world, api_client_for, outcome_of):
    api = api_client_for(world.gp)
    body = referral_body(world)
    body["contained"][0]["content"][0]["attachment"]["data"] = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 200).decode()
    response = post(api, "ServiceRequest", body)
    assert response.status_code == 422
    assert outcome_of(response).expression == ["ServiceRequest.supportingInfo"]
    missing = referral_body(world, performer=[{"reference": f"Organization/{world.alice.public_id}"}])
    response = post(api, "ServiceRequest", missing)
    assert response.status_code == 422 and outcome_of(response).code == "not-found"
    assert post(api, "ServiceRequest", "{not json").status_code == 400
    assert Referral.objects.count() == 1


def test_only_clinicians_at_a_gp_surgery_refer_and_the_refusal_is_audited(world, api_client_for, outcome_of):
    response = post(api_client_for(world.specialist), "ServiceRequest", referral_body(world))
    assert response.status_code == 403 and outcome_of(response).code == "forbidden"
    [denial] = denials(world.specialist)
    assert denial.patient_id == world.alice.pk and denial.detail["operation"] == "referral_make"
    assert post(api_client_for(world.other_gp), "ServiceRequest", referral_body(world)).status_code == 404
    [denial] = denials(world.other_gp, AuditObject.PATIENT)  # not theirs to see: as if there were no patient
    assert denial.patient_id == world.alice.pk
    assert Referral.objects.count() == 1


def test_reception_sees_the_administrative_facts_without_the_clinical_content(world, api_client_for):
    referral = make(world, attachments=[])
    api = api_client_for(world.hospital_reception)
    shown = ServiceRequest.model_validate(api.get(f"/fhir/ServiceRequest/{referral.public_id}").json())
    assert shown.identifier[0].value == referral.ubrn and shown.code.text == "Cardiology"
    assert (shown.reasonCode, shown.note, shown.orderDetail, shown.supportingInfo) == (None, None, None, None)
    [found] = entries(api.get(f"/fhir/ServiceRequest?_id={referral.public_id}"))
    assert (found.reasonCode, found.note, found.orderDetail, found.supportingInfo) == (None, None, None, None)
    referral_triage(actor=act(world.specialist), referral=referral, decision=TriageDecision.REJECT, text="Not cardiac")
    task = Task.model_validate(api.get(f"/fhir/Task/{referral.public_id}").json())
    assert task.status == "rejected" and task.statusReason is None
    assert entries(api.get(f"/fhir/DocumentReference?related=ServiceRequest/{referral.public_id}")) == []


def test_the_patient_reads_their_own_referral_without_its_documents(world, api_client_for):
    referral = make(world)
    shown = ServiceRequest.model_validate(
        api_client_for(world.alice_user).get(f"/fhir/ServiceRequest/{referral.public_id}").json()
    )
    assert [concept.text for concept in shown.reasonCode] == [REASON] and shown.supportingInfo is None


def test_a_consultant_at_another_hospital_finds_nothing_and_is_audited(world, api_client_for):
    referral = make(world)
    api = api_client_for(world.other_specialist)
    for path in (f"ServiceRequest/{referral.public_id}", f"Task/{referral.public_id}"):
        assert api.get(f"/fhir/{path}").status_code == 404
    assert denials(world.other_specialist).filter(object_id=str(referral.public_id)).count() == 2
    assert entries(api.get("/fhir/ServiceRequest")) == []
    assert entries(api.get(f"/fhir/Task?focus=ServiceRequest/{referral.public_id}")) == []


# --- Another Carebridge delivers a referral -------------------------------------------------------------


def test_the_delivered_referral_arrives_whole_once_and_the_sender_may_only_deliver(world, token_for):
    original = make(world, attachments=[Upload("ECG.pdf", pdf_bytes()), Upload("X-ray.pdf", pdf_bytes(3000))])
    body = delivered_elsewhere(original, nhs_number=VALID_NHS_NUMBERS[2])
    system = system_of(world, world.surgery)
    api = Client(headers={"Authorization": f"Bearer {token_for(system)}"})

    response = post(api, "ServiceRequest", body)
    assert response.status_code == 201, response.content
    answered = ServiceRequest.model_validate(response.json())
    arrived = Referral.objects.get(ubrn=NEW_UBRN)
    assert response["Location"] == f"http://testserver/fhir/ServiceRequest/{arrived.public_id}"
    assert answered.reasonCode is None and answered.note is None  # nothing clinical comes back
    for name in (
        "referring_clinician",
        "referring_facility",
        "receiving_facility",
        "receiving_clinician",
        "speciality",
        "priority",
        "reason",
        "clinical_summary",
        "requested_investigations",
        "referral_date",
        "version",
    ):
        assert getattr(arrived, name) == getattr(original, name), name
    assert (arrived.received_from_system, arrived.status) == (True, ReferralStatus.NEW)
    assert arrived.referrer_code == world.gp.clinician.registration_number
    patient = arrived.patient
    alice = world.alice
    assert patient != alice and patient.nhs_number == VALID_NHS_NUMBERS[2] and patient.nhs_number_verified
    assert (patient.first_name, patient.last_name, patient.date_of_birth, patient.gender) == (
        alice.first_name,
        alice.last_name,
        alice.date_of_birth,
        alice.gender,
    )
    assert patient.registered_surgery == world.surgery
    sent = {(d.kind, d.filename, d.sha256) for d in original.documents.all()}
    assert {(d.kind, d.filename, d.sha256) for d in arrived.documents.all()} == sent

    again = post(api, "ServiceRequest", body)
    assert again.status_code == 200 and again.json()["id"] == str(arrived.public_id)
    assert Referral.objects.filter(ubrn=NEW_UBRN).count() == 1
    newer = copy.deepcopy(body)
    newer["meta"]["versionId"] = "2"
    newer["note"] = [{"text": "Now breathless at rest."}]
    assert post(api, "ServiceRequest", newer).status_code == 200
    arrived.refresh_from_db()
    assert (arrived.version, arrived.clinical_summary) == (2, "Now breathless at rest.")
    assert Patient.objects.filter(nhs_number=VALID_NHS_NUMBERS[2]).count() == 1

    # Every read answers as to someone without access, the directory included; each is audited.
    for path in (
        f"ServiceRequest/{arrived.public_id}",
        f"Task/{arrived.public_id}",
        f"Patient/{patient.public_id}",
        f"Organization/{world.hospital.public_id}",
    ):
        assert api.get(f"/fhir/{path}").status_code == 404, path
    for path in ("ServiceRequest", "Task", "Patient", "Practitioner", "Organization"):
        assert entries(api.get(f"/fhir/{path}")) == [], path
    assert denials(system, AuditObject.CONNECTED_SYSTEM).count() == 9
    # A system cannot triage either: the Task is not there for it.
    assert put(api, f"Task/{arrived.public_id}", {"resourceType": "Task"}).status_code == 404


def test_a_system_may_not_deliver_another_organisations_referral(world, token_for, outcome_of):
    body = delivered_elsewhere(make(world))
    other = system_of(world, world.other_surgery)
    api = Client(headers={"Authorization": f"Bearer {token_for(other)}"})
    response = post(api, "ServiceRequest", body)
    assert response.status_code == 403 and outcome_of(response).code == "forbidden"
    [denial] = denials(other)
    assert denial.detail["operation"] == "referral_receive"
    assert not Referral.objects.filter(ubrn=NEW_UBRN).exists()


def test_unknown_organisation_codes_are_refused_saying_where(world, token_for, outcome_of):
    body = delivered_elsewhere(make(world))
    api = Client(headers={"Authorization": f"Bearer {token_for(system_of(world, world.surgery))}"})
    unknown_hospital = copy.deepcopy(body)
    unknown_hospital["performer"][0]["identifier"]["value"] = "RXX99"
    response = post(api, "ServiceRequest", unknown_hospital)
    assert response.status_code == 422 and outcome_of(response).expression == ["ServiceRequest.performer"]
    unknown_surgery = copy.deepcopy(body)
    [role] = [item for item in unknown_surgery["contained"] if item["resourceType"] == "PractitionerRole"]
    role["organization"]["identifier"]["value"] = "Y99999"
    response = post(api, "ServiceRequest", unknown_surgery)
    assert response.status_code == 422 and outcome_of(response).expression == ["ServiceRequest.requester"]
    no_ubrn = copy.deepcopy(body)
    no_ubrn["identifier"] = []
    response = post(api, "ServiceRequest", no_ubrn)
    assert response.status_code == 422 and outcome_of(response).expression == ["ServiceRequest.identifier"]
    assert not Referral.objects.filter(received_from_system=True).exists()


def test_a_delivered_referral_may_carry_large_attachments_and_no_other_body_may(world, token_for):
    original = make(world, attachments=[Upload("scan.pdf", pdf_bytes(4 * 1024 * 1024))])
    body = json.dumps(delivered_elsewhere(original))
    assert len(body) > 5_000_000
    api = Client(headers={"Authorization": f"Bearer {token_for(system_of(world, world.surgery))}"})
    assert post(api, "ServiceRequest", body).status_code == 201
    too_large = post(api, "ServiceRequest", " " * (32 * 1024 * 1024 + 1))
    assert too_large.status_code == 413 and too_large.json()["resourceType"] == "OperationOutcome"
    elsewhere = Client(headers={"Authorization": f"Bearer {token_for(world.gp)}"})
    assert post(elsewhere, "Condition", " " * 2_000_000).status_code == 413


# --- The Task -------------------------------------------------------------------------------------------


def task_body(referral: Referral, status: str, **changes) -> dict:
    return {"resourceType": "Task", "id": str(referral.public_id), "status": status, "intent": "order", **changes}


def test_the_consultant_accepts_by_task_and_the_gp_sees_the_state(world, api_client_for, outcome_of):
    referral = make(world)
    api = api_client_for(world.specialist)
    priority = [
        {
            "type": {"coding": [{"system": TASK_PARAMETER, "code": "priority"}]},
            "valueCoding": {"system": ERS, "code": "TWO_WEEK_WAIT"},
        },
        {"type": {"coding": [{"system": TASK_PARAMETER, "code": "priority-comment"}]}, "valueString": "Weight loss"},
    ]
    response = put(api, f"Task/{referral.public_id}", task_body(referral, "accepted", input=priority))
    assert response.status_code == 200, response.content
    task = Task.model_validate(response.json())
    assert (task.status, task.businessStatus.text, task.meta.versionId) == (
        "accepted",
        "accepted, awaiting booking",
        "1",
    )
    referral.refresh_from_db()
    assert (referral.status, referral.priority, referral.triaged_by) == (
        ReferralStatus.PENDING,
        "two_week_wait",
        world.specialist.clinician,
    )

    [found] = entries(api_client_for(world.gp).get(f"/fhir/Task?focus=ServiceRequest/{referral.public_id}"))
    assert (found.id, found.status) == (str(referral.public_id), "accepted")
    assert (
        found.focus.identifier.value == referral.ubrn and found.for_fhir.reference == f"Patient/{world.alice.public_id}"
    )
    assert found.owner.reference == f"Organization/{world.hospital.public_id}"
    assert entries(api_client_for(world.gp).get(f"/fhir/Task?status=received&_id={referral.public_id}")) == []

    again = put(api, f"Task/{referral.public_id}", task_body(referral, "accepted"))
    assert again.status_code == 200  # as it is: nothing to do
    booking = put(api, f"Task/{referral.public_id}", task_body(referral, "in-progress"))
    assert booking.status_code == 422 and "slot" in outcome_of(booking).details.text


def test_a_rejection_needs_its_reason_and_a_nurse_may_not_triage(world, api_client_for, outcome_of):
    referral = make(world)
    response = put(api_client_for(world.specialist), f"Task/{referral.public_id}", task_body(referral, "rejected"))
    assert response.status_code == 422 and outcome_of(response).expression == ["Task.statusReason"]

    nurse = put(
        api_client_for(world.hospital_nurse),
        f"Task/{referral.public_id}",
        task_body(referral, "rejected", statusReason={"text": "Not for us"}),
    )
    assert nurse.status_code == 403
    [denial] = denials(world.hospital_nurse)
    assert denial.object_id == str(referral.public_id) and denial.detail["operation"] == "referral_triage"

    patched = api_client_for(world.specialist).patch(
        f"/fhir/Task/{referral.public_id}",
        json.dumps({"status": "rejected", "statusReason": {"text": "Not cardiac: see chest clinic"}}),
        content_type="application/merge-patch+json",
    )
    assert patched.status_code == 200, patched.content
    task = Task.model_validate(patched.json())
    assert (task.status, task.statusReason.text) == ("rejected", "Not cardiac: see chest clinic")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REJECTED


@pytest.mark.parametrize(
    "status, business, status_after",
    [
        ("completed", "returned to referrer with advice", ReferralStatus.RETURNED),
        ("on-hold", "more information requested", ReferralStatus.INFO_REQUESTED),
    ],
)
def test_the_other_triage_decisions_by_task(world, api_client_for, status, business, status_after):
    referral = make(world)
    body = task_body(referral, status, businessStatus={"text": business}, statusReason={"text": "Try a statin"})
    response = put(api_client_for(world.specialist), f"Task/{referral.public_id}", body)
    assert response.status_code == 200, response.content
    referral.refresh_from_db()
    assert (referral.status, referral.status_reason) == (status_after, "Try a statin")


@pytest.fixture
def clinic(world, settings):
    settings.SLOT_HORIZON_DAYS = 13
    command_line = Actor.command_line()
    opening_hours_set(
        actor=command_line,
        facility=world.hospital,
        hours={weekday: [(dt.time(8, 0), dt.time(18, 0))] for weekday in range(7)},
    )
    # A clinic on the tests' today, whichever day of the week that is (`make test-another-day`).
    session_add(
        actor=command_line,
        clinician=world.specialist.clinician,
        weekday=BASE_DAY.weekday(),
        start_time=dt.time(9, 0),
        end_time=dt.time(12, 0),
        slot_minutes=30,
        appointment_types=["Specialist Consultation"],
    )
    return world


def test_the_outcome_is_recorded_by_task_and_the_clinic_letter_is_its_output(clinic, api_client_for):
    world = clinic
    referral = make(world)
    referral_triage(actor=act(world.specialist), referral=referral, decision=TriageDecision.ACCEPT)
    slot = Slot.objects.get(
        clinician=world.specialist.clinician, starts_at=clock.london_datetime(clock.today(), dt.time(9, 0))
    )
    referral = referral_book(actor=act(world.hospital_reception), referral=referral, slot=slot)
    appointment_check_in(actor=act(world.hospital_reception), appointment=referral.appointment)
    outputs = [
        {"type": {"coding": [{"system": TASK_PARAMETER, "code": "outcome"}]}, "valueString": "Stable angina"},
        {"type": {"coding": [{"system": TASK_PARAMETER, "code": "clinic-letter"}]}, "valueString": "Dear Dr Patel"},
    ]
    api = api_client_for(world.specialist)
    response = put(api, f"Task/{referral.public_id}", task_body(referral, "completed", output=outputs))
    assert response.status_code == 200, response.content
    task = Task.model_validate(response.json())
    assert task.status == "completed" and task.executionPeriod.start is not None
    outcome, letter = task.output
    assert outcome.valueString == "Stable angina"
    assert letter.valueAttachment.contentType == "application/pdf"
    assert bytes(letter.valueAttachment.data).startswith(b"%PDF-")
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (ReferralStatus.COMPLETED, "Stable angina")

    delivered = task_for_delivery(str(referral.public_id))
    assert delivered is not None and (delivered.method, delivered.path) == ("POST", "Task")
    sent = Task.model_validate(delivered.body)
    assert sent.focus.reference is None and sent.focus.identifier.value == referral.ubrn
    assert sent.meta.versionId == str(referral.task_version) and sent.owner.identifier.value == "H1"
    assert [item.type.coding[0].code for item in sent.output] == ["outcome", "clinic-letter"]


def test_the_hospitals_system_reports_progress_and_an_older_report_changes_nothing(world, token_for, outcome_of):
    referral = make(world)
    hospital_system = system_of(world, world.hospital)
    api = Client(headers={"Authorization": f"Bearer {token_for(hospital_system)}"})
    focus = {"type": "ServiceRequest", "identifier": {"system": UBRN, "value": referral.ubrn}}
    letter = base64.b64encode(pdf_bytes()).decode()
    newer = {
        "resourceType": "Task",
        "meta": {"versionId": "2"},
        "status": "completed",
        "businessStatus": {"text": "seen, outcome letter sent"},
        "intent": "order",
        "focus": focus,
        "executionPeriod": {"start": "2026-12-07T09:00:00+00:00"},
        "output": [
            {"type": {"coding": [{"system": TASK_PARAMETER, "code": "outcome"}]}, "valueString": "Stable angina"},
            {
                "type": {"coding": [{"system": TASK_PARAMETER, "code": "clinic-letter"}]},
                "valueAttachment": {"contentType": "application/pdf", "data": letter, "title": "clinic.pdf"},
            },
        ],
    }
    response = post(api, "Task", newer)
    assert response.status_code == 200, response.content
    answered = Task.model_validate(response.json())
    assert answered.status == "completed" and answered.output is None  # nothing clinical comes back
    older = {**newer, "meta": {"versionId": "1"}, "status": "accepted", "businessStatus": None, "output": None}
    assert post(api, "Task", {k: v for k, v in older.items() if v is not None}).status_code == 200
    referral.refresh_from_db()
    assert (referral.status, referral.task_version, referral.outcome) == (ReferralStatus.COMPLETED, 2, "Stable angina")
    assert referral.appointment_at == dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    [kept] = ReferralDocument.objects.filter(referral=referral, kind=DocumentKind.CLINIC_LETTER)
    assert bytes(kept.content) == pdf_bytes()

    task = Task.model_validate(api_client_for_gp(world, token_for).get(f"/fhir/Task/{referral.public_id}").json())
    assert task.status == "completed" and task.meta.versionId == "2"
    assert [item.type.coding[0].code for item in task.output] == ["outcome", "clinic-letter"]

    other = system_of(world, world.other_hospital)
    refused = post(Client(headers={"Authorization": f"Bearer {token_for(other)}"}), "Task", newer)
    assert refused.status_code == 403
    [denial] = denials(other)
    assert denial.detail["operation"] == "referral_status_receive"
    no_focus = post(api, "Task", {**newer, "focus": {"reference": f"ServiceRequest/{referral.public_id}"}})
    assert no_focus.status_code == 422 and outcome_of(no_focus).expression == ["Task.focus"]
    by_a_person = post(api_client_for_gp(world, token_for), "Task", newer)
    assert by_a_person.status_code == 403
    assert denials(world.gp).filter(detail__operation="referral_status_receive").exists()


def api_client_for_gp(world, token_for) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_for(world.gp)}"})


# --- The outbox's builders and the CapabilityStatement ---------------------------------------------------


def test_the_fhir_app_registers_the_delivery_builders(world):
    assert remote._builders[SERVICE_REQUEST_PAYLOAD] is service_request_for_delivery
    assert remote._builders[TASK_PAYLOAD] is task_for_delivery
    assert service_request_for_delivery(str(world.alice.public_id)) is None
    assert service_request_for_delivery("not an id") is None
    assert task_for_delivery(str(world.alice_referral.public_id)) is None  # imported: no UBRN to send


def test_the_delivery_form_names_everyone_by_identifier_and_carries_the_files(world):
    referral = make(world, attachments=[Upload("ECG.pdf", pdf_bytes())])
    request = service_request_for_delivery(str(referral.public_id))
    assert request is not None
    sent = ServiceRequest.model_validate(request.body)
    assert sent.id is None and sent.meta.versionId == "1"
    contained = {item.id: item for item in sent.contained}
    patient = contained["patient"]
    [number] = patient.identifier
    assert (number.system, number.value) == (NHS_NUMBER, world.alice.nhs_number)
    assert number.extension[0].valueCodeableConcept.coding[0].code == "01"
    role = contained["requester"]
    assert role.practitioner.identifier.value == "1234567" and role.organization.identifier.value == "S1"
    assert [(ref.type, ref.identifier.value) for ref in sent.performer] == [
        ("Organization", "H1"),
        ("Practitioner", "3234567"),
    ]
    documents = [contained[ref.reference[1:]] for ref in sent.supportingInfo]
    kinds = sorted(document.type.coding[0].code for document in documents)
    assert kinds == ["attachment", "letter"]
    assert all(document.content[0].attachment.data for document in documents)
    assert "DocumentReference/" not in json.dumps(request.body) and "Patient/" not in json.dumps(request.body)


def test_the_capability_statement_lists_referrals(client):
    statement = CapabilityStatement.model_validate(client.get("/fhir/metadata").json())
    resources = {resource.type: resource for resource in statement.rest[0].resource}
    assert [i.code for i in resources["ServiceRequest"].interaction] == ["read", "search-type", "create"]
    assert [i.code for i in resources["Task"].interaction] == ["read", "search-type", "create", "update", "patch"]
    assert {p.name for p in resources["ServiceRequest"].searchParam} >= {
        "patient",
        "status",
        "requester",
        "performer",
        "identifier",
    }
    assert {p.name for p in resources["Task"].searchParam} >= {"focus", "status", "owner"}
    assert "REST API" in statement.rest[0].documentation
