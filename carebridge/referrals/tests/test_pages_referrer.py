"""The referrer's, the patient's and the system administrator's referral pages: a GP refers from a
consultation (with a real PDF), refusals come back on the form by field, each viewer sees the referral
cut to what they may see, documents download only for clinicians, delivery shows per channel, and the
administrator connects systems and gives up messages; everyone refused is refused with an audit row."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from fpdf import FPDF

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical import services as clinical
from carebridge.core.actor import Actor
from carebridge.delivery.models import EmailStatus, OutboundEmail, RemoteEndpoint
from carebridge.delivery.tests.mail_testing import (  # noqa: F401 (mail_server is a fixture)
    Inbox,
    MailServer,
    free_port,
    mail_server,
    point_mail_at,
    run_queued_mail,
)
from carebridge.organisations.services import facility_endpoint
from carebridge.referrals import services
from carebridge.referrals.letter import formatted_ubrn
from carebridge.referrals.models import DocumentKind, Referral, ReferralDocument, ReferralStatus
from carebridge.referrals.services import TriageDecision

REASON = "Palpitations with presyncope, ?arrhythmia"
SYMPTOMS = "Palpitations on climbing stairs for three weeks"
FINDINGS = "Irregular pulse 110"


def small_pdf() -> bytes:
    """A real one-page PDF, as a scanner or a results system would produce."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="ECG: atrial fibrillation, rate 110")
    return bytes(pdf.output())


@pytest.fixture
def consulted(world):
    """The GP has seen Alice for palpitations."""
    return clinical.consultation_record(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        symptoms=SYMPTOMS,
        findings=FINDINGS,
        assessment="Possible atrial fibrillation",
        plan="Refer to cardiology",
    )


def _refer_url(patient, consultation=None) -> str:
    url = reverse("referrals:new", args=[patient.public_id])
    return f"{url}?consultation={consultation.public_id}" if consultation else url


def _service(world, speciality="Cardiology") -> str:
    return f"{world.hospital.public_id}|{speciality}"


def _form(world, consulted, **fields):
    return {
        "consultation": str(consulted.public_id),
        "service": _service(world),
        "receiving_clinician": str(world.specialist.clinician.public_id),
        "priority": "urgent",
        "reason": REASON,
        "clinical_summary": f"{SYMPTOMS}. {FINDINGS}.",
        "investigations": "ECG\n\n24-hour tape\n",
        **fields,
    }


def _made(world, consulted=None) -> Referral:
    return services.referral_make(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        receiving_facility=world.hospital,
        speciality="Cardiology",
        priority="routine",
        reason=REASON,
        clinical_summary="Three weeks of palpitations.",
        investigations=["ECG"],
        attachments=[services.Upload(filename="ecg.pdf", content=small_pdf())],
        consultation=consulted,
    )


def _denied(user, object_type, **fields) -> bool:
    return AuditEvent.objects.filter(action=AuditAction.DENY, actor=user, object_type=object_type, **fields).exists()


# --- Making a referral ----------------------------------------------------------------------------------


def test_the_consultation_and_the_record_offer_a_referral_to_a_gp_only(world, consulted, client_for):
    gp = client_for(world.gp)
    consultation_page = gp.get(reverse("clinical:consultation", args=[consulted.public_id])).content.decode()
    assert _refer_url(world.alice, consulted).replace("&", "&amp;") in consultation_page
    record = gp.get(reverse("records:record", args=[world.alice.public_id])).content.decode()
    assert reverse("referrals:new", args=[world.alice.public_id]) in record
    # A hospital consultant who may see Alice's record refers nobody from it.
    specialist_record = client_for(world.specialist).get(reverse("records:record", args=[world.alice.public_id]))
    assert specialist_record.status_code == 200
    assert reverse("referrals:new", args=[world.alice.public_id]) not in specialist_record.content.decode()


def test_a_gp_refers_from_a_consultation_with_a_pdf_and_the_hospital_email_is_queued(world, consulted, client_for):
    gp = client_for(world.gp)
    form = gp.get(_refer_url(world.alice, consulted))
    assert form.status_code == 200
    page = form.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert SYMPTOMS in page and FINDINGS in page  # the summary starts from the consultation
    assert "Heartlands Hospital — Cardiology" in page and "Riverside Hospital — Neurology" in page

    pdf = small_pdf()
    attachment = SimpleUploadedFile("ECG 30.11.pdf", pdf, content_type="application/pdf")
    response = gp.post(_refer_url(world.alice), _form(world, consulted, attachments=[attachment]))

    made = Referral.objects.exclude(pk=world.alice_referral.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral", args=[made.public_id])
    assert (made.speciality, made.priority, made.receiving_clinician) == (
        "Cardiology",
        "urgent",
        world.specialist.clinician,
    )
    assert made.requested_investigations == ["ECG", "24-hour tape"]
    assert made.status == ReferralStatus.NEW and len(made.ubrn) == 12
    attachments = ReferralDocument.objects.filter(referral=made, kind=DocumentKind.ATTACHMENT)
    assert [(doc.filename, doc.content_type) for doc in attachments] == [("ECG 30.11.pdf", "application/pdf")]
    assert bytes(attachments[0].content) == pdf
    to_hospital = OutboundEmail.objects.get(idempotency_key=f"referral:{made.public_id}:to-hospital:v1")
    assert to_hospital.recipient == world.hospital.referral_address
    assert formatted_ubrn(made.ubrn) in to_hospital.subject
    assert to_hospital.status == EmailStatus.PENDING

    shown = gp.get(response["Location"])
    banner = shown.content.decode()
    assert f"reference (UBRN) is {formatted_ubrn(made.ubrn)}" in banner
    assert REASON in banner
    assert reverse("referrals:document", args=[attachments[0].public_id]) in banner


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reason": "  "}, "reason", "Give the reason for referral."),
        ({"service": ""}, "service", "Choose the hospital service to refer to."),
        (
            {"attachments": [SimpleUploadedFile("big scan.pdf", b"%PDF-1.4\n".ljust(6 * 1024 * 1024, b"0"))]},
            "attachments",
            "big scan.pdf is 6.0 MB; attachments can be at most 5 MB.",
        ),
        (
            {"attachments": [SimpleUploadedFile("scan.pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 4000)]},
            "attachments",
            "scan.pdf is not a PDF or an image: attach a PDF, PNG or JPEG.",
        ),
        (
            # A consultant at another hospital: the service's own refusal, shown beside the field.
            {"receiving_clinician": "OTHER"},
            "receiving_clinician",
            "Dr. Olu Ade does not work at Heartlands Hospital.",
        ),
    ],
)
def test_a_refused_referral_comes_back_naming_the_field_and_nothing_is_kept(
    world, consulted, client_for, change, field, message
):
    if change.get("receiving_clinician") == "OTHER":
        change = {"receiving_clinician": str(world.other_specialist.clinician.public_id)}
    before = (Referral.objects.count(), OutboundEmail.objects.count(), ReferralDocument.objects.count())
    response = client_for(world.gp).post(_refer_url(world.alice), _form(world, consulted, **change))
    assert response.status_code == 422
    page = response.content.decode()
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert message.split(";")[0] in page  # in the summary and beside the field
    assert f'href="#id_{field}"' in page
    assert (Referral.objects.count(), OutboundEmail.objects.count(), ReferralDocument.objects.count()) == before


def test_every_problem_is_named_at_once(world, consulted, client_for):
    elf = SimpleUploadedFile("scan.pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 4000)
    response = client_for(world.gp).post(
        _refer_url(world.alice), _form(world, consulted, reason="", priority="", attachments=[elf])
    )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"reason", "priority", "attachments"}
    assert "Choose the files again" in response.content.decode()
    assert not Referral.objects.exclude(pk=world.alice_referral.pk).exists()


def test_a_consultation_of_another_patient_is_not_found(world, client_for):
    carols = clinical.consultation_record(actor=Actor.command_line(world.gp), patient=world.carol, symptoms="Cough")
    response = client_for(world.gp).get(_refer_url(world.alice, carols))
    assert response.status_code == 404
    assert _denied(world.gp, AuditObject.CONSULTATION, object_id=str(carols.public_id))


def test_a_surgery_receptionist_may_not_open_the_referral_form(world, client_for):
    response = client_for(world.reception).get(_refer_url(world.alice))
    assert response.status_code == 403
    assert _denied(world.reception, AuditObject.REFERRAL, patient_id=world.alice.pk)


# --- The referral's page, for each viewer ---------------------------------------------------------------


def test_reception_at_the_surgery_sees_the_administrative_facts_only(world, client_for):
    made = _made(world)
    response = client_for(world.reception).get(reverse("referrals:referral", args=[made.public_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert formatted_ubrn(made.ubrn) in page and "Awaiting triage" in page and "Heartlands Hospital" in page
    assert REASON not in page and "Three weeks of palpitations" not in page
    assert "/referrals/documents/" not in page
    assert 'data-testid="add-information"' not in page and 'data-testid="triage"' not in page
    # And the document itself is not theirs, however they come by its address.
    letter = made.documents.get(kind=DocumentKind.LETTER)
    refused = client_for(world.reception).get(reverse("referrals:document", args=[letter.public_id]))
    assert refused.status_code == 404
    assert _denied(world.reception, AuditObject.REFERRAL, object_id=str(letter.public_id))


def test_a_gp_at_another_surgery_finds_no_referral(world, client_for):
    made = _made(world)
    response = client_for(world.other_gp).get(reverse("referrals:referral", args=[made.public_id]))
    assert response.status_code == 404
    assert _denied(world.other_gp, AuditObject.REFERRAL, object_id=str(made.public_id))


def test_the_gp_downloads_a_document_as_a_file_of_its_checked_type(world, client_for):
    made = _made(world)
    attachment = made.documents.get(kind=DocumentKind.ATTACHMENT)
    response = client_for(world.gp).get(reverse("referrals:document", args=[attachment.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="ecg.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"%PDF-") and response.content == bytes(attachment.content)


def test_the_gp_sees_the_buttons_the_rules_allow(world, client_for):
    made = _made(world)
    gp_page = client_for(world.gp).get(reverse("referrals:referral", args=[made.public_id])).content.decode()
    assert 'data-testid="add-information"' in gp_page
    assert 'data-testid="triage"' not in gp_page and 'data-testid="book"' not in gp_page
    hospital_page = client_for(world.specialist).get(reverse("referrals:referral", args=[made.public_id]))
    assert 'data-testid="triage"' in hospital_page.content.decode()
    assert 'data-testid="add-information"' not in hospital_page.content.decode()


def test_the_gp_answers_a_request_for_information(world, client_for):
    made = _made(world)
    services.referral_triage(
        actor=Actor.command_line(world.specialist),
        referral=made,
        decision=TriageDecision.REQUEST_INFORMATION,
        text="Please send the latest thyroid function.",
    )
    gp = client_for(world.gp)
    page = gp.get(reverse("referrals:referral", args=[made.public_id])).content.decode()
    assert "Information requested" in page and "Please send the latest thyroid function." in page
    url = reverse("referrals:add_information", args=[made.public_id])
    assert gp.post(url, {"information": "  "}).status_code == 422
    response = gp.post(url, {"information": "TSH 1.2 on 20 November."})
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.status == ReferralStatus.NEW and "TSH 1.2 on 20 November." in made.clinical_summary
    assert made.version == 2


def test_the_patient_reads_their_referrals_in_plain_words_without_the_hospital_s_notes(world, consulted, client_for):
    made = _made(world, consulted)
    services.referral_triage(
        actor=Actor.command_line(world.specialist),
        referral=made,
        decision=TriageDecision.REJECT,
        text="Benign ectopics on the tape: no cardiology input needed.",
    )
    made.refresh_from_db()
    assert made.notes  # the internal note the page must not show
    alice = client_for(world.alice_user)
    page = alice.get(reverse("referrals:mine")).content.decode()
    assert "Not accepted by the hospital: your GP will explain why" in page
    assert "Cardiology at Heartlands Hospital" in page
    assert "Benign ectopics" not in page and made.notes not in page and REASON not in page
    # The world's booked referral shows its appointment.
    appointment = world.alice_referral.appointment
    assert f"{appointment.starts_at:%-d %B %Y}" in page
    # The referral's own page shows her the same plain words, not the staff's view.
    own = alice.get(reverse("referrals:referral", args=[made.public_id])).content.decode()
    assert "Not accepted by the hospital: your GP will explain why" in own
    assert "Benign ectopics" not in own and made.notes not in own and REASON not in own
    # Her navigation leads there.
    assert reverse("referrals:mine") in alice.get(reverse("records:my_record")).content.decode()
    # Staff have no "own referrals".
    assert client_for(world.gp).get(reverse("referrals:mine")).status_code == 404


def test_delivery_shows_per_channel_failing_then_given_up(world, client_for, settings):
    # The mail server turns the hospital's address away for now: the email is retried, and the GP sees why.
    refusing = MailServer(free_port(), Inbox(refuse_recipients_with="451 4.2.0 <h1@nhs.example>: mailbox busy"))
    refusing.start()
    try:
        point_mail_at(settings, refusing.port)
        made = _made(world)
        gp = client_for(world.gp)
        waiting = gp.get(reverse("referrals:referral", args=[made.public_id])).content.decode()
        assert "Waiting to be sent" in waiting
        run_queued_mail()
    finally:
        refusing.stop()
    to_hospital = OutboundEmail.objects.get(idempotency_key=f"referral:{made.public_id}:to-hospital:v1")
    assert to_hospital.status == EmailStatus.PENDING and "mailbox busy" in to_hospital.last_error
    failing = gp.get(reverse("referrals:referral", args=[made.public_id])).content.decode()
    assert "Not delivered yet" in failing and "mailbox busy" in failing and "Next attempt" in failing

    # The administrator sees it waiting, without its address, and gives it up with a reason.
    admin = client_for(world.admin)
    listed = admin.get(reverse("referrals:deliveries")).content.decode()
    assert str(to_hospital.public_id) in listed
    assert "h1@nhs.example" not in listed and "h***@nhs.example" in listed
    assert "Three weeks of palpitations" not in listed and REASON not in listed
    action = reverse("referrals:delivery_action", args=["email", to_hospital.public_id])
    refused = admin.post(action, {"action": "give_up", "reason": " "})
    assert refused.status_code == 422 and "Say why delivery is given up." in refused.content.decode()
    done = admin.post(action, {"action": "give_up", "reason": "Heartlands' mailbox is closed; phoned them instead."})
    assert done.status_code == 302
    to_hospital.refresh_from_db()
    assert to_hospital.status == EmailStatus.GIVEN_UP
    assert AuditEvent.objects.filter(
        actor=world.admin,
        action=AuditAction.UPDATE,
        object_type=AuditObject.DELIVERY,
        object_id=str(to_hospital.public_id),
    ).exists()
    given_up = gp.get(reverse("referrals:referral", args=[made.public_id])).content.decode()
    assert "Given up" in given_up and "phoned them instead" in given_up


def test_a_delivered_referral_shows_sent(world, client_for, mail_server):
    made = _made(world)
    run_queued_mail()
    page = client_for(world.gp).get(reverse("referrals:referral", args=[made.public_id])).content.decode()
    rows = re.findall(r'data-testid="delivery-status">\s*(.*?)</td>', page, re.S)
    assert rows and all("Sent" in row for row in rows)
    assert any(formatted_ubrn(made.ubrn) in message["Subject"] for message in mail_server.messages)


# --- The system administrator ----------------------------------------------------------------------------


def test_the_administrator_sets_a_facility_s_system_and_the_token_is_never_shown(world, client_for):
    admin = client_for(world.admin)
    home = admin.get("/").content.decode()
    assert reverse("referrals:systems") in home and reverse("referrals:deliveries") in home
    url = reverse("referrals:system_endpoint", args=[world.hospital.public_id])
    assert url in admin.get(reverse("referrals:systems")).content.decode()
    token = "cb-heartlands-7f3a9e1d5b"
    refused = admin.post(url, {"fhir_base": "heartlands.example/fhir", "token": token})
    assert refused.status_code == 422
    assert "starting http:// or https://" in refused.content.decode() and token not in refused.content.decode()
    response = admin.post(url, {"fhir_base": "https://heartlands.example/fhir", "token": token}, follow=True)
    assert response.status_code == 200
    endpoint = facility_endpoint(world.hospital)
    assert endpoint is not None and (endpoint.fhir_base, endpoint.token) == ("https://heartlands.example/fhir", token)
    assert token not in response.content.decode() and "https://heartlands.example/fhir" in response.content.decode()
    assert token not in admin.get(url).content.decode()
    audit = AuditEvent.objects.get(
        actor=world.admin, object_type=AuditObject.CONNECTED_SYSTEM, object_id=str(world.hospital.public_id)
    )
    assert audit.action == AuditAction.CREATE and token not in str(audit.detail)
    # Referrals to Heartlands now go to its system too, and the GP sees that channel's delivery.
    made = _made(world)
    page = client_for(world.gp).get(reverse("referrals:referral", args=[made.public_id])).content.decode()
    assert 'data-testid="delivery-fhir"' in page and 'data-testid="delivery-email"' in page
    assert "Heartlands Hospital&#x27;s system" in page or "Heartlands Hospital's system" in page


@pytest.mark.parametrize("name", ["gp", "reception", "manager", "privacy", "alice_user"])
def test_only_the_administrator_reaches_the_systems_and_delivery_pages(world, client_for, name):
    user = getattr(world, name)
    client = client_for(user)
    made = _made(world)
    email = OutboundEmail.objects.filter(idempotency_key__startswith=f"referral:{made.public_id}:").first()
    assert client.get(reverse("referrals:systems")).status_code == 403
    assert client.get(reverse("referrals:deliveries")).status_code == 403
    endpoint_url = reverse("referrals:system_endpoint", args=[world.hospital.public_id])
    assert client.post(endpoint_url, {"fhir_base": "https://x.example/fhir", "token": "t"}).status_code == 403
    action = reverse("referrals:delivery_action", args=["email", email.public_id])
    assert client.post(action, {"action": "give_up", "reason": "Not mine to give up"}).status_code == 403
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING and not RemoteEndpoint.objects.exists()
    assert _denied(user, AuditObject.DELIVERY) and _denied(user, AuditObject.CONNECTED_SYSTEM)
