"""Referrals through the REST API: made at the surgery, triaged, booked and closed at the hospital, the
arrival pack, the documents; and who sees what (reception: the administrative facts only; another
surgery, another hospital and a connected system: nothing), every refusal on the audit trail."""

import base64
import datetime as dt
import json

import pytest

from carebridge.accounts.services import api_token_issue
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.services import allergy_record, condition_record
from carebridge.core.actor import Actor
from carebridge.organisations.services import system_account_ensure
from carebridge.referrals.attachments import Upload
from carebridge.referrals.models import DocumentKind, Referral, ReferralDocument, ReferralPriority, ReferralStatus
from carebridge.referrals.services import referral_make
from carebridge.scheduling import services as scheduling
from carebridge.scheduling.models import Slot
from carebridge.testing.schedule import WEEKDAYS_8_TO_6, schedule_time

JSON = "application/json"
MB = 1024 * 1024
HYPERTENSION = "59621000"
ASTHMA = "195967001"


def post(api, path, body):
    return api.post(path, json.dumps(body), content_type=JSON)


def pdf(size: int = 0) -> bytes:
    """A whole PDF, padded with a comment to `size` bytes when asked."""
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%"
    tail = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def encoded(content: bytes) -> str:
    return base64.b64encode(content).decode()


def denials(user, object_type=None):
    rows = AuditEvent.objects.filter(action=AuditAction.DENY, actor=user)
    return rows.filter(object_type=object_type) if object_type else rows


def referral_body(world, **extra) -> dict:
    return {
        "patient": str(world.alice.public_id),
        "receiving_facility": str(world.hospital.public_id),
        "speciality": "Cardiology",
        "priority": "urgent",
        "reason": "Palpitations on exertion",
        "clinical_summary": "Three episodes in a month; ECG at the surgery normal.",
        "investigations": ["Holter monitor", "Echocardiogram"],
        **extra,
    }


@pytest.fixture
def hospital(schedule):
    """The world with the GP's slots, and the specialist at Heartlands working 13:00-17:00 weekdays."""
    world = schedule
    system = Actor.command_line(None)
    scheduling.opening_hours_set(actor=system, facility=world.hospital, hours=WEEKDAYS_8_TO_6)
    for weekday in range(5):
        scheduling.session_add(
            actor=system,
            clinician=world.specialist.clinician,
            weekday=weekday,
            start_time=dt.time(13, 0),
            end_time=dt.time(17, 0),
            slot_minutes=30,
            appointment_types=["Specialist Consultation", "Follow-up"],
        )
    return world


def specialist_slot(world, day_offset: int = 0, time: dt.time = dt.time(13, 0)) -> Slot:
    return Slot.objects.get(clinician=world.specialist.clinician, starts_at=schedule_time(day_offset, time))


def made(world, by=None, **extra) -> Referral:
    """A referral from the GP (or `by`) to Heartlands Cardiology, made through the service (as the pages do)."""
    arguments = {
        "patient": world.alice,
        "receiving_facility": world.hospital,
        "speciality": "Cardiology",
        "priority": ReferralPriority.ROUTINE,
        "reason": "Chest pain on exertion",
        "clinical_summary": "Central, tight, eased by rest.",
        "investigations": ["Exercise ECG"],
        **extra,
    }
    return referral_make(actor=Actor.command_line(by or world.gp), **arguments)


@pytest.fixture
def system_client(world):
    """A client acting as Riverside Hospital's connected system."""
    from django.test import Client

    system = system_account_ensure(actor=Actor.command_line(world.admin), facility=world.other_hospital)
    _, token = api_token_issue(actor=Actor.command_line(), user=system, label="test")
    return system, Client(headers={"Authorization": f"Bearer {token}"})


# --- Making a referral ---------------------------------------------------------------------------------


def test_a_gp_refers_with_an_attachment_and_gets_the_referral_back(world, api_client_for):
    api = api_client_for(world.gp)
    body = referral_body(world, attachments=[{"filename": "ecg.pdf", "content_base64": encoded(pdf())}])
    response = post(api, "/api/referrals", body)
    assert response.status_code == 201, response.content
    shown = response.json()
    referral = Referral.objects.get(public_id=shown["id"])
    assert referral.referring_clinician == world.gp.clinician and referral.receiving_facility == world.hospital
    assert shown["ubrn"] == referral.ubrn and len(shown["ubrn"]) == 12
    assert shown["status"] == "new" and shown["status_words"] == "Awaiting triage"
    assert shown["reason"] == "Palpitations on exertion"
    assert shown["investigations"] == ["Holter monitor", "Echocardiogram"]
    assert shown["priority"] == "urgent" and shown["target_days"] == 28 and shown["wait_days"] == 0
    assert shown["clinical_content_withheld"] is False
    kinds = sorted(referral.documents.values_list("kind", "filename"))
    assert kinds == [("attachment", "ecg.pdf"), ("letter", f"referral-{referral.ubrn}.pdf")]
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type=AuditObject.REFERRAL, object_id=shown["id"], actor=world.gp
    ).exists()


def test_base64_that_is_not_is_refused_naming_the_field(world, api_client_for):
    body = referral_body(world, attachments=[{"filename": "scan.pdf", "content_base64": "not base64!"}])
    response = post(api_client_for(world.gp), "/api/referrals", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"attachments.0.content_base64"}
    assert "scan.pdf" in response.json()["detail"]
    assert not Referral.objects.filter(reason="Palpitations on exertion").exists()


def test_an_attachment_over_5_mb_is_refused_naming_the_file(world, api_client_for):
    big = pdf(6 * MB)
    body = referral_body(world, attachments=[{"filename": "holter-trace.pdf", "content_base64": encoded(big)}])
    # About 8 MB of JSON: past the API's usual 1 MB, within what referrals may carry.
    response = post(api_client_for(world.gp), "/api/referrals", body)
    assert response.status_code == 422, response.content
    message = response.json()["fields"]["attachments"]
    assert "holter-trace.pdf is 6.0 MB" in message and "at most 5 MB" in message
    assert not Referral.objects.filter(reason="Palpitations on exertion").exists()


def test_an_executable_renamed_pdf_is_refused_naming_the_file(world, api_client_for):
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run"
    body = referral_body(world, attachments=[{"filename": "results.pdf", "content_base64": encoded(program)}])
    response = post(api_client_for(world.gp), "/api/referrals", body)
    assert response.status_code == 422
    assert response.json()["fields"]["attachments"].startswith("results.pdf is not a PDF or an image")


def test_a_body_past_the_referral_limit_is_refused_before_any_view(world, api_client_for):
    response = api_client_for(world.gp).post("/api/referrals", "x" * (22 * MB + 1), content_type=JSON)
    assert response.status_code == 413 and response.json()["code"] == "too-large"
    # The larger limit is the referral endpoints' alone.
    elsewhere = api_client_for(world.gp).post("/api/appointments", "x" * (2 * MB), content_type=JSON)
    assert elsewhere.status_code == 413


def test_the_rules_refuse_a_hospital_that_does_not_offer_the_service(world, api_client_for):
    body = referral_body(world, receiving_facility=str(world.other_hospital.public_id))
    response = post(api_client_for(world.gp), "/api/referrals", body)
    assert response.status_code == 422
    assert response.json()["fields"] == {"speciality": "Choose a service Riverside Hospital offers."}


def test_reception_may_see_the_patient_but_not_refer(world, api_client_for):
    response = post(api_client_for(world.reception), "/api/referrals", referral_body(world))
    assert response.status_code == 403 and response.json()["code"] == "not-permitted"
    assert denials(world.reception, AuditObject.REFERRAL).filter(patient_id=world.alice.pk).count() == 1


def test_a_gp_at_another_surgery_cannot_refer_alice(world, api_client_for):
    response = post(api_client_for(world.other_gp), "/api/referrals", referral_body(world))
    assert response.status_code == 404
    assert denials(world.other_gp, AuditObject.PATIENT).filter(patient_id=world.alice.pk).exists()
    assert not Referral.objects.filter(reason="Palpitations on exertion").exists()


# --- Reading --------------------------------------------------------------------------------------------


def test_the_gp_lists_referrals_and_each_patient_shown_is_on_the_trail(world, api_client_for):
    second = made(world, patient=world.carol)
    listed = api_client_for(world.gp).get("/api/referrals")
    assert listed.status_code == 200
    assert {row["id"] for row in listed.json()} == {str(world.alice_referral.public_id), str(second.public_id)}
    searches = AuditEvent.objects.filter(
        action=AuditAction.SEARCH, object_type=AuditObject.REFERRAL, actor=world.gp
    ).values_list("patient_id", flat=True)
    assert sorted(searches) == sorted([world.alice.pk, world.carol.pk])

    only_new = api_client_for(world.gp).get("/api/referrals", {"patient": str(world.carol.public_id), "status": "new"})
    assert [row["id"] for row in only_new.json()] == [str(second.public_id)]
    none_pending = api_client_for(world.gp).get("/api/referrals", {"status": "pending"})
    assert none_pending.json() == []


def test_a_patient_lists_their_own_referrals_in_plain_words(world, api_client_for):
    made(world, by=world.other_gp, patient=world.bob, receiving_facility=world.other_hospital, speciality="Neurology")
    listed = api_client_for(world.alice_user).get("/api/referrals")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == [str(world.alice_referral.public_id)]
    assert listed.json()[0]["status_words"] == "Sent to the hospital"
    someone_else = api_client_for(world.alice_user).get("/api/referrals", {"patient": str(world.bob.public_id)})
    assert someone_else.status_code == 404
    assert denials(world.alice_user, AuditObject.PATIENT).filter(patient_id=world.bob.pk).exists()


def test_a_clinician_reads_a_referral_with_its_history_deliveries_and_documents(world, api_client_for):
    referral = made(world)
    shown = api_client_for(world.specialist).get(f"/api/referrals/{referral.public_id}")
    assert shown.status_code == 200, shown.content
    body = shown.json()
    assert body["referral"]["reason"] == "Chest pain on exertion"
    assert [step["words"] for step in body["history"]] == ["Referral made and sent"]
    channels = {row["channel"] for row in body["deliveries"]}
    assert channels == {"Email"}  # no hospital system connected in the test world
    assert all("@" not in json.dumps(row) for row in body["deliveries"])
    assert [row["kind"] for row in body["documents"]] == ["letter"]
    assert body["documents"][0]["content_type"] == "application/pdf" and body["documents"][0]["size"] > 0
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, actor=world.specialist, patient_id=world.alice.pk)


def test_hospital_reception_sees_the_administrative_facts_only(world, api_client_for):
    referral = made(world)
    api = api_client_for(world.hospital_reception)
    body = api.get(f"/api/referrals/{referral.public_id}").json()
    shown = body["referral"]
    assert shown["ubrn"] == referral.ubrn and shown["priority"] == "routine" and shown["speciality"] == "Cardiology"
    assert shown["clinical_content_withheld"] is True
    for clinical in ("reason", "clinical_summary", "status_reason", "outcome", "triage_comment"):
        assert shown[clinical] == "", clinical
    assert shown["investigations"] == []
    assert body["documents"] == []
    assert "Chest pain" not in json.dumps(body) and "Exercise ECG" not in json.dumps(body)
    listed = api.get("/api/referrals").json()
    assert listed and all(row["reason"] == "" and row["clinical_content_withheld"] for row in listed)

    pack = api.get(f"/api/referrals/{referral.public_id}/pack")
    assert pack.status_code == 404
    assert denials(world.hospital_reception, AuditObject.REFERRAL).filter(patient_id=world.alice.pk).exists()
    letter = referral.documents.get(kind=DocumentKind.LETTER)
    assert api.get(f"/api/referrals/documents/{letter.public_id}").status_code == 404
    assert denials(world.hospital_reception, AuditObject.REFERRAL).filter(object_id=str(letter.public_id)).exists()


@pytest.mark.parametrize("stranger", ["other_gp", "other_specialist"])
def test_another_surgery_or_hospital_gets_404_and_the_refusal_is_audited(world, api_client_for, stranger):
    user = getattr(world, stranger)
    api = api_client_for(user)
    referral = world.alice_referral
    for path in (f"/api/referrals/{referral.public_id}", f"/api/referrals/{referral.public_id}/pack"):
        assert api.get(path).status_code == 404, path
    assert denials(user, AuditObject.REFERRAL).filter(object_id=str(referral.public_id)).count() == 2
    assert api.get("/api/referrals").json() == []
    assert api.get("/api/referrals", {"patient": str(world.alice.public_id)}).status_code == 404


def test_a_missing_referral_is_404_and_audited(world, api_client_for):
    missing = "00000000-0000-4000-8000-000000000000"
    api = api_client_for(world.specialist)
    assert api.get(f"/api/referrals/{missing}").status_code == 404
    triage = post(api, f"/api/referrals/{missing}/triage", {"decision": "accept"})
    assert triage.status_code == 404 and triage.json()["code"] == "not-found"
    assert denials(world.specialist, AuditObject.REFERRAL).filter(object_id=missing).count() == 2


def test_a_connected_system_reads_no_referral(world, system_client):
    system, api = system_client
    referral = world.alice_referral
    assert api.get(f"/api/referrals/{referral.public_id}").status_code == 404
    assert api.get(f"/api/referrals/{referral.public_id}/pack").status_code == 404
    assert api.get("/api/referrals").json() == []
    assert api.get("/api/referrals/worklist").status_code == 404
    assert denials(system, AuditObject.REFERRAL).filter(object_id=str(referral.public_id)).count() == 2
    assert denials(system, AuditObject.REFERRAL_WORKLIST).count() == 1
    # The empty list is on the trail too: one row, with no patient.
    search = AuditEvent.objects.get(action=AuditAction.SEARCH, object_type=AuditObject.REFERRAL, actor=system)
    assert search.patient_id is None


def test_the_worklist_puts_the_most_urgent_first_with_waits_against_targets(world, api_client_for):
    two_week_wait = made(world, priority=ReferralPriority.TWO_WEEK_WAIT, patient=world.carol)
    routine = made(world, priority=ReferralPriority.ROUTINE, speciality="Dermatology", reason="Changing mole")
    # Imported 20 days ago as urgent (target 28 days); and one imported 130 days ago, routine: breached.
    Referral.objects.filter(pk=world.alice_referral.pk).update(
        referral_date=world.alice_referral.referral_date - dt.timedelta(days=20)
    )
    breached = made(world, priority=ReferralPriority.ROUTINE)
    Referral.objects.filter(pk=breached.pk).update(referral_date=breached.referral_date - dt.timedelta(days=130))

    api = api_client_for(world.specialist)
    everything = api.get("/api/referrals/worklist")
    assert everything.status_code == 200
    body = everything.json()
    assert body["services"] == ["Cardiology", "Dermatology"]
    order = [row["id"] for row in body["referrals"]]
    assert order == [
        str(two_week_wait.public_id),
        str(world.alice_referral.public_id),
        str(breached.public_id),
        str(routine.public_id),
    ]
    rows = {row["id"]: row for row in body["referrals"]}
    assert rows[str(breached.public_id)]["wait_days"] == 130 and rows[str(breached.public_id)]["is_breached"] is True
    assert rows[str(breached.public_id)]["target_days"] == 126
    assert rows[str(world.alice_referral.public_id)]["wait_days"] == 20
    assert rows[str(world.alice_referral.public_id)]["is_breached"] is False
    dermatology = api.get("/api/referrals/worklist", {"speciality": "Dermatology"}).json()
    assert [row["id"] for row in dermatology["referrals"]] == [str(routine.public_id)]
    searched = AuditEvent.objects.filter(action=AuditAction.SEARCH, object_type=AuditObject.REFERRAL_WORKLIST)
    assert set(searched.values_list("patient_id", flat=True)) == {world.alice.pk, world.carol.pk}

    surgery = api_client_for(world.gp).get("/api/referrals/worklist")
    assert surgery.status_code == 404
    assert denials(world.gp, AuditObject.REFERRAL_WORKLIST).count() == 1


# --- At the hospital -----------------------------------------------------------------------------------


def test_a_hospital_nurse_may_not_triage_and_the_refusal_is_audited(world, api_client_for):
    referral = made(world)
    response = post(
        api_client_for(world.hospital_nurse), f"/api/referrals/{referral.public_id}/triage", {"decision": "accept"}
    )
    assert response.status_code == 403 and response.json()["code"] == "not-permitted"
    assert denials(world.hospital_nurse, AuditObject.REFERRAL).filter(object_id=str(referral.public_id)).count() == 1
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW


def test_the_other_hospital_cannot_triage_alice(world, api_client_for):
    referral = made(world)
    response = post(
        api_client_for(world.other_specialist), f"/api/referrals/{referral.public_id}/triage", {"decision": "accept"}
    )
    assert response.status_code == 404
    assert denials(world.other_specialist, AuditObject.REFERRAL).filter(object_id=str(referral.public_id)).count() == 1


def test_triage_asks_for_information_and_the_gp_sends_it(world, api_client_for):
    referral = made(world)
    asked = post(
        api_client_for(world.specialist),
        f"/api/referrals/{referral.public_id}/triage",
        {"decision": "request_information", "text": "Please send the last ECG."},
    )
    assert asked.status_code == 200, asked.content
    assert asked.json()["status"] == "info_requested" and asked.json()["status_reason"] == "Please send the last ECG."
    sent = post(
        api_client_for(world.gp),
        f"/api/referrals/{referral.public_id}/information",
        {"information": "ECG attached.", "attachments": [{"filename": "ecg.pdf", "content_base64": encoded(pdf())}]},
    )
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "new" and sent.json()["version"] == 2
    assert "ECG attached." in sent.json()["clinical_summary"]
    assert referral.documents.filter(kind=DocumentKind.ATTACHMENT, filename="ecg.pdf").exists()
    not_the_referrer = post(
        api_client_for(world.other_gp), f"/api/referrals/{referral.public_id}/information", {"information": "x"}
    )
    assert not_the_referrer.status_code == 404
    assert denials(world.other_gp, AuditObject.REFERRAL).filter(object_id=str(referral.public_id)).exists()

    triage = api_client_for(world.specialist)
    assert post(triage, f"/api/referrals/{referral.public_id}/triage", {"decision": "accept"}).status_code == 200
    again = post(triage, f"/api/referrals/{referral.public_id}/triage", {"decision": "reject", "text": "No"})
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    late = post(api_client_for(world.gp), f"/api/referrals/{referral.public_id}/information", {"information": "More"})
    assert late.status_code == 409


def test_a_priority_change_at_triage_needs_a_comment(world, api_client_for):
    referral = made(world)
    response = post(
        api_client_for(world.specialist),
        f"/api/referrals/{referral.public_id}/triage",
        {"decision": "accept", "priority": "two_week_wait"},
    )
    assert response.status_code == 422 and response.json()["fields"] == {"comment": "Say why the priority changes."}


def test_accepted_booked_seen_and_closed_through_the_api(hospital, api_client_for):
    world = hospital
    referral = made(world)
    specialist = api_client_for(world.specialist)
    accepted = post(
        specialist,
        f"/api/referrals/{referral.public_id}/triage",
        {"decision": "accept", "priority": "urgent", "comment": "Symptoms worsening"},
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "pending" and accepted.json()["priority"] == "urgent"
    assert accepted.json()["triaged_by"]["id"] == str(world.specialist.clinician.public_id)

    slot = specialist_slot(world)
    desk = api_client_for(world.hospital_reception)
    not_a_desk = post(specialist, f"/api/referrals/{referral.public_id}/book", {"slot": str(slot.public_id)})
    assert not_a_desk.status_code == 403
    assert denials(world.specialist, AuditObject.REFERRAL).filter(object_id=str(referral.public_id)).exists()
    booked = post(
        desk,
        f"/api/referrals/{referral.public_id}/book",
        {"slot": str(slot.public_id), "appointment_type": "Specialist Consultation"},
    )
    assert booked.status_code == 200, booked.content
    shown = booked.json()
    assert shown["status"] == "in_progress" and shown["appointment_at"] is not None
    assert shown["reason"] == "" and shown["clinical_content_withheld"] is True  # the desk's own view
    referral.refresh_from_db()
    assert referral.appointment.slot == slot
    twice = post(desk, f"/api/referrals/{referral.public_id}/book", {"slot": str(specialist_slot(world, 1).public_id)})
    assert twice.status_code == 409

    too_soon = post(
        specialist, f"/api/referrals/{referral.public_id}/outcome", {"outcome": "Seen", "clinic_letter": "Dear Dr"}
    )
    assert too_soon.status_code == 409
    scheduling.appointment_check_in(
        actor=Actor.command_line(world.hospital_reception), appointment=referral.appointment
    )
    closed = post(
        specialist,
        f"/api/referrals/{referral.public_id}/outcome",
        {"outcome": "Paroxysmal AF; started on a beta blocker.", "clinic_letter": "Dear Dr Patel, I saw Alice today."},
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "completed" and closed.json()["outcome"].startswith("Paroxysmal AF")
    assert referral.documents.filter(kind=DocumentKind.CLINIC_LETTER).count() == 1
    history = specialist.get(f"/api/referrals/{referral.public_id}").json()["history"]
    assert [step["status"] for step in history] == ["new", "pending", "in_progress", "completed"]


# --- The arrival pack and the files --------------------------------------------------------------------


def test_the_pack_has_the_record_and_stays_within_its_statements(world, api_client_for, django_assert_max_num_queries):
    scans = [Upload(filename=f"scan-{number}.pdf", content=pdf(100 + number)) for number in range(3)]
    referral = made(world, attachments=scans)
    gp = Actor.command_line(world.gp)
    allergy_record(actor=gp, patient=world.alice, substance="penicillins", reaction="Rash", severity="severe")
    allergy_record(actor=gp, patient=world.alice, text="Sticking plasters")
    condition_record(actor=gp, patient=world.alice, code=HYPERTENSION)
    condition_record(actor=gp, patient=world.alice, code=ASTHMA)
    api = api_client_for(world.specialist)
    api.get("/api/me")  # the token's first use records it; later requests do not write it again

    # Auth 1, the referral with its patient 1, their access 2, the read's audit row 1, then documents,
    # medicines, allergies and problems 1 each: 9. Whatever the record holds, no more.
    with django_assert_max_num_queries(9):
        response = api.get(f"/api/referrals/{referral.public_id}/pack")
    assert response.status_code == 200, response.content
    pack = response.json()
    assert pack["referral"]["reason"] == "Chest pain on exertion" and pack["referral"]["target_days"] == 126
    assert sorted(row["kind"] for row in pack["documents"]) == ["attachment"] * 3 + ["letter"]
    assert [row["medicine"] for row in pack["medicines"]] == ["Simvastatin"]
    assert pack["medicines"][0]["dose"] == "20mg"
    assert {row["display"] for row in pack["allergies"]} == {"Penicillins", "Sticking plasters"}
    assert len(pack["problems"]) == 2


def test_a_clinician_downloads_a_document_as_an_attachment(world, api_client_for):
    content = pdf(2048)
    referral = made(world, attachments=[])
    sent = post(
        api_client_for(world.gp),
        f"/api/referrals/{referral.public_id}/information",
        {"information": "Scan", "attachments": [{"filename": "Échographie 3.pdf", "content_base64": encoded(content)}]},
    )
    assert sent.status_code == 200
    document = ReferralDocument.objects.get(referral=referral, kind=DocumentKind.ATTACHMENT)
    response = api_client_for(world.specialist).get(f"/api/referrals/documents/{document.public_id}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%C3%89chographie%203.pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response.content == content
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, actor=world.specialist, patient_id=world.alice.pk)
    stranger = api_client_for(world.other_specialist).get(f"/api/referrals/documents/{document.public_id}")
    assert stranger.status_code == 404
    assert denials(world.other_specialist, AuditObject.REFERRAL).exists()
