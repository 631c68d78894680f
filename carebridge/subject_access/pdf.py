"""The subject access copy: a patient's whole record as an A4 PDF a person can read.

Drawn on the referral letter's page (referrals.letter.LetterPDF): the same fonts, headings and
identifying footer on every page, with the request's reference where a letter has its UBRN. Every list
says "None recorded" when empty, never that there is none of a thing. Dates read as people say them
("Monday 30 November 2026"), times in UK time.
"""

import datetime as dt

from carebridge.audit.models import AuditEvent
from carebridge.core import clock
from carebridge.prescribing.models import Prescription
from carebridge.referrals.letter import LetterPatient, LetterPDF, formatted_ubrn
from carebridge.subject_access.contents import WholeRecord


def long_day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def long_moment(moment: dt.datetime) -> str:
    local = moment.astimezone(clock.LONDON)
    return f"{long_day(local.date())} at {local:%H:%M}"


def _day_of(moment: dt.datetime) -> str:
    return long_day(moment.astimezone(clock.LONDON).date())


def _joined(*parts: str) -> str:
    return ", ".join(part.strip() for part in parts if part and part.strip())


def _letter_patient(record: WholeRecord) -> LetterPatient:
    patient = record.patient
    return LetterPatient(
        full_name=patient.full_name,
        date_of_birth=patient.date_of_birth,
        nhs_number=patient.nhs_number_display or "not known",
        gender=patient.get_gender_display(),
        address=patient.address,
        postcode=patient.postcode,
        phone=patient.phone_number,
        email=patient.email,
    )


def _who(event: AuditEvent) -> str:
    name = event.actor.get_full_name() if event.actor else ""
    return _joined(name or event.actor_label, event.role_label)


def whole_record_pdf(record: WholeRecord, *, reference: str, produced_at: dt.datetime) -> bytes:
    """The copy of `record`, dated `produced_at` (never the clock, so the same copy is the same bytes)."""
    patient = record.patient
    produced_on = produced_at.astimezone(clock.LONDON).date()
    pdf = LetterPDF(
        title=f"Health record of {patient.full_name}",
        ubrn="",
        patient=_letter_patient(record),
        date=produced_on,
        reference=f"Subject access request {reference}",
    )
    pdf.paragraph("Your health record", size=20, style="B")
    pdf.paragraph(
        f"A copy of everything {patient.registered_surgery.name} holds about you in Carebridge, produced on "
        f"{long_day(produced_on)} in answer to your subject access request {reference}."
    )
    pdf.patient(_letter_patient(record), produced_on)
    pdf.heading("Registration")
    pdf.facts(
        (
            ("GP surgery", _joined(patient.registered_surgery.name, patient.registered_surgery.address)),
            ("Registered since", long_day(patient.registration_date)),
            ("NHS number", "Verified" if patient.nhs_number_verified else "Not verified"),
            ("Emergency contact", _joined(patient.emergency_contact_name, patient.emergency_contact_phone)),
            ("Pharmacy", patient.nominated_pharmacy),
        )
    )

    pdf.heading("Appointments")
    if not record.appointments:
        pdf.paragraph("None recorded")
    for appointment in record.appointments:
        pdf.paragraph(
            f"{long_moment(appointment.starts_at)}: {appointment.appointment_type} with "
            f"{appointment.clinician.display_name} at {appointment.facility.name}",
            style="B",
        )
        pdf.facts(
            (
                ("Status", appointment.status_words),
                ("Reason", appointment.reason_for_visit),
                ("Notes", appointment.notes),
                *((("Arrived", long_moment(appointment.arrived_at)),) if appointment.arrived_at else ()),
                *((("Cancelled because", appointment.cancellation_reason),) if appointment.cancellation_reason else ()),
                *((("Outcome", appointment.outcome_note),) if appointment.outcome_note else ()),
            )
        )
        pdf.ln(2)

    pdf.heading("Consultations")
    if not record.consultations:
        pdf.paragraph("None recorded")
    for consultation in record.consultations:
        pdf.paragraph(
            f"{long_moment(consultation.started_at)}: {consultation.clinician.display_name} at "
            f"{consultation.facility.name}",
            style="B",
        )
        pdf.facts(
            (
                ("What you said", consultation.symptoms),
                ("Examination", consultation.findings),
                ("Assessment", consultation.assessment),
                ("Plan", consultation.plan),
                ("Problem", consultation.condition.display if consultation.condition else ""),
            )
        )
        pdf.ln(2)

    pdf.items(
        "Problems (diagnoses)",
        [
            f"{condition.display} ({condition.get_status_display().lower()}), recorded "
            f"{long_day(condition.recorded_at.astimezone(clock.LONDON).date())} by {condition.recorded_by.display_name}"
            for condition in record.conditions
        ],
        if_empty="None recorded",
    )
    pdf.items(
        "Allergies",
        [
            f"{allergy.display}: {allergy.reaction or 'reaction not recorded'} "
            f"({allergy.get_severity_display().lower()}), recorded {_day_of(allergy.recorded_at)} "
            f"by {allergy.recorded_by.display_name}"
            for allergy in record.allergies
        ],
        if_empty="None recorded",
    )
    pdf.items(
        "Medicines and prescriptions",
        [_prescription_line(prescription) for prescription in record.prescriptions],
        if_empty="None recorded",
    )
    pdf.items(
        "Repeat prescription requests",
        [
            _joined(
                f"{long_moment(request.requested_at)}: {request.prescription.medication_name}",
                request.get_status_display(),
                f"decided by {request.decided_by.display_name}" if request.decided_by else "",
                request.note,
            )
            for request in record.repeat_requests
        ],
        if_empty="None recorded",
    )

    pdf.heading("Referrals")
    if not record.referrals:
        pdf.paragraph("None recorded")
    for referral in record.referrals:
        pdf.paragraph(
            f"{long_day(referral.referral_date)}: {referral.speciality or 'Referral'} at "
            f"{referral.receiving_facility.name} ({referral.get_priority_display()})",
            style="B",
        )
        pdf.facts(
            (
                ("Referred by", _joined(referral.referrer_display, referral.referring_facility.name)),
                ("To", referral.receiving_clinician.display_name if referral.receiving_clinician else ""),
                ("Status", referral.patient_words),
                ("Booking reference", formatted_ubrn(referral.ubrn) if referral.ubrn else ""),
                ("Reason", referral.reason),
                ("Clinical summary", referral.clinical_summary),
                ("Tests asked for", ", ".join(referral.requested_investigations or [])),
                ("Outcome", referral.outcome),
            )
        )
        history = [
            _joined(f"{long_moment(event.at)}: {event.words}", event.by, event.comment)
            for event in referral.events.all()
        ]
        documents = [
            f"{document.filename} ({document.get_kind_display().lower()}, "
            f"{long_day(document.created_at.astimezone(clock.LONDON).date())})"
            for document in referral.documents.all()
        ]
        pdf.items("History of this referral", history, if_empty="None recorded")
        pdf.items("Letters and documents", documents, if_empty="None")
        pdf.ln(2)

    pdf.items(
        "Who has looked at or changed your record",
        [
            _joined(
                f"{long_moment(event.at)}: {_who(event)}",
                f"{event.get_action_display()} ({event.get_object_type_display().lower()})",
                f"reason given: {event.reason}" if event.reason else "",
            )
            for event in record.access_log
        ],
        if_empty="No one has looked at your record",
    )
    return bytes(pdf.output())


def _prescription_line(prescription: Prescription) -> str:
    line = _joined(
        f"{prescription.medication_name} {prescription.dose_display}, {prescription.frequency.lower()} "
        f"for {prescription.duration_days} days ({prescription.quantity_display})",
        f"prescribed {long_day(prescription.prescribed_on)} by {prescription.prescriber.display_name}",
        prescription.get_course_display(),
        prescription.get_status_display().lower(),
        prescription.instructions,
        f"cancelled: {prescription.cancellation_reason}" if prescription.cancellation_reason else "",
    )
    overrides = [
        f"warning overridden: {override.message} (reason: {override.reason})"
        for override in prescription.overrides.all()
    ]
    return "; ".join([line, *overrides])
