"""The printable prescription: a real PDF whose text carries what a pharmacist needs to read."""

import io

import pytest
from pypdf import PdfReader

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.prescribing.models import Prescription
from carebridge.prescribing.pdf import prescription_pdf


def _text(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def test_the_pdf_carries_the_patient_prescriber_surgery_and_medicine(world):
    prescription = world.alice_prescription
    Prescription.objects.filter(pk=prescription.pk).update(pharmacy_name="Boots, 12 High Street")
    prescription.refresh_from_db()
    document = prescription_pdf(prescription)
    assert document.startswith(b"%PDF-")
    text = _text(document)
    assert "943 476 5919" in text  # the NHS number, 3-3-4
    assert "Alice Archer" in text and "17 May 1980" in text
    assert "Simvastatin" in text and "20mg" in text and "Once daily" in text and "28 tablets" in text
    assert "Take in the evening" in text and "Boots, 12 High Street" in text
    assert "Dr. Grace Patel, GMC number 1234567" in text
    assert "Oak Tree Surgery" in text and "1 Oak Tree Surgery Road" in text
    assert str(prescription.public_id) in text


def test_a_nurse_prescriber_is_named_with_her_nmc_pin(world):
    world.nurse.clinician.is_prescriber = True
    world.nurse.clinician.save()
    Prescription.objects.filter(pk=world.alice_prescription.pk).update(prescriber=world.nurse.clinician)
    world.alice_prescription.refresh_from_db()
    assert "Nurse Nia Jones, NMC PIN N123456" in _text(prescription_pdf(world.alice_prescription))


def test_a_name_outside_latin_1_still_prints(world):
    world.alice.first_name = "Łucja Zoë"
    world.alice.save()
    world.alice_prescription.refresh_from_db()
    text = _text(prescription_pdf(world.alice_prescription))
    assert "Name Lucja Zoë Archer" in text


def test_the_pdf_page_answers_a_pdf_inline_and_audits_the_read(world, client_for):
    prescription = world.alice_prescription
    response = client_for(world.gp).get(f"/prescribing/{prescription.public_id}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="prescription-{prescription.public_id}.pdf"'
    assert "943 476 5919" in _text(response.content)
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, actor=world.gp, patient_id=world.alice.pk, detail__purpose="print a prescription"
    ).exists()


@pytest.mark.parametrize(
    "who, status",
    [
        ("reception", 404),
        ("bob_user", 404),
        ("other_gp", 404),
        # Printed only by the surgery that issued it: not by the patient, nor a hospital that may see her record.
        ("alice_user", 403),
        ("specialist", 403),
    ],
)
def test_printing_is_refused_and_audited(world, client_for, who, status):
    user = getattr(world, who)
    response = client_for(user).get(f"/prescribing/{world.alice_prescription.public_id}/pdf/")
    assert response.status_code == status
    assert response.get("Content-Type") != "application/pdf"
    if status == 403:
        assert "Prescriptions are printed only by the surgery that issued them." in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.DENY, actor=user, patient_id=world.alice.pk).exists()
