"""Referrals through their services: made at the surgery, triaged, booked and seen at the hospital, received
from and reported to another Carebridge; what each person may do and see, and what is sent to whom."""

import base64
import datetime as dt
import io

import pytest
from pypdf import PdfReader

from carebridge.access.models import CareRelationship, RelationshipKind
from carebridge.access.rules import access_for, visible_patients
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.services import allergy_record, consultation_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotFound, NotPermitted
from carebridge.delivery.models import OutboundEmail, OutboundFhir
from carebridge.delivery.tests.mail_testing import attachments_of, body_of, mail_server, run_queued_mail  # noqa: F401
from carebridge.organisations.models import Facility
from carebridge.organisations.services import facility_endpoint_set, system_account_ensure
from carebridge.patients.models import Patient
from carebridge.referrals.attachments import MAX_ATTACHMENT_BYTES, Upload
from carebridge.referrals.letter import formatted_ubrn
from carebridge.referrals.models import DocumentKind, Referral, ReferralDocument, ReferralEvent, ReferralStatus
from carebridge.referrals.selectors import (
    referral_deliveries,
    referral_for,
    referral_pack_for,
    referral_worklist,
)
from carebridge.referrals.services import (
    IncomingPatient,
    IncomingReferral,
    IncomingStatus,
    TriageDecision,
    referral_add_information,
    referral_book,
    referral_make,
    referral_receive,
    referral_record_outcome,
    referral_status_receive,
    referral_triage,
)
from carebridge.scheduling.models import Slot
from carebridge.scheduling.services import appointment_check_in, opening_hours_set, session_add
from carebridge.testing.world import VALID_NHS_NUMBERS

ASTHMA = "195967001"
ALICE_EMAIL = "alice.archer@example.org"
REASON = "Exertional chest tightness"
SUMMARY = "Three months of tightness on climbing hills, relieved by rest. Father had angina at 55."
INVESTIGATIONS = ["Exercise tolerance test", "Lipid profile"]
WEEKDAYS_8_TO_6 = {weekday: [(dt.time(8, 0), dt.time(18, 0))] for weekday in range(5)}


def act(user) -> Actor:
    return Actor(user=user, channel="web", ip_address="127.0.0.1")


def pdf_bytes(size: int = 0) -> bytes:
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%"
    tail = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(content))).pages)


def denials(user, object_type: AuditObject = AuditObject.REFERRAL):
    return AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type=object_type)


def make(world, who=None, **overrides) -> Referral:
    arguments = {
        "patient": world.alice,
        "receiving_facility": world.hospital,
        "speciality": "Cardiology",
        "priority": "urgent",
        "reason": REASON,
        "clinical_summary": SUMMARY,
        "investigations": INVESTIGATIONS,
    }
    arguments.update(overrides)
    return referral_make(actor=act(who or world.gp), **arguments)


def triage(world, referral, decision=TriageDecision.ACCEPT, who=None, **extra) -> Referral:
    return referral_triage(actor=act(who or world.specialist), referral=referral, decision=decision, **extra)


def emails_for(referral: Referral) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(idempotency_key__startswith=f"referral:{referral.public_id}:"))


@pytest.fixture
def alice_with_history(world):
    """Alice with an email address, an allergy and a problem (the world gives her a prescription)."""
    Patient.objects.filter(pk=world.alice.pk).update(email=ALICE_EMAIL)
    world.alice.refresh_from_db()
    allergy_record(actor=act(world.gp), patient=world.alice, text="Elastoplast adhesive", reaction="Blistering")
    consultation_record(actor=act(world.gp), patient=world.alice, symptoms="Wheeze at night", condition_code=ASTHMA)
    return world


@pytest.fixture
def clinics(world, settings):
    """Both hospitals open weekdays 08:00-18:00; their consultants see patients 09:00-12:00 in 30 minutes."""
    settings.SLOT_HORIZON_DAYS = 13
    command_line = Actor.command_line()
    for facility, consultant in ((world.hospital, world.specialist), (world.other_hospital, world.other_specialist)):
        opening_hours_set(actor=command_line, facility=facility, hours=WEEKDAYS_8_TO_6)
        for weekday in range(5):
            session_add(
                actor=command_line,
                clinician=consultant.clinician,
                weekday=weekday,
                start_time=dt.time(9, 0),
                end_time=dt.time(12, 0),
                slot_minutes=30,
                appointment_types=["Specialist Consultation"],
            )
    return world


def slot_today(consultant, at: dt.time = dt.time(9, 0)) -> Slot:
    return Slot.objects.get(clinician=consultant.clinician, starts_at=clock.london_datetime(clock.today(), at))


def system_of(facility: Facility):
    return system_account_ensure(actor=Actor.command_line(), facility=facility)


# --- Making a referral ----------------------------------------------------------------------------------


def test_a_referral_gets_a_unique_12_digit_ubrn_and_the_service_as_the_hospital_names_it(world):
    first = make(world, speciality="  cardiology ")
    second = make(world)  # the same referral made twice is two referrals: sending one twice is delivery's
    assert first.ubrn != second.ubrn
    for referral in (first, second):
        assert len(referral.ubrn) == 12 and referral.ubrn.isdigit()
        assert (referral.status, referral.version, referral.task_version) == (ReferralStatus.NEW, 1, 0)
    assert first.speciality == "Cardiology"
    assert (first.referring_clinician, first.referring_facility) == (world.gp.clinician, world.surgery)
    assert first.requested_investigations == INVESTIGATIONS
    assert first.referral_date == clock.today()
    assert Referral.objects.filter(ubrn__in=[first.ubrn, second.ubrn]).count() == 2
    [event] = ReferralEvent.objects.filter(referral=first)
    assert event.status == ReferralStatus.NEW and "Grace Patel" in event.by


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"receiving_facility": "other_surgery"}, "receiving_facility"),
        ({"speciality": "Neurology"}, "speciality"),  # offered by the other hospital, not this one
        ({"receiving_clinician": "other_specialist"}, "receiving_clinician"),
        ({"priority": "soon"}, "priority"),
        ({"priority": "non_urgent"}, "priority"),  # imported from the coursework, never chosen
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 301}, "reason"),
        ({"clinical_summary": "x" * 20_001}, "clinical_summary"),
        ({"investigations": ["x" * 201]}, "investigations"),
        ({"attachments": [Upload("scan.pdf", pdf_bytes(MAX_ATTACHMENT_BYTES + 1))]}, "attachments"),
        ({"attachments": [Upload("results.pdf", b"MZ\x90\x00" + b"\x00" * 200)]}, "attachments"),
    ],
)
def test_a_referral_that_cannot_be_sent_is_refused_naming_the_field(world, overrides, field):
    for name in ("receiving_facility", "receiving_clinician"):
        if name in overrides:
            value = getattr(world, overrides[name])
            overrides[name] = value.clinician if name == "receiving_clinician" else value
    with pytest.raises(Invalid) as refused:
        make(world, **overrides)
    assert field in refused.value.fields
    assert not Referral.objects.exclude(pk=world.alice_referral.pk).exists()
    assert not OutboundEmail.objects.exists()


def test_a_consultation_of_another_patient_is_refused(world):
    bobs = consultation_record(actor=act(world.other_gp), patient=world.bob, symptoms="Cough")
    with pytest.raises(Invalid) as refused:
        make(world, consultation=bobs)
    assert "consultation" in refused.value.fields


def test_a_nurse_at_the_surgery_may_refer(world):
    # The issue: "a GP (or another clinician at a GP surgery)": practice nurses refer (to dermatology,
    # say, from a leg-ulcer clinic), and the hospital triages what they send like any other.
    referral = make(world, world.nurse, speciality="Dermatology", priority="routine")
    assert referral.referring_clinician == world.nurse.clinician


@pytest.mark.parametrize("name, refusal", [("specialist", NotPermitted), ("reception", NotPermitted)])
def test_only_clinicians_at_a_gp_surgery_refer_and_each_refusal_is_audited(world, name, refusal):
    # Both may see Alice's record (the hospital through her referral, reception at her surgery), so
    # they are told they may not, rather than that there is no such patient.
    user = getattr(world, name)
    with pytest.raises(refusal):
        make(world, user)
    [denial] = denials(user)
    assert denial.patient_id == world.alice.pk and denial.detail["operation"] == "referral_make"
    assert Referral.objects.count() == 1


def test_a_gp_at_another_surgery_finds_no_such_patient_and_is_audited(world):
    with pytest.raises(NotFound):
        make(world, world.other_gp)
    [denial] = denials(world.other_gp)
    assert denial.patient_id == world.alice.pk
    assert Referral.objects.count() == 1


def test_the_letter_carries_what_the_hospital_needs(alice_with_history):
    world = alice_with_history
    attachment = pdf_bytes()
    referral = make(world, attachments=[Upload("ECG 12 lead.pdf", attachment)])
    [letter] = ReferralDocument.objects.filter(referral=referral, kind=DocumentKind.LETTER)
    [kept] = ReferralDocument.objects.filter(referral=referral, kind=DocumentKind.ATTACHMENT)
    assert bytes(kept.content) == attachment and kept.content_type == "application/pdf"
    assert letter.content_type == "application/pdf" and bytes(letter.content).startswith(b"%PDF-")
    text = " ".join(pdf_text(letter.content).split())
    for expected in ("943 476 5919", "Simvastatin", "Elastoplast adhesive", "Asthma", REASON, "Lipid profile"):
        assert expected in text, expected
    assert formatted_ubrn(referral.ubrn) in text


def test_the_receiving_hospital_may_see_the_patient_once_referred(world):
    assert access_for(world.other_specialist, world.alice) is None
    referral = make(world, receiving_facility=world.other_hospital, speciality="Neurology", priority="routine")
    assert access_for(world.other_specialist, world.alice) is not None
    received = CareRelationship.objects.get(source_id=referral.public_id, kind=RelationshipKind.REFERRAL_RECEIVED)
    assert (received.facility, received.ends_at) == (world.other_hospital, None)
    sent = CareRelationship.objects.get(source_id=referral.public_id, kind=RelationshipKind.REFERRAL_SENT)
    assert (sent.facility, sent.clinician) == (world.surgery, world.gp.clinician)


def test_the_hospital_is_emailed_the_letter_and_the_patient_is_told_without_clinical_words(alice_with_history):
    world = alice_with_history
    referral = make(world, priority="two_week_wait")
    to_hospital = OutboundEmail.objects.get(idempotency_key=f"referral:{referral.public_id}:to-hospital:v1")
    assert to_hospital.recipient == "h1@nhs.example"  # the facility's email: no referral address is set
    assert formatted_ubrn(referral.ubrn) in to_hospital.subject
    assert to_hospital.until_given_up
    [attached] = to_hospital.attachments
    letter = ReferralDocument.objects.get(referral=referral, kind=DocumentKind.LETTER)
    assert attached["content_type"] == "application/pdf"
    assert base64.b64decode(attached["content_base64"]) == bytes(letter.content)

    to_patient = OutboundEmail.objects.get(idempotency_key=f"referral:{referral.public_id}:to-patient:made")
    assert to_patient.recipient == ALICE_EMAIL and not to_patient.attachments
    words = f"{to_patient.subject}\n{to_patient.body}".lower()
    assert formatted_ubrn(referral.ubrn) in to_patient.body
    clinical = [REASON, SUMMARY, "chest", "angina", "cardiology", "two-week", "two week", "urgent", "cancer"]
    clinical += [*INVESTIGATIONS, "exercise", "lipid", "simvastatin", "asthma", "elastoplast"]
    for word in clinical:
        assert word.lower() not in words, word


def test_a_set_referral_address_is_used_instead_of_the_facility_email(world):
    Facility.objects.filter(pk=world.hospital.pk).update(referral_email="cardiology.referrals@h1.example")
    world.hospital.refresh_from_db()
    referral = make(world)
    assert [email.recipient for email in emails_for(referral)] == ["cardiology.referrals@h1.example"]


# --- Triage -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "decision, text, status, task_status, business_status",
    [
        (TriageDecision.ACCEPT, "", ReferralStatus.PENDING, "accepted", "accepted, awaiting booking"),
        (TriageDecision.RETURN_WITH_ADVICE, "Start a statin.", ReferralStatus.RETURNED, "completed", None),
        (TriageDecision.REJECT, "Not a cardiac picture.", ReferralStatus.REJECTED, "rejected", "rejected"),
        (TriageDecision.REQUEST_INFORMATION, "Send the ECG.", ReferralStatus.INFO_REQUESTED, "on-hold", None),
    ],
)
def test_each_triage_decision_sets_the_state_the_referrer_sees(
    world, decision, text, status, task_status, business_status
):
    referral = make(world)
    triaged = triage(world, referral, decision, text=text)
    assert (triaged.status, triaged.task_status, triaged.status_reason) == (status, task_status, text)
    if business_status:
        assert triaged.task_business_status == business_status
    assert (triaged.triaged_by, triaged.triaged_at, triaged.task_version) == (
        world.specialist.clinician,
        clock.now(),
        1,
    )
    assert ReferralEvent.objects.filter(referral=referral).count() == 2
    assert ReferralEvent.objects.filter(referral=referral).last().status == status


@pytest.mark.parametrize(
    "decision", [TriageDecision.RETURN_WITH_ADVICE, TriageDecision.REJECT, TriageDecision.REQUEST_INFORMATION]
)
def test_a_decision_that_tells_the_gp_something_needs_the_words(world, decision):
    referral = make(world)
    with pytest.raises(Invalid) as refused:
        triage(world, referral, decision, text="  ")
    assert "text" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        triage(world, referral, decision, text="x" * 2001)
    assert "text" in refused.value.fields
    triage(world, referral, decision, text="x" * 2000)


def test_an_unknown_decision_is_refused(world):
    with pytest.raises(Invalid) as refused:
        triage(world, make(world), "maybe")
    assert "decision" in refused.value.fields


def test_a_priority_change_needs_a_comment_and_keeps_it(world):
    referral = make(world, priority="routine")
    with pytest.raises(Invalid) as refused:
        triage(world, referral, priority="two_week_wait")
    assert "comment" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        triage(world, referral, priority="non_urgent", comment="Can wait")
    assert "priority" in refused.value.fields
    triaged = triage(world, referral, priority="two_week_wait", comment="Weight loss: possible cancer pathway.")
    assert (triaged.priority, triaged.triage_comment) == ("two_week_wait", "Weight loss: possible cancer pathway.")
    event = ReferralEvent.objects.filter(referral=referral).last()
    assert "Routine to Two-week wait" in event.words and "cancer pathway" in event.comment


def test_a_consultant_at_another_hospital_cannot_be_named_at_triage(world):
    with pytest.raises(Invalid) as refused:
        triage(world, make(world), consultant=world.other_specialist.clinician)
    assert "consultant" in refused.value.fields


def test_a_hospital_nurse_may_not_triage_and_a_consultant_elsewhere_sees_nothing(world):
    referral = make(world)
    with pytest.raises(NotPermitted):
        triage(world, referral, who=world.hospital_nurse)
    assert denials(world.hospital_nurse).get().object_id == str(referral.public_id)
    with pytest.raises(NotFound):
        triage(world, referral, who=world.other_specialist)
    assert denials(world.other_specialist).get().patient_id == world.alice.pk
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW and referral.triaged_by is None


def test_a_referral_is_triaged_once(world):
    referral = make(world)
    triage(world, referral)
    with pytest.raises(Conflict):
        triage(world, referral, TriageDecision.REJECT, text="Changed my mind")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING


@pytest.mark.parametrize(
    "decision, text", [(TriageDecision.RETURN_WITH_ADVICE, "Start a statin."), (TriageDecision.REJECT, "Not cardiac.")]
)
def test_a_closed_referral_opens_the_record_to_the_hospital_for_90_days_more(world, decision, text):
    referral = make(world, receiving_facility=world.other_hospital, speciality="Neurology")
    triaged = triage(world, referral, decision, who=world.other_specialist, text=text)
    assert triaged.completed_at == clock.now()
    rows = CareRelationship.objects.filter(source_id=referral.public_id)
    assert rows.count() == 2
    assert {row.ends_at for row in rows} == {clock.now() + dt.timedelta(days=90)}
    clock.freeze(clock.now() + dt.timedelta(days=90, minutes=1))
    assert access_for(world.other_specialist, world.alice) is None


# --- Booking and the outcome ------------------------------------------------------------------------------


def test_hospital_reception_books_an_accepted_referral_and_the_patient_is_told(clinics, alice_with_history):
    world = clinics
    referral = triage(world, make(world))
    slot = slot_today(world.specialist)
    booked = referral_book(actor=act(world.hospital_reception), referral=referral, slot=slot)
    assert booked.status == ReferralStatus.IN_PROGRESS and booked.task_status == "in-progress"
    assert booked.appointment.slot == slot and booked.appointment_at == slot.starts_at
    assert booked.receiving_clinician == world.specialist.clinician
    assert booked.task_business_status == "appointment booked"
    confirmation = OutboundEmail.objects.get(idempotency_key=f"appointment:{booked.appointment.public_id}:booked")
    assert confirmation.recipient == ALICE_EMAIL
    assert ReferralEvent.objects.filter(referral=referral).last().status == ReferralStatus.IN_PROGRESS
    with pytest.raises(Conflict):  # booked already
        referral_book(
            actor=act(world.hospital_reception), referral=referral, slot=slot_today(world.specialist, dt.time(10))
        )


def test_only_an_accepted_referral_is_booked_and_only_at_its_hospital(clinics):
    world = clinics
    referral = make(world)
    with pytest.raises(Conflict):
        referral_book(actor=act(world.hospital_reception), referral=referral, slot=slot_today(world.specialist))
    triage(world, referral)
    with pytest.raises(Invalid) as refused:
        referral_book(actor=act(world.hospital_reception), referral=referral, slot=slot_today(world.other_specialist))
    assert "slot" in refused.value.fields
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING and referral.appointment is None


def test_the_surgerys_reception_may_not_book_the_hospital_appointment(clinics):
    world = clinics
    referral = triage(world, make(world))
    with pytest.raises(NotPermitted):
        referral_book(actor=act(world.reception), referral=referral, slot=slot_today(world.specialist))
    assert denials(world.reception).get().object_id == str(referral.public_id)
    referral.refresh_from_db()
    assert referral.appointment is None


def test_the_outcome_is_recorded_once_the_patient_has_arrived_and_the_clinic_letter_goes_to_the_surgery(clinics):
    world = clinics
    referral = triage(world, make(world))
    referral = referral_book(actor=act(world.hospital_reception), referral=referral, slot=slot_today(world.specialist))
    outcome = {"outcome": "Stable angina.", "clinic_letter": "Dear Dr Patel, I saw Alice today. Start bisoprolol."}
    with pytest.raises(Conflict):
        referral_record_outcome(actor=act(world.specialist), referral=referral, **outcome)
    appointment_check_in(actor=act(world.hospital_reception), appointment=referral.appointment)
    referral.refresh_from_db()
    assert referral.task_business_status == "patient arrived"
    with pytest.raises(NotPermitted):
        referral_record_outcome(actor=act(world.hospital_nurse), referral=referral, **outcome)

    clock.freeze(clock.now() + dt.timedelta(hours=2))
    done = referral_record_outcome(actor=act(world.specialist), referral=referral, **outcome)

    assert (done.status, done.outcome, done.completed_at) == (ReferralStatus.COMPLETED, "Stable angina.", clock.now())
    assert done.task_status == "completed" and done.task_business_status == "seen, outcome letter sent"
    [letter] = ReferralDocument.objects.filter(referral=referral, kind=DocumentKind.CLINIC_LETTER)
    assert "bisoprolol" in pdf_text(letter.content)
    [email] = OutboundEmail.objects.filter(idempotency_key__startswith=f"referral:{referral.public_id}:clinic-letter:")
    assert email.recipient == "s1@nhs.example"
    assert base64.b64decode(email.attachments[0]["content_base64"]) == bytes(letter.content)
    with pytest.raises(Conflict):
        referral_record_outcome(actor=act(world.specialist), referral=referral, **outcome)


# --- More information -------------------------------------------------------------------------------------


def test_the_referrer_adds_the_information_asked_for_and_the_hospital_gets_it_again(world):
    referral = make(world)
    triage(world, referral, TriageDecision.REQUEST_INFORMATION, text="Send the resting ECG.")
    added = referral_add_information(
        actor=act(world.nurse), referral=referral, information="Resting ECG: sinus rhythm.", attachments=[]
    )
    assert (added.status, added.version) == (ReferralStatus.NEW, 2)
    assert "Resting ECG: sinus rhythm." in added.clinical_summary
    letters = ReferralDocument.objects.filter(referral=referral, kind=DocumentKind.LETTER)
    assert letters.count() == 2 and "sinus rhythm" in pdf_text(letters.last().content)
    again = OutboundEmail.objects.get(idempotency_key=f"referral:{referral.public_id}:to-hospital:v2")
    assert again.recipient == "h1@nhs.example" and "Further information" in again.subject
    assert base64.b64decode(again.attachments[0]["content_base64"]) == bytes(letters.last().content)


def test_only_the_referring_surgerys_clinicians_add_information_while_it_is_awaiting_triage(world):
    referral = make(world)
    with pytest.raises(NotPermitted):
        referral_add_information(actor=act(world.specialist), referral=referral, information="More")
    with pytest.raises(NotFound):
        referral_add_information(actor=act(world.other_gp), referral=referral, information="More")
    assert denials(world.specialist).exists() and denials(world.other_gp).exists()
    with pytest.raises(Invalid):
        referral_add_information(actor=act(world.gp), referral=referral, information="  ")
    triage(world, referral)
    with pytest.raises(Conflict):
        referral_add_information(actor=act(world.gp), referral=referral, information="More")
    referral.refresh_from_db()
    assert referral.version == 1 and referral.status == ReferralStatus.PENDING


# --- From and to another Carebridge -----------------------------------------------------------------------


def incoming(ubrn="123456789012", version=1, nhs_number=VALID_NHS_NUMBERS[2], born=dt.date(1961, 2, 3), **extra):
    values = {
        "ubrn": ubrn,
        "version": version,
        "referring_facility_code": "S1",
        "receiving_facility_code": "H1",
        "speciality": "Cardiology",
        "priority": "routine",
        "reason": REASON,
        "clinical_summary": SUMMARY,
        "investigations": INVESTIGATIONS,
        "referral_date": clock.today(),
        "referrer_name": "Dr Someone Else",
        "referrer_code": "7654321",
        "patient": IncomingPatient(
            nhs_number=nhs_number,
            nhs_number_verified=True,
            first_name="Dora",
            last_name="Dean",
            date_of_birth=born,
        ),
        "documents": [],
    }
    values.update(extra)
    return IncomingReferral(**values)


def test_a_referral_from_another_carebridge_registers_an_unknown_patient_at_the_referring_surgery(world):
    system = system_of(world.surgery)
    referral, created = referral_receive(actor=act(system), incoming=incoming())
    assert created and referral.received_from_system and referral.status == ReferralStatus.NEW
    patient = referral.patient
    assert (patient.nhs_number, patient.first_name, patient.registered_surgery) == (
        VALID_NHS_NUMBERS[2],
        "Dora",
        world.surgery,
    )
    assert referral.referring_clinician is None and referral.referrer_name == "Dr Someone Else"
    assert referral.receiving_facility == world.hospital
    assert access_for(world.specialist, patient) is not None  # the hospital may see whom it was sent


def test_a_received_referral_takes_the_hospitals_own_name_for_the_service(world):
    # Otherwise the worklist would list "cardiology" beside "Cardiology" as two services.
    system = system_of(world.surgery)
    referral, _created = referral_receive(actor=act(system), incoming=incoming(speciality=" cardiology"))
    assert referral.speciality == "Cardiology"
    assert referral_worklist(actor=act(world.specialist))[1] == ["Cardiology"]


def test_a_known_nhs_number_with_the_same_birth_date_is_matched_and_any_other_refused(world):
    system = system_of(world.surgery)
    alice_number, alice_born = world.alice.nhs_number, world.alice.date_of_birth
    referral, _created = referral_receive(
        actor=act(system), incoming=incoming(nhs_number=alice_number, born=alice_born)
    )
    assert referral.patient == world.alice
    for problem in (
        {"ubrn": "223456789012", "nhs_number": alice_number, "born": dt.date(1980, 5, 18)},
        {"ubrn": "323456789012", "nhs_number": ""},
        {"ubrn": "423456789012", "nhs_number": "1234567890"},  # fails the check digit
    ):
        with pytest.raises(Invalid) as refused:
            referral_receive(actor=act(system), incoming=incoming(**problem))
        assert "patient" in refused.value.fields
    assert Patient.objects.count() == 3 and Referral.objects.count() == 2


def test_an_nhs_number_the_sender_has_not_verified_is_refused_on_both_sides(world):
    # The hospital matches by verified NHS number: an unverified one could join the wrong records.
    system = system_of(world.surgery)
    unverified = IncomingPatient(
        nhs_number=VALID_NHS_NUMBERS[2],
        nhs_number_verified=False,
        first_name="Dora",
        last_name="Dean",
        date_of_birth=dt.date(1961, 2, 3),
    )
    with pytest.raises(Invalid) as refused:
        referral_receive(actor=act(system), incoming=incoming(patient=unverified))
    assert "verified NHS number" in refused.value.fields["patient"]
    # And the surgery cannot make such a referral in the first place.
    Patient.objects.filter(pk=world.alice.pk).update(nhs_number_verified=False)
    world.alice.refresh_from_db()
    with pytest.raises(Invalid) as refused:
        make(world)
    assert "trace it before referring" in refused.value.fields["patient"]
    assert Referral.objects.filter(received_from_system=True).count() == 0


def test_the_same_ubrn_again_changes_nothing_unless_it_is_newer(world):
    system = system_of(world.surgery)
    first, created = referral_receive(actor=act(system), incoming=incoming())
    assert created
    again, created = referral_receive(actor=act(system), incoming=incoming(reason="Something else"))
    assert (again.pk, created, again.reason) == (first.pk, False, REASON)
    triage(world, first, TriageDecision.REQUEST_INFORMATION, text="Send the ECG.")
    newer, created = referral_receive(
        actor=act(system), incoming=incoming(version=2, clinical_summary=SUMMARY + " ECG: sinus rhythm.")
    )
    assert (newer.pk, created, newer.version, newer.status) == (first.pk, False, 2, ReferralStatus.NEW)
    assert newer.clinical_summary.endswith("sinus rhythm.")
    older, _created = referral_receive(actor=act(system), incoming=incoming(version=1, clinical_summary="Old"))
    assert older.clinical_summary.endswith("sinus rhythm.") and older.version == 2
    assert Referral.objects.filter(ubrn="123456789012").count() == 1


def test_only_the_referring_organisations_own_system_delivers_its_referrals(world):
    other_system = system_of(world.other_surgery)
    with pytest.raises(NotPermitted):
        referral_receive(actor=act(other_system), incoming=incoming())
    assert denials(other_system).get().detail["operation"] == "referral_receive"
    with pytest.raises(NotPermitted):
        referral_receive(actor=act(world.gp), incoming=incoming())
    assert denials(world.gp).exists()
    assert not Referral.objects.filter(ubrn="123456789012").exists()


def test_the_hospitals_progress_is_taken_by_version(world):
    referral = make(world)
    system = system_of(world.hospital)
    accepted = referral_status_receive(
        actor=act(system), update=IncomingStatus(ubrn=referral.ubrn, task_version=2, task_status="accepted")
    )
    assert (accepted.status, accepted.task_version) == (ReferralStatus.PENDING, 2)
    late = referral_status_receive(
        actor=act(system),
        update=IncomingStatus(ubrn=referral.ubrn, task_version=1, task_status="on-hold", status_reason="ECG?"),
    )
    assert (late.status, late.task_version, late.status_reason) == (ReferralStatus.PENDING, 2, "")
    returned = referral_status_receive(
        actor=act(system),
        update=IncomingStatus(
            ubrn=referral.ubrn,
            task_version=3,
            task_status="completed",
            business_status="returned to referrer with advice",
            status_reason="Start a statin.",
        ),
    )
    assert (returned.status, returned.status_reason) == (ReferralStatus.RETURNED, "Start a statin.")
    assert returned.completed_at == clock.now()


def test_a_status_report_is_refused_for_an_unknown_ubrn_an_unknown_status_or_the_wrong_system(world):
    referral = make(world)
    system = system_of(world.hospital)
    with pytest.raises(NotFound):
        referral_status_receive(
            actor=act(system), update=IncomingStatus(ubrn="999999999999", task_version=1, task_status="accepted")
        )
    with pytest.raises(Invalid) as refused:
        referral_status_receive(
            actor=act(system), update=IncomingStatus(ubrn=referral.ubrn, task_version=1, task_status="draft")
        )
    assert "status" in refused.value.fields
    wrong = system_of(world.other_hospital)
    with pytest.raises(NotPermitted):
        referral_status_receive(
            actor=act(wrong), update=IncomingStatus(ubrn=referral.ubrn, task_version=1, task_status="accepted")
        )
    assert denials(wrong).exists()
    with pytest.raises(NotPermitted):
        referral_status_receive(
            actor=act(world.specialist),
            update=IncomingStatus(ubrn=referral.ubrn, task_version=1, task_status="accepted"),
        )
    referral.refresh_from_db()
    assert (referral.status, referral.task_version) == (ReferralStatus.NEW, 0)


def test_a_connected_system_sees_no_patient(world):
    system = system_of(world.surgery)
    referral_receive(
        actor=act(system), incoming=incoming(nhs_number=world.alice.nhs_number, born=world.alice.date_of_birth)
    )
    assert access_for(system, world.alice) is None
    assert not visible_patients(Patient.objects.all(), system).exists()
    with pytest.raises(NotFound):
        referral_for(actor=act(system), public_id=world.alice_referral.public_id)


# --- Reading ------------------------------------------------------------------------------------------------


def test_reception_sees_the_administrative_facts_and_the_patient_no_internal_notes(world):
    referral = triage(world, make(world, priority="routine"), priority="urgent", comment="Family history")
    Referral.objects.filter(pk=referral.pk).update(notes="Internal: discussed at MDT")

    seen, access = referral_for(actor=act(world.reception), public_id=referral.public_id)
    assert not access.sees_clinical
    assert (seen.ubrn, seen.priority, seen.status) == (referral.ubrn, "urgent", ReferralStatus.PENDING)
    assert (seen.reason, seen.clinical_summary, seen.requested_investigations) == ("", "", [])
    assert (seen.triage_comment, seen.notes, seen.outcome) == ("", "", "")

    own, _access = referral_for(actor=act(world.alice_user), public_id=referral.public_id)
    assert own.reason == REASON and (own.triage_comment, own.notes) == ("", "")

    full, _access = referral_for(actor=act(world.gp), public_id=referral.public_id)
    assert (full.triage_comment, full.notes) == ("Family history", "Internal: discussed at MDT")
    with pytest.raises(RuntimeError):
        seen.save()  # a cut copy never overwrites the clinical content


def test_a_referral_outside_ones_care_is_not_found_and_audited(world):
    with pytest.raises(NotFound):
        referral_for(actor=act(world.other_gp), public_id=world.alice_referral.public_id)
    assert denials(world.other_gp).get().patient_id == world.alice.pk


def test_the_worklist_puts_the_most_urgent_and_the_longest_waiting_first_and_flags_breaches(world):
    two_week_wait = make(world, priority="two_week_wait")
    recent_routine = make(world, priority="routine")
    old_routine = make(world, priority="routine")
    breached_routine = make(world, priority="routine")
    dermatology = make(world, priority="routine", speciality="Dermatology")
    # The service dates each referral today; an older one is made by moving its date back, as a
    # referral received from another system carries the date it was made there.
    Referral.objects.filter(pk=old_routine.pk).update(referral_date=clock.today() - dt.timedelta(days=126))
    Referral.objects.filter(pk=breached_routine.pk).update(referral_date=clock.today() - dt.timedelta(days=127))
    closed = triage(world, make(world, priority="urgent"), TriageDecision.REJECT, text="Not cardiac")

    referrals, services = referral_worklist(actor=act(world.specialist), speciality="Cardiology")

    assert services == ["Cardiology", "Dermatology"]
    assert [referral.pk for referral in referrals] == [
        two_week_wait.pk,
        world.alice_referral.pk,  # urgent, from the world
        breached_routine.pk,
        old_routine.pk,
        recent_routine.pk,
    ]
    assert closed.pk not in {referral.pk for referral in referrals} and dermatology.pk not in {
        referral.pk for referral in referrals
    }
    assert [referral.is_breached for referral in referrals] == [False, False, True, False, False]
    assert referrals[2].wait_days == 127 and referrals[3].wait_days == 126

    seen_by_reception, _services = referral_worklist(actor=act(world.hospital_reception))
    assert len(seen_by_reception) == 6 and all(referral.reason == "" for referral in seen_by_reception)


@pytest.mark.parametrize("name", ["gp", "reception"])
def test_there_is_no_worklist_outside_a_hospital(world, name):
    user = getattr(world, name)
    with pytest.raises(NotFound):
        referral_worklist(actor=act(user))
    assert denials(user, AuditObject.REFERRAL_WORKLIST).exists()


def test_the_pack_is_for_clinicians_only(alice_with_history):
    world = alice_with_history
    referral = make(world)
    pack = referral_pack_for(actor=act(world.specialist), public_id=referral.public_id)
    assert [medicine.medication_name for medicine in pack.medicines] == ["Simvastatin"]
    assert [allergy.display for allergy in pack.allergies] == ["Elastoplast adhesive"]
    assert [problem.display for problem in pack.problems] == ["Asthma"]
    assert [document.kind for document in pack.documents] == [DocumentKind.LETTER]
    with pytest.raises(NotFound):
        referral_pack_for(actor=act(world.hospital_reception), public_id=referral.public_id)
    denial = denials(world.hospital_reception).get()
    assert denial.detail["purpose"] == "referral pack" and denial.patient_id == world.alice.pk


def test_the_deliveries_list_each_channel(world):
    facility_endpoint_set(
        actor=act(world.admin), facility=world.hospital, fhir_base="http://127.0.0.1:9/fhir", token="token-1"
    )
    referral = make(world)
    rows = referral_deliveries(referral)
    assert sorted(row.channel for row in rows) == ["Electronic record", "Email"]
    assert all(row.status == "pending" and row.sent_at is None for row in rows)
    [fhir] = OutboundFhir.objects.filter(object_id=str(referral.public_id))
    assert fhir.idempotency_key.endswith(":v1") and fhir.until_given_up


def test_through_a_real_mail_server_the_letter_arrives_whole_and_the_patient_reads_no_clinical_word(
    alice_with_history, mail_server
):
    world = alice_with_history
    referral = make(world, priority="two_week_wait")

    assert run_queued_mail() == ["sent", "sent"]

    by_recipient = {message["To"]: message for message in mail_server.messages}
    to_hospital = by_recipient["h1@nhs.example"]
    assert formatted_ubrn(referral.ubrn) in to_hospital["Subject"]
    [attached] = attachments_of(to_hospital)
    letter = ReferralDocument.objects.get(referral=referral, kind=DocumentKind.LETTER)
    assert attached.get_filename() == letter.filename
    assert attached.get_payload(decode=True) == bytes(letter.content)
    to_patient = by_recipient[ALICE_EMAIL]
    assert not attachments_of(to_patient)
    words = f"{to_patient['Subject']}\n{body_of(to_patient)}".lower()
    for word in (REASON, "cardiology", "two-week", "urgent", "simvastatin", "asthma", *INVESTIGATIONS):
        assert word.lower() not in words, word
