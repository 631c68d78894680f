"""The emails a referral sends: to the receiving hospital's referral inbox (the letter attached), to the
patient (that a referral was made, with no clinical word in it), and back to the surgery (the clinic
letter). Queued in the caller's transaction (carebridge.delivery), retried until sent or given up.

Each message's key names the referral and the version of what it carries, so a change sends a new
message once, and the same change asked for twice sends one.
"""

import base64
from collections.abc import Iterable

from carebridge.delivery.services import email_enqueue, email_is_valid_address
from carebridge.referrals.letter import formatted_ubrn
from carebridge.referrals.models import DocumentKind, Referral, ReferralDocument


def _attachment(document: ReferralDocument) -> dict[str, str]:
    return {
        "filename": document.filename,
        "content_type": document.content_type,
        "content_base64": base64.b64encode(bytes(document.content)).decode("ascii"),
    }


def referral_to_hospital(referral: Referral, documents: Iterable[ReferralDocument], *, update: bool) -> None:
    """The referral (or its further information) to the receiving facility's referral inbox."""
    hospital = referral.receiving_facility
    address = hospital.referral_address
    if not email_is_valid_address(address):
        return
    ubrn = formatted_ubrn(referral.ubrn or "")
    what = "Further information for referral" if update else "Referral"
    lines = [
        f"{what} {ubrn} from {referral.referring_facility.name}.",
        "",
        f"Service: {referral.speciality or 'not named'}",
        f"Priority: {referral.get_priority_display()}",
        f"Referred by: {referral.referrer_display}",
        "",
        "The referral letter is attached, with any documents the referrer sent. The letter holds the patient's",
        "details, the reason for referral, the clinical summary, current medicines, allergies and problems.",
        "",
        "This message contains confidential patient information. If it has reached you in error, tell the",
        f"sender ({referral.referring_facility.name}) and delete it.",
    ]
    email_enqueue(
        recipient=address,
        subject=f"{what} {ubrn}: {referral.get_priority_display()}",
        body="\n".join(lines),
        idempotency_key=f"referral:{referral.public_id}:to-hospital:v{referral.version}",
        attachments=[_attachment(document) for document in documents],
        patient_id=referral.patient_id,
        until_given_up=True,
    )


def referral_to_patient(referral: Referral) -> None:
    """That a referral was made. No reason, service, priority or hospital service: a message on a shared
    screen or a family inbox must not say what is being looked into."""
    patient = referral.patient
    if not email_is_valid_address(patient.email):
        return
    lines = [
        f"Dear {patient.first_name} {patient.last_name},",
        "",
        f"{referral.referring_facility.name} has referred you to {referral.receiving_facility.name}.",
        f"Your referral reference is {formatted_ubrn(referral.ubrn or '')}.",
        "",
        "The hospital will contact you to offer an appointment. You can follow your referral when you sign in",
        "to Carebridge. If you have questions about it, contact your GP surgery.",
    ]
    email_enqueue(
        recipient=patient.email,
        subject="You have been referred to a hospital",
        body="\n".join(lines),
        idempotency_key=f"referral:{referral.public_id}:to-patient:made",
        patient_id=patient.pk,
        until_given_up=True,
    )


def clinic_letter_to_surgery(referral: Referral, letter: ReferralDocument) -> None:
    """The consultant's clinic letter back to the referring surgery's inbox."""
    surgery = referral.referring_facility
    address = surgery.referral_address
    if not email_is_valid_address(address):
        return
    ubrn = formatted_ubrn(referral.ubrn or "")
    lines = [
        f"Clinic letter for referral {ubrn}, from {referral.receiving_facility.name}.",
        "",
        f"Referred by: {referral.referrer_display}",
        "",
        "The letter is attached. This message contains confidential patient information. If it has reached",
        f"you in error, tell the sender ({referral.receiving_facility.name}) and delete it.",
    ]
    email_enqueue(
        recipient=address,
        subject=f"Clinic letter for referral {ubrn}",
        body="\n".join(lines),
        idempotency_key=f"referral:{referral.public_id}:clinic-letter:{letter.sha256[:16]}",
        attachments=[_attachment(letter)],
        patient_id=referral.patient_id,
        until_given_up=True,
    )


def letters_and_attachments(referral: Referral) -> list[ReferralDocument]:
    """What travels with the referral: its latest letter and every attachment."""
    documents = list(referral.documents.exclude(kind=DocumentKind.CLINIC_LETTER))
    letters = [document for document in documents if document.kind == DocumentKind.LETTER]
    attachments = [document for document in documents if document.kind == DocumentKind.ATTACHMENT]
    return letters[-1:] + attachments
